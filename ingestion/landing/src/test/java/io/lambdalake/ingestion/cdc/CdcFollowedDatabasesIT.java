package io.lambdalake.ingestion.cdc;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.config.LakeConfigLoader;
import io.lambdalake.common.kafka.KafkaClientProperties;
import io.lambdalake.common.table.LakeTable;
import io.lambdalake.stack.testing.MariaDbSql;
import io.lambdalake.stack.testing.SharedStack;
import io.lambdalake.stack.testing.TestSpark;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Changing what {@code lake cdc --databases} follows: widening starts the added database from the
 * beginning of its topics, narrowing stops following the dropped one with a message, and neither
 * loses or repeats a change (issue 24 item 6: before, narrowing died with Spark's "Some data may
 * have been lost ... the topic may have been deleted", since the checkpoint held the offsets of
 * every topic it had followed).
 */
@Tag("fault")
class CdcFollowedDatabasesIT {
  @Test
  void wideningThenNarrowingThenWideningLosesAndRepeatsNothing() throws Exception {
    String name = "cf" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    LakeConfig config =
        LakeConfigLoader.load(
            System.getenv(),
            SharedStack.ownLake(name, "lake.topics.cdc-maxwell-prefix", name + ".cdc.maxwell."));
    String first = name + "_a";
    String second = name + "_b";
    try (Connection source = MariaDbSql.connect()) {
      for (String database : List.of(first, second)) {
        MariaDbSql.execute(
            source,
            "CREATE DATABASE " + database,
            "CREATE TABLE " + database + ".items (id INT PRIMARY KEY, name VARCHAR(40))");
      }
    }
    createTopics(config, topic(config, first), topic(config, second));
    SparkSession spark = TestSpark.session();

    send(config, first, 1, 50);
    CdcJob.run(spark, config, options(first), quietly());
    send(config, second, 1, 30);
    assertThat(mirrorIds(spark, config, first)).containsExactlyInAnyOrderElementsOf(ids(1, 50));

    // Widening: the added database starts from the beginning of its topic.
    send(config, first, 51, 70);
    CdcJob.run(spark, config, options(first + "|" + second), quietly());
    assertThat(mirrorIds(spark, config, first)).containsExactlyInAnyOrderElementsOf(ids(1, 70));
    assertThat(mirrorIds(spark, config, second)).containsExactlyInAnyOrderElementsOf(ids(1, 30));

    // Narrowing: the dropped database is no longer followed, and says so.
    send(config, first, 71, 80);
    send(config, second, 31, 40);
    ByteArrayOutputStream progress = new ByteArrayOutputStream();
    CdcJob.run(spark, config, options(first), new PrintStream(progress, true, UTF_8));
    assertThat(mirrorIds(spark, config, first)).containsExactlyInAnyOrderElementsOf(ids(1, 80));
    assertThat(mirrorIds(spark, config, second)).containsExactlyInAnyOrderElementsOf(ids(1, 30));
    assertThat(progress.toString(UTF_8))
        .contains("no longer follows")
        .contains(topic(config, second));

    Dataset<Row> raw =
        spark.read().format("delta").load(LakeTable.RAW_MYSQL_CHANGES.location(config.storage()));
    assertThat(raw.count()).isEqualTo(110);
    assertThat(raw.select("source_topic", "source_partition", "source_offset").distinct().count())
        .isEqualTo(110);

    // Widening again: the dropped database goes on where it stopped, from the offsets the tables
    // recorded for its topic, not from the topic's beginning.
    ByteArrayOutputStream widened = new ByteArrayOutputStream();
    CdcJob.run(spark, config, options(first + "|" + second), new PrintStream(widened, true, UTF_8));
    assertThat(widened.toString(UTF_8)).contains("follows again " + topic(config, second));
    assertThat(mirrorIds(spark, config, second)).containsExactlyInAnyOrderElementsOf(ids(1, 40));
    raw = spark.read().format("delta").load(LakeTable.RAW_MYSQL_CHANGES.location(config.storage()));
    assertThat(raw.count()).isEqualTo(120);
    assertThat(raw.select("source_topic", "source_partition", "source_offset").distinct().count())
        .isEqualTo(120);
  }

  private static CdcJob.Options options(String databases) {
    return new CdcJob.Options(
        CdcJob.Sources.MAXWELL,
        CdcJob.Mode.AVAILABLE_NOW,
        Duration.ofSeconds(1),
        1000,
        databases,
        Duration.ofSeconds(1));
  }

  private static String topic(LakeConfig config, String database) {
    return config.topics().maxwellTopic(database, "items");
  }

  private static List<Integer> ids(int from, int to) {
    return IntStream.rangeClosed(from, to).boxed().toList();
  }

  private static List<Integer> mirrorIds(SparkSession spark, LakeConfig config, String database) {
    return spark
        .read()
        .format("delta")
        .load(config.storage().tableLocation("mirror", database + "__items"))
        .select("id")
        .collectAsList()
        .stream()
        .map(row -> row.getInt(0))
        .toList();
  }

  /** Inserts of ids from..to into the database's items, on one partition as Maxwell sends them. */
  private static void send(LakeConfig config, String database, int from, int to) {
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(KafkaClientProperties.producer(config.kafka(), "cdc-followed-it"))) {
      for (int id = from; id <= to; id++) {
        String change =
            "{\"database\":\""
                + database
                + "\",\"table\":\"items\",\"type\":\"insert\",\"ts\":1764000000,\"xid\":"
                + id
                + ",\"commit\":true,\"position\":\"mariadb-bin.000001:"
                + (1000 + id * 10)
                + "\",\"server_id\":1,\"primary_key\":["
                + id
                + "],\"data\":{\"id\":"
                + id
                + ",\"name\":\"item "
                + id
                + "\"}}";
        producer.send(
            new ProducerRecord<>(topic(config, database), 0, null, change.getBytes(UTF_8)));
      }
      producer.flush();
    }
  }

  private static void createTopics(LakeConfig config, String... topics) throws Exception {
    try (Admin admin =
        Admin.create(KafkaClientProperties.admin(config.kafka(), "cdc-followed-it"))) {
      admin
          .createTopics(List.of(topics).stream().map(t -> new NewTopic(t, 1, (short) 1)).toList())
          .all()
          .get(30, TimeUnit.SECONDS);
    }
  }

  private static PrintStream quietly() {
    return new PrintStream(new ByteArrayOutputStream(), true, UTF_8);
  }
}
