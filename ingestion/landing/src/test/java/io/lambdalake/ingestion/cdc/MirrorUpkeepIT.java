package io.lambdalake.ingestion.cdc;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.input_file_name;
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
import java.io.IOException;
import java.io.PrintStream;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
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
 * feed; each compaction is followed by a vacuum, which (with the tables' retention cut to 0 hours)
 * deletes from S3 every file removed up to it and, after a restart, files no commit names, and the
 * mirror still reads right.
 */
class MirrorUpkeepIT {
  private static final int CHANGES = 64;
  private static final int PER_BATCH = 8;

  @Test
  void smallBatchesLeaveTheMirrorAndTheRawLogCompactedWithEveryChangeOnce() throws Exception {
    String database = "upkeep" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    LakeConfig config =
        LakeConfigLoader.load(
            System.getenv(), SharedStack.ownLake(database, "lake.cdc.compact-every-batches", "3"));
    try (Connection source = MariaDbSql.connect()) {
      MariaDbSql.execute(
          source,
          "CREATE DATABASE " + database,
          "CREATE TABLE " + database + ".items (id BIGINT PRIMARY KEY, v INT)");
    }
    String mirror = config.storage().tableLocation("mirror", database + "__items");
    String raw = LakeTable.RAW_MYSQL_CHANGES.location(config.storage());
    SparkSession spark = TestSpark.session();
    Map<Long, Integer> expected = new TreeMap<>();
    Random random = new Random(11);

    // One batch creates both tables. Their removed files are then kept 0 hours instead of 7 days,
    // so that each vacuum deletes every file removed up to it.
    produce(config, database, expected, random, 0, PER_BATCH);
    drain(spark, config, database);
    for (String location : List.of(mirror, raw)) {
      spark.sql(
          "ALTER TABLE delta.`"
              + location
              + "` SET TBLPROPERTIES ('delta.deletedFileRetentionDuration' = 'interval 0 hours')");
    }
    // A file no commit names, as a write killed before its commit leaves: the first vacuum after
    // the restart lists the directory and deletes it.
    String orphan = "part-00000-" + UUID.randomUUID() + "-c000.snappy.parquet";
    for (String location : List.of(mirror, raw)) {
      Path file = new Path(location, orphan);
      try (FSDataOutputStream out =
          file.getFileSystem(spark.sessionState().newHadoopConf()).create(file)) {
        out.write("not committed".getBytes(UTF_8));
      }
    }
    produce(config, database, expected, random, PER_BATCH, CHANGES);
    drain(spark, config, database);

    Map<Long, Integer> mirrored = new TreeMap<>();
    for (Row row : spark.read().format("delta").load(mirror).select("id", "v").collectAsList()) {
      mirrored.put(row.getLong(0), row.isNullAt(1) ? null : row.getInt(1));
    }
    assertThat(mirrored).isEqualTo(expected);
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
    // leave 6 in the mirror before the updates rewrite some). The restart after the first batch
    // starts the counts again from 0. Each table is compacted once written in 3 batches, one table
    // per batch: in the 7 batches after the restart, one table after its batches 3 and 6, the other
    // after 4 and 7.
    for (String location : List.of(mirror, raw)) {
      assertThat(spark.read().format("delta").load(location).inputFiles())
          .as("files of %s", location)
          .hasSizeLessThan(4);
      assertThat(compactions(spark, location)).as("compactions of %s", location).isNotEmpty();
      assertVacuumed(spark, location);
      assertThat(dataFilesOnStorage(spark, location))
          .as("files of %s on S3", location)
          .doesNotContain(orphan);
    }
    // Delta refuses to time travel beyond the retention; the compactions' commits hold no change
    // files to read.
    spark.sql(
        "ALTER TABLE delta.`"
            + mirror
            + "` UNSET TBLPROPERTIES ('delta.deletedFileRetentionDuration')");
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

  /**
   * The data files on S3 are the table's current files and the files commits after its last
   * compaction (and vacuum) removed: the files removed up to it are gone.
   */
  private static void assertVacuumed(SparkSession spark, String location) throws IOException {
    long lastCompaction = compactions(spark, location).stream().max(Long::compare).orElseThrow();
    Set<String> current = new TreeSet<>();
    for (String file : spark.read().format("delta").load(location).inputFiles()) {
      current.add(new Path(file).getName());
    }
    Set<String> removedUpToIt = new TreeSet<>();
    Set<String> removedAfterIt = new TreeSet<>();
    for (Row removal :
        spark
            .read()
            .json(location + "/_delta_log/*.json")
            .filter(col("remove").isNotNull())
            .select(input_file_name(), col("remove.path"))
            .collectAsList()) {
      long version = Long.parseLong(new Path(removal.getString(0)).getName().replace(".json", ""));
      String name = new Path(removal.getString(1)).getName();
      (version <= lastCompaction ? removedUpToIt : removedAfterIt).add(name);
    }
    Set<String> stored = dataFilesOnStorage(spark, location);
    assertThat(removedUpToIt)
        .as("files %s removed up to its last compaction", location)
        .isNotEmpty();
    assertThat(stored)
        .as("data files of %s on S3", location)
        .containsAll(current)
        .doesNotContainAnyElementsOf(removedUpToIt);
    Set<String> mayRemain = new TreeSet<>(current);
    mayRemain.addAll(removedAfterIt);
    assertThat(mayRemain).as("files %s still names", location).containsAll(stored);
  }

  /** The names of the files under the table's directory, but not in _delta_log or _change_data. */
  private static Set<String> dataFilesOnStorage(SparkSession spark, String location)
      throws IOException {
    Path root = new Path(location);
    FileSystem fileSystem = root.getFileSystem(spark.sessionState().newHadoopConf());
    Set<String> names = new TreeSet<>();
    RemoteIterator<LocatedFileStatus> files = fileSystem.listFiles(root, true);
    while (files.hasNext()) {
      Path file = files.next().getPath();
      if (!root.toUri().relativize(file.toUri()).getPath().startsWith("_")) {
        names.add(file.getName());
      }
    }
    return names;
  }

  private static List<Long> compactions(SparkSession spark, String location) {
    return DeltaTable.forPath(spark, location)
        .history()
        .filter(col("operation").equalTo("OPTIMIZE"))
        .select("version")
        .as(Encoders.LONG())
        .collectAsList();
  }

  /** Runs the CDC job until it has applied every change in the topic, PER_BATCH per batch. */
  private static void drain(SparkSession spark, LakeConfig config, String database) {
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
  }

  /**
   * Maxwell's JSON for changes [from, to): inserts of new keys, then updates and deletes too; rows
   * becomes the source's rows after them.
   */
  private static void produce(
      LakeConfig config,
      String database,
      Map<Long, Integer> rows,
      Random random,
      int from,
      int to) {
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(KafkaClientProperties.producer(config.kafka(), "upkeep-it"))) {
      for (int sequence = from; sequence < to; sequence++) {
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
  }
}
