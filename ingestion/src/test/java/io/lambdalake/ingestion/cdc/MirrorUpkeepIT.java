package io.lambdalake.ingestion.cdc;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.apache.spark.sql.functions.col;
import static org.assertj.core.api.Assertions.assertThat;

import io.delta.tables.DeltaTable;
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
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

/**
 * Table upkeep inside the CDC writer: small micro-batches, each a MERGE into the mirror and an
 * append to the raw change log, leave both tables compacted (here once written in 3 batches instead
 * of 100), with every change applied once and the compactions' commits empty in the mirror's change
 * feed.
 */
class MirrorUpkeepIT {
  private static final int CHANGES = 64;
  private static final int PER_BATCH = 8;

  @Test
  void smallBatchesLeaveTheMirrorAndTheRawLogCompactedWithEveryChangeOnce() throws Exception {
    String database = "upkeep" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    String bucket = SharedStack.config().s3().bucket();
    LakeConfig config =
        LakeConfigLoader.load(
            System.getenv(),
            Map.of(
                "lake.storage.root", "s3a://" + bucket + "/" + database + "/warehouse",
                "lake.storage.checkpoints", "s3a://" + bucket + "/" + database + "/checkpoints",
                "lake.cdc.compact-every-batches", "3"));
    try (Connection source = MariaDbSql.connect()) {
      MariaDbSql.execute(
          source,
          "CREATE DATABASE " + database,
          "CREATE TABLE " + database + ".items (id BIGINT PRIMARY KEY, v INT)");
    }
    Map<Long, Integer> expected = produce(config, database);

    SparkSession spark = TestSpark.session();
    CdcJob.run(
        spark,
        config,
        new CdcJob.Options(
            CdcJob.Sources.MAXWELL,
            CdcJob.Mode.AVAILABLE_NOW,
            Duration.ofSeconds(1),
            PER_BATCH,
            database,
            Duration.ofSeconds(30)),
        new PrintStream(new ByteArrayOutputStream(), true, UTF_8));

    String mirror = config.storage().tableLocation("mirror", database + "__items");
    Map<Long, Integer> mirrored = new TreeMap<>();
    for (Row row : spark.read().format("delta").load(mirror).select("id", "v").collectAsList()) {
      mirrored.put(row.getLong(0), row.isNullAt(1) ? null : row.getInt(1));
    }
    assertThat(mirrored).isEqualTo(expected);
    String raw = LakeTable.RAW_MYSQL_CHANGES.location(config.storage());
    assertThat(
            spark
                .read()
                .format("delta")
                .load(raw)
                .filter(col("source_database").equalTo(database))
                .count())
        .as("every change once in the raw log")
        .isEqualTo(CHANGES);

    // 8 batches: without compaction, 8 appends leave 8 files in the raw log (6 insert-only MERGEs
    // leave 6 in the mirror before the updates rewrite some). Each table is compacted once written
    // in 3 batches, one table per batch: the raw log after batches 2 and 5, the mirror after 3 and
    // 6.
    for (String location : List.of(mirror, raw)) {
      assertThat(spark.read().format("delta").load(location).inputFiles())
          .as("files of %s", location)
          .hasSizeLessThan(4);
      assertThat(compactions(spark, location)).as("compactions of %s", location).isNotEmpty();
    }
    for (long version : compactions(spark, mirror)) {
      assertThat(
              spark
                  .read()
                  .format("delta")
                  .option("readChangeFeed", "true")
                  .option("startingVersion", version)
                  .option("endingVersion", version)
                  .load(mirror)
                  .count())
          .as("change feed of compaction %d", version)
          .isZero();
    }
  }

  private static List<Long> compactions(SparkSession spark, String location) {
    return DeltaTable.forPath(spark, location)
        .history()
        .filter(col("operation").equalTo("OPTIMIZE"))
        .select("version")
        .as(Encoders.LONG())
        .collectAsList();
  }

  /** Maxwell's JSON: inserts of new keys, then updates and deletes too; the final rows. */
  private static Map<Long, Integer> produce(LakeConfig config, String database) {
    Map<Long, Integer> rows = new TreeMap<>();
    Random random = new Random(11);
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(KafkaClientProperties.producer(config.kafka(), "upkeep-it"))) {
      for (int sequence = 0; sequence < CHANGES; sequence++) {
        long key = sequence;
        int value = random.nextInt(1000);
        String type = "insert";
        // Six batches of new keys only: each MERGE adds a file and rewrites none. Then updates and
        // deletes of earlier keys.
        if (sequence >= 6 * PER_BATCH && sequence % 2 == 1) {
          key = rows.keySet().stream().skip(random.nextInt(rows.size())).findFirst().orElseThrow();
          type = sequence % 4 == 1 ? "update" : "delete";
        }
        if (type.equals("delete")) {
          value = rows.remove(key);
        } else {
          rows.put(key, value);
        }
        String json =
            "{\"database\":\""
                + database
                + "\",\"table\":\"items\",\"type\":\""
                + type
                + "\",\"ts\":1795300000,\"xid\":"
                + sequence
                + ",\"commit\":true,\"position\":\"mariadb-bin.000001:"
                + (4 + sequence * 10L)
                + "\",\"server_id\":101,\"data\":{\"id\":"
                + key
                + ",\"v\":"
                + value
                + "}"
                + (type.equals("update") ? ",\"old\":{\"v\":-1}" : "")
                + "}";
        producer.send(
            new ProducerRecord<>(
                config.topics().maxwellTopic(database, "items"),
                database.getBytes(UTF_8),
                json.getBytes(UTF_8)));
      }
      producer.flush();
    }
    return rows;
  }
}
