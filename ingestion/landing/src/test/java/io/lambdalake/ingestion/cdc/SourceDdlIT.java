package io.lambdalake.ingestion.cdc;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.apache.spark.sql.functions.col;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.config.LakeConfigLoader;
import io.lambdalake.common.kafka.KafkaClientProperties;
import io.lambdalake.common.table.LakeTable;
import io.lambdalake.ingestion.cdc.relay.DdlRelay;
import io.lambdalake.spark.DeltaTables;
import io.lambdalake.stack.testing.JobProcesses;
import io.lambdalake.stack.testing.MariaDbSql;
import io.lambdalake.stack.testing.SharedStack;
import io.lambdalake.stack.testing.TestSpark;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Source DDL through the real MariaDB, Maxwell, the DDL relay and Kafka into the CDC job: after a
 * {@code TRUNCATE TABLE} the mirror equals its source again (the old rows are gone, the new ones
 * are there), and the truncate is in raw.mysql_changes.
 */
// The fault tier. Measured on the shared 2-core machine: truncate 501 s; drop 543 s at load ~20
// and 137 s at load ~8; drop 65 s and the late row 31 s at load ~4. Most of it is the first CDC
// batch of a fresh JVM (230 s for two rows at
// load ~20, 47 s at ~8: every table of the run is created, and Spark, Delta and Parquet load and
// compile their code on a starved CPU); later batches take 10-80 s. Hence waits of 10 minutes:
// one CdcJob.run must fit into a wait.
@Tag("fault")
class SourceDdlIT {

  /** One run's own source database, storage root and checkpoints. */
  private record Run(String database, LakeConfig config, Map<String, String> overrides) {
    static Run create() {
      String name = "ddlit" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
      // The run's relay is a replica of its own: MariaDB disconnects a replica when another
      // connects with the same server id, so sharing the stack relay's id made the two relays
      // throw each other off every minute (each reconnects on its keepalive and drops the other).
      int relayServerId = 100_000 + ThreadLocalRandom.current().nextInt(1_000_000);
      Map<String, String> overrides =
          SharedStack.ownLake(
              name, "lake.maxwell.ddl-relay-server-id", Integer.toString(relayServerId));
      return new Run(name, LakeConfigLoader.load(System.getenv(), overrides), overrides);
    }

    CdcJob.Options availableNow() {
      return new CdcJob.Options(
          CdcJob.Sources.MAXWELL,
          CdcJob.Mode.AVAILABLE_NOW,
          Duration.ofSeconds(1),
          50_000,
          database,
          Duration.ofSeconds(2));
    }

    String mirror(String table) {
      return config.storage().tableLocation("mirror", database + "__" + table);
    }
  }

  @Test
  void truncateEmptiesTheMirrorAtItsPosition() throws Exception {
    Run run = Run.create();
    SparkSession spark = TestSpark.session();
    String items = run.database + ".items";
    Path relayPosition = Files.createTempDirectory("ddl-relay-").resolve("position");
    // The stack runs a relay for every database; this one follows only the run's database.
    try (DdlRelay relay =
            new DdlRelay(
                run.config,
                new DdlRelay.Options(Pattern.compile(Pattern.quote(run.database)), relayPosition));
        Connection source = MariaDbSql.connect()) {
      relay.start(Duration.ofSeconds(30));
      MariaDbSql.execute(
          source,
          "CREATE DATABASE " + run.database,
          "CREATE TABLE " + items + " (id INT PRIMARY KEY, label VARCHAR(20))",
          "INSERT INTO " + items + " VALUES (1, 'one'), (2, 'two'), (3, 'three')",
          "UPDATE " + items + " SET label = 'TWO' WHERE id = 2");
      await()
          .atMost(Duration.ofMinutes(10))
          .pollInterval(Duration.ofSeconds(1))
          .untilAsserted(
              () -> {
                CdcJob.run(spark, run.config, run.availableNow(), quietly());
                assertThat(mirrorRows(spark, run, "items")).hasSize(3);
              });

      MariaDbSql.execute(
          source,
          "TRUNCATE TABLE " + items,
          "INSERT INTO " + items + " VALUES (3, 'three again'), (4, 'four')",
          "INSERT INTO " + items + " VALUES (5, 'five')");
      List<String> expected = sourceRows(source, items);
      // Row 5 is the last change: once the mirror has it, every earlier change was applied.
      await()
          .atMost(Duration.ofMinutes(10))
          .pollInterval(Duration.ofSeconds(1))
          .untilAsserted(
              () -> {
                CdcJob.run(spark, run.config, run.availableNow(), quietly());
                assertThat(mirrorRows(spark, run, "items")).contains("5|five");
              });
      assertThat(relay.failure()).isEmpty();
      assertThat(mirrorRows(spark, run, "items")).as("mirror after TRUNCATE").isEqualTo(expected);
      assertThat(
              spark
                  .sql(
                      "SHOW TBLPROPERTIES delta.`"
                          + run.mirror("items")
                          + "` ('lake.source.truncated-at')")
                  .first()
                  .getString(1))
          .startsWith(masterFile(source));
    }

    Dataset<Row> raw =
        spark
            .read()
            .format("delta")
            .load(LakeTable.RAW_MYSQL_CHANGES.location(run.config.storage()))
            .filter(col("source_database").equalTo(run.database));
    // Distinct positions: the stack's own relay, when it runs, publishes the truncate too.
    assertThat(raw.filter(col("op").equalTo("t")).select("binlog_position").distinct().count())
        .as("the truncate in raw.mysql_changes")
        .isEqualTo(1);
  }

  @Test
  void dropRetiresTheMirrorAndANewTableOfTheNameIsQuarantined() throws Exception {
    Run run = Run.create();
    SparkSession spark = TestSpark.session();
    String items = run.database + ".items";
    Path relayPosition = Files.createTempDirectory("ddl-relay-").resolve("position");
    try (DdlRelay relay =
            new DdlRelay(
                run.config,
                new DdlRelay.Options(Pattern.compile(Pattern.quote(run.database)), relayPosition));
        Connection source = MariaDbSql.connect()) {
      relay.start(Duration.ofSeconds(30));
      MariaDbSql.execute(
          source,
          "CREATE DATABASE " + run.database,
          "CREATE TABLE " + items + " (id INT PRIMARY KEY, label VARCHAR(20))",
          "INSERT INTO " + items + " VALUES (1, 'one'), (2, 'two')");
      await()
          .atMost(Duration.ofMinutes(10))
          .pollInterval(Duration.ofSeconds(1))
          .untilAsserted(
              () -> {
                CdcJob.run(spark, run.config, run.availableNow(), quietly());
                assertThat(mirrorRows(spark, run, "items")).hasSize(2);
              });

      MariaDbSql.execute(source, "DROP TABLE " + items);
      await()
          .atMost(Duration.ofMinutes(10))
          .pollInterval(Duration.ofSeconds(1))
          .untilAsserted(
              () -> {
                CdcJob.run(spark, run.config, run.availableNow(), quietly());
                assertThat(property(spark, run.mirror("items"), "lake.source.dropped-at"))
                    .startsWith(masterFile(source));
              });
      assertThat(mirrorRows(spark, run, "items"))
          .as("a retired mirror keeps its rows")
          .containsExactly("1|one", "2|two");

      // A new table under the old name does not continue the retired mirror.
      MariaDbSql.execute(
          source,
          "CREATE TABLE " + items + " (id INT PRIMARY KEY, label VARCHAR(20))",
          "INSERT INTO " + items + " VALUES (7, 'seven')");
      await()
          .atMost(Duration.ofMinutes(10))
          .pollInterval(Duration.ofSeconds(1))
          .untilAsserted(
              () -> {
                CdcJob.run(spark, run.config, run.availableNow(), quietly());
                assertThat(
                        spark
                            .read()
                            .format("delta")
                            .load(LakeTable.RAW_CDC_QUARANTINE.location(run.config.storage()))
                            .filter(col("reason").equalTo("source_table_dropped"))
                            .count())
                    .isEqualTo(1);
              });
      assertThat(relay.failure()).isEmpty();
      assertThat(mirrorRows(spark, run, "items")).containsExactly("1|one", "2|two");
    }
    assertThat(
            spark
                .read()
                .format("delta")
                .load(LakeTable.RAW_MYSQL_CHANGES.location(run.config.storage()))
                .filter(col("source_database").equalTo(run.database).and(col("op").equalTo("x")))
                .select("binlog_position")
                .distinct()
                .count())
        .as("the drop in raw.mysql_changes")
        .isEqualTo(1);
  }

  /**
   * The relay ahead of Maxwell: a row written before a DROP whose record lands after the drop's
   * still belongs to the retired mirror. Both records are written to the topic by hand, in that
   * order, with positions after the source's current one (the source table stays, so its schema is
   * known).
   */
  @Test
  void aRowWrittenBeforeTheDropThatLandsAfterItStillReachesTheRetiredMirror() throws Exception {
    Run run = Run.create();
    SparkSession spark = TestSpark.session();
    String items = run.database + ".items";
    String topic = run.config.topics().maxwellTopic(run.database, "items");
    try (Connection source = MariaDbSql.connect()) {
      MariaDbSql.execute(
          source,
          "CREATE DATABASE " + run.database,
          "CREATE TABLE " + items + " (id INT PRIMARY KEY, label VARCHAR(20))",
          "INSERT INTO " + items + " VALUES (1, 'one')");
      await()
          .atMost(Duration.ofMinutes(10))
          .pollInterval(Duration.ofSeconds(1))
          .untilAsserted(
              () -> {
                CdcJob.run(spark, run.config, run.availableNow(), quietly());
                assertThat(mirrorRows(spark, run, "items")).hasSize(1);
              });
      String file = masterFile(source);
      long position = masterPosition(source);
      publish(
          run,
          topic,
          "{\"database\":\""
              + run.database
              + "\",\"table\":\"items\",\"type\":\"table-drop\",\"ts\":1,\"position\":\""
              + file
              + ":"
              + (position + 2000)
              + "\",\"server_id\":1,\"sql\":\"DROP TABLE items\"}");
      CdcJob.run(spark, run.config, run.availableNow(), quietly());
      assertThat(property(spark, run.mirror("items"), "lake.source.dropped-at"))
          .isEqualTo(file + ":" + (position + 2000));

      publish(
          run,
          topic,
          "{\"database\":\""
              + run.database
              + "\",\"table\":\"items\",\"type\":\"insert\",\"ts\":1,\"position\":\""
              + file
              + ":"
              + (position + 1000)
              + "\",\"data\":{\"id\":2,\"label\":\"two\"}}");
      CdcJob.run(spark, run.config, run.availableNow(), quietly());
      assertThat(mirrorRows(spark, run, "items"))
          .as("the retired mirror has the row written before the drop")
          .containsExactly("1|one", "2|two");
    }
  }

  /**
   * The relay's records go into the partition Maxwell gives the table's rows, so that Kafka keeps
   * them in order with the rows and no micro-batch reads a DDL record before rows written ahead of
   * it. Maxwell ({@code producer_partition_by=database}) puts a database's rows into one partition;
   * the relay keyed its records by database and table, so Kafka's partitioner put them into
   * another, and a job behind by more than a batch read each rename in its next batch, before the
   * rows written before it (ddl-rename-under-load quarantined them as source_table_renamed).
   */
  @Test
  void theRelayPublishesIntoThePartitionOfTheTablesRows() throws Exception {
    Run run = Run.create();
    String items = run.database + ".items";
    // A topic prefix of the test's own: the stack's relay publishes the same statement into the
    // stack's topics; this relay's record is the one in the prefixed topic.
    String prefix = "ddlit." + run.database + ".";
    LakeConfig relayConfig =
        LakeConfigLoader.load(
            System.getenv(),
            Map.of(
                "lake.topics.cdc-maxwell-prefix",
                prefix,
                "lake.maxwell.ddl-relay-server-id",
                Integer.toString(100_000 + ThreadLocalRandom.current().nextInt(1_000_000))));
    Path relayPosition = Files.createTempDirectory("ddl-relay-").resolve("position");
    try (DdlRelay relay =
            new DdlRelay(
                relayConfig,
                new DdlRelay.Options(Pattern.compile(Pattern.quote(run.database)), relayPosition));
        Connection source = MariaDbSql.connect()) {
      relay.start(Duration.ofSeconds(30));
      MariaDbSql.execute(
          source,
          "CREATE DATABASE " + run.database,
          "CREATE TABLE " + items + " (id INT PRIMARY KEY, label VARCHAR(20))",
          "INSERT INTO " + items + " VALUES (1, 'one')",
          "TRUNCATE TABLE " + items);
      String rows = run.config.topics().maxwellTopic(run.database, "items");
      String relayed = relayConfig.topics().maxwellTopic(run.database, "items");
      Map<String, Integer> partitions = new HashMap<>();
      try (KafkaConsumer<byte[], byte[]> consumer =
          new KafkaConsumer<>(
              KafkaClientProperties.consumer(
                  run.config.kafka(), "ddl-it", "ddl-it-" + run.database))) {
        consumer.subscribe(List.of(rows, relayed));
        await()
            .atMost(Duration.ofMinutes(2))
            .until(
                () -> {
                  for (ConsumerRecord<byte[], byte[]> record :
                      consumer.poll(Duration.ofMillis(500))) {
                    String value = new String(record.value(), UTF_8);
                    if (record.topic().equals(rows) && value.contains("\"type\":\"insert\"")) {
                      partitions.put("insert", record.partition());
                    } else if (record.topic().equals(relayed)
                        && value.contains("\"type\":\"table-truncate\"")) {
                      partitions.put("truncate", record.partition());
                    }
                  }
                  return partitions.size() == 2;
                });
      }
      assertThat(relay.failure()).isEmpty();
      assertThat(partitions.get("truncate"))
          .as("the relay's partition for the truncate, beside Maxwell's for the rows")
          .isEqualTo(partitions.get("insert"));
    }
  }

  /**
   * A plain rename ({@code ALTER TABLE ... RENAME TO}) and the online-schema-change cut-over as
   * pt-online-schema-change performs it: a copy of the table with a changed schema, filled by a
   * copy of its rows and by triggers that repeat every later write, then the atomic {@code RENAME
   * TABLE t TO _t_old, _t_new TO t}. Afterwards every mirror equals its source table row by row.
   */
  @Test
  void renameAndTheOnlineSchemaChangeCutOverCarryTheMirrorsOver() throws Exception {
    Run run = Run.create();
    SparkSession spark = TestSpark.session();
    String db = run.database;
    Path relayPosition = Files.createTempDirectory("ddl-relay-").resolve("position");
    try (DdlRelay relay =
            new DdlRelay(
                run.config,
                new DdlRelay.Options(Pattern.compile(Pattern.quote(db)), relayPosition));
        Connection source = MariaDbSql.connect()) {
      relay.start(Duration.ofSeconds(30));
      MariaDbSql.execute(
          source,
          "CREATE DATABASE " + db,
          "CREATE TABLE " + db + ".notes (id INT PRIMARY KEY, label VARCHAR(20))",
          "INSERT INTO " + db + ".notes VALUES (1, 'one'), (2, 'two')",
          "ALTER TABLE " + db + ".notes RENAME TO " + db + ".memos",
          "INSERT INTO " + db + ".memos VALUES (3, 'three')",
          "CREATE TABLE " + db + ".items (id INT PRIMARY KEY, label VARCHAR(20))",
          "INSERT INTO " + db + ".items VALUES (1, 'one'), (2, 'two'), (3, 'three')",
          // The tool's shadow table, with the new schema, and triggers repeating every write.
          "CREATE TABLE " + db + "._items_new LIKE " + db + ".items",
          "ALTER TABLE " + db + "._items_new ADD COLUMN note VARCHAR(20) NOT NULL DEFAULT 'n'",
          "CREATE TRIGGER "
              + db
              + ".items_ins AFTER INSERT ON "
              + db
              + ".items FOR EACH ROW"
              + " REPLACE INTO "
              + db
              + "._items_new (id, label) VALUES (NEW.id, NEW.label)",
          "CREATE TRIGGER "
              + db
              + ".items_upd AFTER UPDATE ON "
              + db
              + ".items FOR EACH ROW"
              + " REPLACE INTO "
              + db
              + "._items_new (id, label) VALUES (NEW.id, NEW.label)",
          "CREATE TRIGGER "
              + db
              + ".items_del AFTER DELETE ON "
              + db
              + ".items FOR EACH ROW"
              + " DELETE IGNORE FROM "
              + db
              + "._items_new WHERE id = OLD.id",
          "INSERT LOW_PRIORITY IGNORE INTO "
              + db
              + "._items_new (id, label)"
              + " SELECT id, label FROM "
              + db
              + ".items",
          "INSERT INTO " + db + ".items VALUES (4, 'four')",
          "UPDATE " + db + ".items SET label = 'TWO' WHERE id = 2",
          "DELETE FROM " + db + ".items WHERE id = 3");
      String file = masterFile(source);
      long beforeRename = masterPosition(source);
      MariaDbSql.execute(
          source,
          "RENAME TABLE "
              + db
              + ".items TO "
              + db
              + "._items_old, "
              + db
              + "._items_new TO "
              + db
              + ".items");
      // Where the RENAME's event ends: the relay's position once it has published it.
      String renamedAt = file + ":" + endOf(source, file, beforeRename, "_items_new` TO");
      MariaDbSql.execute(
          source,
          "DROP TRIGGER " + db + ".items_ins",
          "DROP TRIGGER " + db + ".items_upd",
          "DROP TRIGGER " + db + ".items_del",
          "INSERT INTO " + db + ".items (id, label) VALUES (5, 'five')",
          "INSERT INTO " + db + ".memos VALUES (4, 'four')");
      Map<String, List<String>> expected =
          Map.of(
              "items", sourceRows(source, db + ".items", "note"),
              "_items_old", sourceRows(source, db + "._items_old", "'-'"),
              "memos", sourceRows(source, db + ".memos", "'-'"));
      // Once the relay is past the cut-over, its records are in Kafka before the next CDC run.
      await()
          .atMost(Duration.ofMinutes(2))
          .until(() -> !passed(relayPosition, renamedAt).isEmpty());
      await()
          .atMost(Duration.ofMinutes(10))
          .pollInterval(Duration.ofSeconds(1))
          .untilAsserted(
              () -> {
                CdcJob.run(spark, run.config, run.availableNow(), quietly());
                assertThat(mirrorRows(spark, run, "items", "note")).contains("5|five|n");
                assertThat(mirrorRows(spark, run, "memos", "'-'")).contains("4|four|-");
              });
      assertThat(relay.failure()).isEmpty();
      assertThat(mirrorRows(spark, run, "items", "note")).isEqualTo(expected.get("items"));
      assertThat(mirrorRows(spark, run, "_items_old", "'-'")).isEqualTo(expected.get("_items_old"));
      assertThat(mirrorRows(spark, run, "memos", "'-'")).isEqualTo(expected.get("memos"));
      assertThat(property(spark, run.mirror("notes"), "lake.source.renamed-to"))
          .isEqualTo(db + ".memos");
    }
    assertThat(
            spark
                .read()
                .format("delta")
                .load(LakeTable.RAW_MYSQL_CHANGES.location(run.config.storage()))
                .filter(col("source_database").equalTo(db).and(col("type").equalTo("table-rename")))
                .select("source_table")
                .distinct()
                .count())
        .as("the renames in raw.mysql_changes")
        .isEqualTo(3);
  }

  /**
   * A cut-over that adds a column, while a job that has cached the old table's schema runs: the
   * shadow table's rows, typed by the table's new name after the rename, reach the new mirror. The
   * job (its own JVM, micro-batches every 90 s) applies the old table's rows in its first batch;
   * the whole cut-over then lands in one later batch, after the shadow table's name is gone from
   * the source, with no change of the new table after the rename (one would refresh the cache).
   * Found by {@code ddl-rename-under-load}: the rows were quarantined {@code unknown_column}, typed
   * by the job's cached schema of the old table.
   */
  @Test
  void aCutOverThatAddsAColumnReachesTheMirrorOfAJobThatCachedTheOldSchema() throws Exception {
    Run run = Run.create();
    SparkSession spark = TestSpark.session();
    String db = run.database;
    Path relayPosition = Files.createTempDirectory("ddl-relay-").resolve("position");
    Path log = Files.createTempFile("cdc-cut-over-", ".log");
    Process job = null;
    try (DdlRelay relay =
            new DdlRelay(
                run.config,
                new DdlRelay.Options(Pattern.compile(Pattern.quote(db)), relayPosition));
        Connection source = MariaDbSql.connect()) {
      relay.start(Duration.ofSeconds(30));
      MariaDbSql.execute(
          source,
          "CREATE DATABASE " + db,
          "CREATE TABLE " + db + ".items (id INT PRIMARY KEY, label VARCHAR(20))",
          "INSERT INTO " + db + ".items VALUES (1, 'one'), (2, 'two'), (3, 'three')");
      job =
          JobProcesses.start(
              CdcJob.class,
              run.overrides,
              List.of("--sources=maxwell", "--databases=" + db, "--trigger=90s", "--progress=2s"),
              log);
      Process running = job;
      await()
          .atMost(Duration.ofMinutes(10))
          .pollInterval(Duration.ofMillis(500))
          .until(() -> !running.isAlive() || mirrorRows(spark, run, "items").size() == 3);
      assertThat(job.isAlive()).as("the CDC job runs (log %s)", log).isTrue();
      // The cut-over at once, well inside one trigger interval.
      MariaDbSql.execute(
          source,
          "CREATE TABLE " + db + "._items_new LIKE " + db + ".items",
          "ALTER TABLE " + db + "._items_new ADD COLUMN note VARCHAR(20) NOT NULL DEFAULT 'n'",
          "INSERT LOW_PRIORITY IGNORE INTO "
              + db
              + "._items_new (id, label) SELECT id, label FROM "
              + db
              + ".items",
          "RENAME TABLE "
              + db
              + ".items TO "
              + db
              + "._items_old, "
              + db
              + "._items_new TO "
              + db
              + ".items");
      // No write to the new table after the cut-over: its change would carry the new column and
      // refresh the job's cached schema before the shadow table's rows are typed.
      List<String> expected = sourceRows(source, db + ".items", "note");
      await()
          .atMost(Duration.ofMinutes(10))
          .pollInterval(Duration.ofSeconds(2))
          // The mirror's properties can be read only once it exists.
          .ignoreExceptions()
          .until(
              () ->
                  !running.isAlive()
                      || property(spark, run.mirror("items"), "lake.source.renamed-from")
                          .equals(db + "._items_new"));
      assertThat(job.isAlive()).as("the CDC job runs (log %s)", log).isTrue();
      assertThat(relay.failure()).isEmpty();
      assertThat(mirrorRows(spark, run, "items", "note")).isEqualTo(expected);
    } finally {
      if (job != null) {
        job.destroyForcibly().waitFor();
      }
    }
    String quarantine = LakeTable.RAW_CDC_QUARANTINE.location(run.config.storage());
    assertThat(
            DeltaTables.exists(spark, quarantine)
                ? spark
                    .read()
                    .format("delta")
                    .load(quarantine)
                    .filter(col("source_topic").contains(db))
                    .count()
                : 0)
        .as("quarantined changes of the run's database")
        .isZero();
  }

  /**
   * A cut-over's two renames read in two micro-batches, the first rename first: the job behind the
   * source reads, in one batch, the old table's rows, the shadow table's rows (its name is gone
   * from the source and no rename of it is known yet), {@code items -> _items_old} and a row of the
   * new {@code items} (its mirror is retired by then); {@code _items_new -> items} comes in the
   * next. Found by ddl-rename-under-load, which lost such rows as {@code source_table_unknown} and
   * {@code source_table_dropped}. The records are written by the test, in the order each case
   * needs; the tables exist in MariaDB as they do after the cut-over, so the job types the rows.
   */
  @Test
  void aCutOverWhoseRenamesAreReadInTwoBatchesLosesNoRow() throws Exception {
    Run run = Run.create();
    SparkSession spark = TestSpark.session();
    try (Connection source = MariaDbSql.connect()) {
      CutOver cutOver = CutOver.prepare(run, source);
      publish(
          run,
          cutOver.oldRow(1, "one", 100),
          cutOver.oldRow(2, "two", 110),
          cutOver.copyRow(1, "one", "x", 200),
          cutOver.copyRow(2, "two", "x", 210),
          cutOver.rename(0),
          cutOver.newRow("insert", 3, "three", "y", 400));
      CdcJob.run(spark, run.config, run.availableNow(), quietly());
      assertThat(mirrorRows(spark, run, "_items_old")).containsExactly("1|one", "2|two");

      publish(run, cutOver.rename(1), cutOver.newRow("update", 1, "uno", "x", 500));
      CdcJob.run(spark, run.config, run.availableNow(), quietly());

      assertThat(mirrorRows(spark, run, "items", "note"))
          .as("the shadow table's rows quarantined before its rename was read, and the new table's")
          .containsExactly("1|uno|x", "2|two|x", "3|three|y");
      assertThat(mirrorRows(spark, run, "_items_old")).containsExactly("1|one", "2|two");
      assertThat(quarantineReasons(spark, run))
          .as("the quarantine records what happened in the first batch")
          .containsExactly("source_table_dropped", "source_table_unknown", "source_table_unknown");
    }
  }

  /**
   * The other order: {@code _items_new -> items} is read a micro-batch before {@code items ->
   * _items_old}. Carrying the shadow table over at once overwrote the old table's mirror, and the
   * first rename then carried the new rows to {@code _items_old} and retired the new {@code items}.
   * Now the second rename waits on the old table's mirror and is applied right after the first.
   */
  @Test
  void aCutOverWhoseSecondRenameIsReadFirstWaitsForTheFirst() throws Exception {
    Run run = Run.create();
    SparkSession spark = TestSpark.session();
    try (Connection source = MariaDbSql.connect()) {
      CutOver cutOver = CutOver.prepare(run, source);
      publish(
          run,
          cutOver.oldRow(1, "one", 100),
          cutOver.oldRow(2, "two", 110),
          cutOver.copyRow(1, "one", "x", 200),
          cutOver.copyRow(2, "two", "x", 210),
          cutOver.rename(1));
      CdcJob.run(spark, run.config, run.availableNow(), quietly());
      assertThat(mirrorRows(spark, run, "items")).containsExactly("1|one", "2|two");

      publish(run, cutOver.rename(0), cutOver.newRow("insert", 3, "three", "y", 400));
      CdcJob.run(spark, run.config, run.availableNow(), quietly());

      assertThat(mirrorRows(spark, run, "items", "note"))
          .containsExactly("1|one|x", "2|two|x", "3|three|y");
      assertThat(mirrorRows(spark, run, "_items_old")).containsExactly("1|one", "2|two");
      assertThat(property(spark, run.mirror("items"), "lake.source.renamed-from"))
          .isEqualTo(run.database + "._items_new");
      assertThat(property(spark, run.mirror("_items_old"), "lake.source.renamed-from"))
          .isEqualTo(run.database + ".items");
      assertThat(quarantineReasons(spark, run)).isEmpty();
    }
  }

  /**
   * {@code ALTER TABLE notes RENAME TO memos} whose new name's changes are read a micro-batch
   * before the rename's record (the two are in two topics): a key deleted under {@code memos} found
   * no row to delete then, and carrying {@code notes} over brought it back (5 keys in
   * ddl-rename-under-load's fourth run). Now the new name's changes after the rename decide every
   * key they touched, deletes too.
   */
  @Test
  void aKeyTheNewNameDeletedBeforeTheRenameWasReadStaysDeleted() throws Exception {
    Run run = Run.create();
    SparkSession spark = TestSpark.session();
    String db = run.database;
    try (Connection source = MariaDbSql.connect()) {
      MariaDbSql.execute(
          source,
          "CREATE DATABASE " + db,
          "CREATE TABLE " + db + ".memos (id INT PRIMARY KEY, label VARCHAR(20))");
      String file = masterFile(source);
      long base = masterPosition(source) + 1000;
      String notes = run.config.topics().maxwellTopic(db, "notes");
      String memos = run.config.topics().maxwellTopic(db, "memos");
      publish(
          run,
          Map.entry(notes, change(db, "notes", "insert", 1, "one", file, base + 100)),
          Map.entry(notes, change(db, "notes", "insert", 2, "two", file, base + 110)),
          Map.entry(notes, change(db, "notes", "insert", 3, "three", file, base + 120)),
          Map.entry(memos, change(db, "memos", "delete", 2, "two", file, base + 400)),
          Map.entry(memos, change(db, "memos", "update", 3, "tres", file, base + 410)),
          Map.entry(memos, change(db, "memos", "insert", 4, "four", file, base + 420)));
      CdcJob.run(spark, run.config, run.availableNow(), quietly());
      assertThat(mirrorRows(spark, run, "memos")).containsExactly("3|tres", "4|four");

      publish(
          run,
          Map.entry(
              notes,
              "{\"database\":\""
                  + db
                  + "\",\"table\":\"notes\",\"type\":\"table-rename\",\"ts\":1,\"position\":\""
                  + file
                  + ":"
                  + (base + 300)
                  + "\",\"server_id\":1,\"sql\":\"ALTER TABLE notes RENAME TO memos\","
                  + "\"new_database\":\""
                  + db
                  + "\",\"new_table\":\"memos\",\"data\":{\"database\":\""
                  + db
                  + "\",\"table\":\"memos\",\"order\":0}}"));
      CdcJob.run(spark, run.config, run.availableNow(), quietly());

      assertThat(mirrorRows(spark, run, "memos"))
          .as("key 2, deleted under the new name, does not come back")
          .containsExactly("1|one", "3|tres", "4|four");
    }
  }

  private static String change(
      String db, String table, String type, int id, String label, String file, long position) {
    return "{\"database\":\""
        + db
        + "\",\"table\":\""
        + table
        + "\",\"type\":\""
        + type
        + "\",\"ts\":1,\"position\":\""
        + file
        + ":"
        + position
        + "\",\"data\":{\"id\":"
        + id
        + ",\"label\":\""
        + label
        + "\"}"
        + (type.equals("update") ? ",\"old\":{\"label\":\"three\"}" : "")
        + "}";
  }

  /**
   * Records of a pt-online-schema-change cut-over of {@code items} ({@code RENAME TABLE items TO
   * _items_old, _items_new TO items}), written by hand: MariaDB has the tables as they are after it
   * ({@code items} with the added column {@code note}, {@code _items_old} without), and no row, so
   * Maxwell and the stack's relay publish nothing of the run's database.
   */
  private record CutOver(Run run, String file, long base) {
    static CutOver prepare(Run run, Connection source) throws SQLException {
      String db = run.database;
      MariaDbSql.execute(
          source,
          "CREATE DATABASE " + db,
          "CREATE TABLE "
              + db
              + ".items (id INT PRIMARY KEY, label VARCHAR(20),"
              + " note VARCHAR(20) NOT NULL DEFAULT 'n')",
          "CREATE TABLE " + db + "._items_old (id INT PRIMARY KEY, label VARCHAR(20))");
      return new CutOver(run, masterFile(source), masterPosition(source) + 1000);
    }

    private String position(long offset) {
      return file + ":" + (base + offset);
    }

    /** A row of the old table, written before the cut-over. */
    Map.Entry<String, String> oldRow(int id, String label, long offset) {
      return row("items", "insert", "{\"id\":" + id + ",\"label\":\"" + label + "\"}", offset);
    }

    /** A row of the shadow table (the tool's copy or its triggers), before the cut-over. */
    Map.Entry<String, String> copyRow(int id, String label, String note, long offset) {
      return row("_items_new", "insert", withNote(id, label, note), offset);
    }

    /** A row of the new table, after the cut-over. */
    Map.Entry<String, String> newRow(String type, int id, String label, String note, long offset) {
      return row("items", type, withNote(id, label, note), offset);
    }

    private static String withNote(int id, String label, String note) {
      return "{\"id\":" + id + ",\"label\":\"" + label + "\",\"note\":\"" + note + "\"}";
    }

    private Map.Entry<String, String> row(String table, String type, String data, long offset) {
      return Map.entry(
          run.config.topics().maxwellTopic(run.database, table),
          "{\"database\":\""
              + run.database
              + "\",\"table\":\""
              + table
              + "\",\"type\":\""
              + type
              + "\",\"ts\":1,\"position\":\""
              + position(offset)
              + "\",\"data\":"
              + data
              + (type.equals("update") ? ",\"old\":{\"label\":\"one\"}" : "")
              + "}");
    }

    /** The cut-over's rename of the given order, into the former name's topic as the relay does. */
    Map.Entry<String, String> rename(int order) {
      String from = order == 0 ? "items" : "_items_new";
      String to = order == 0 ? "_items_old" : "items";
      String db = run.database;
      return Map.entry(
          run.config.topics().maxwellTopic(db, from),
          "{\"database\":\""
              + db
              + "\",\"table\":\""
              + from
              + "\",\"type\":\"table-rename\",\"ts\":1,\"position\":\""
              + position(300)
              + "\",\"server_id\":1,\"sql\":\"RENAME TABLE items TO _items_old, _items_new TO"
              + " items\",\"new_database\":\""
              + db
              + "\",\"new_table\":\""
              + to
              + "\",\"data\":{\"database\":\""
              + db
              + "\",\"table\":\""
              + to
              + "\",\"order\":"
              + order
              + "}}");
    }
  }

  @SafeVarargs
  private static void publish(Run run, Map.Entry<String, String>... records) {
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(KafkaClientProperties.producer(run.config.kafka(), "ddl-it"))) {
      for (Map.Entry<String, String> record : records) {
        producer.send(new ProducerRecord<>(record.getKey(), record.getValue().getBytes(UTF_8)));
      }
      producer.flush();
    }
  }

  /** The reasons of the run's database's quarantined changes, sorted. */
  private static List<String> quarantineReasons(SparkSession spark, Run run) {
    String quarantine = LakeTable.RAW_CDC_QUARANTINE.location(run.config.storage());
    if (!DeltaTables.exists(spark, quarantine)) {
      return List.of();
    }
    return spark
        .read()
        .format("delta")
        .load(quarantine)
        .filter(col("source_topic").contains(run.database))
        .select("reason")
        .collectAsList()
        .stream()
        .map(row -> row.getString(0))
        .sorted()
        .toList();
  }

  /**
   * Column changes: a widened type (INT to BIGINT, VARCHAR(10) to VARCHAR(100)) and an added column
   * are applied to the mirror, a dropped column stays with null for later rows, and a change the
   * mirror's column cannot hold (INT to VARCHAR, then a word) quarantines the row naming the
   * column.
   */
  @Test
  void columnChangesWidenTheMirrorOrQuarantineNamingTheColumn() throws Exception {
    Run run = Run.create();
    SparkSession spark = TestSpark.session();
    String items = run.database + ".items";
    Path relayPosition = Files.createTempDirectory("ddl-relay-").resolve("position");
    try (DdlRelay relay =
            new DdlRelay(
                run.config,
                new DdlRelay.Options(Pattern.compile(Pattern.quote(run.database)), relayPosition));
        Connection source = MariaDbSql.connect()) {
      relay.start(Duration.ofSeconds(30));
      MariaDbSql.execute(
          source,
          "CREATE DATABASE " + run.database,
          "CREATE TABLE " + items + " (id INT PRIMARY KEY, label VARCHAR(10), qty INT, extra TEXT)",
          "INSERT INTO " + items + " VALUES (1, 'one', 1, 'x')",
          "CREATE TABLE " + run.database + ".codes (id INT PRIMARY KEY, code INT)",
          "INSERT INTO " + run.database + ".codes VALUES (1, 1)");
      await()
          .atMost(Duration.ofMinutes(10))
          .pollInterval(Duration.ofSeconds(1))
          .untilAsserted(
              () -> {
                CdcJob.run(spark, run.config, run.availableNow(), quietly());
                assertThat(mirrorRows(spark, run, "items")).hasSize(1);
              });

      MariaDbSql.execute(
          source,
          "ALTER TABLE " + items + " MODIFY qty BIGINT, MODIFY label VARCHAR(100)",
          "ALTER TABLE " + items + " DROP COLUMN extra",
          "ALTER TABLE " + run.database + ".codes MODIFY code VARCHAR(10)",
          "INSERT INTO " + run.database + ".codes VALUES (2, 'abc')",
          "INSERT INTO " + items + " VALUES (2, 'a label of more than ten', 5000000000)",
          "INSERT INTO " + items + " VALUES (4, 'four', 4)");
      // Row 4 is the last change: once the mirror has it, every earlier one was applied or not.
      await()
          .atMost(Duration.ofMinutes(10))
          .pollInterval(Duration.ofSeconds(1))
          .untilAsserted(
              () -> {
                CdcJob.run(spark, run.config, run.availableNow(), quietly());
                assertThat(mirrorRows(spark, run, "items")).contains("4|four");
              });
      assertThat(relay.failure()).isEmpty();
      assertThat(
              spark
                  .read()
                  .format("delta")
                  .load(run.mirror("items"))
                  .selectExpr("concat_ws('|', id, label, qty, coalesce(extra, 'null'))")
                  .collectAsList()
                  .stream()
                  .map(row -> row.getString(0))
                  .sorted()
                  .toList())
          .containsExactly(
              "1|one|1|x", "2|a label of more than ten|5000000000|null", "4|four|4|null");
      Dataset<Row> quarantined =
          spark
              .read()
              .format("delta")
              .load(LakeTable.RAW_CDC_QUARANTINE.location(run.config.storage()))
              .filter(col("source_topic").contains(run.database));
      assertThat(
              quarantined
                  .filter(col("reason").equalTo("incompatible_type"))
                  .select("field")
                  .collectAsList()
                  .stream()
                  .map(row -> row.getString(0))
                  .toList())
          .as("the word that an INT column cannot hold")
          .containsExactly("code");
    }
    assertThat(
            spark
                .read()
                .format("delta")
                .load(LakeTable.RAW_MYSQL_CHANGES.location(run.config.storage()))
                .filter(
                    col("source_database")
                        .equalTo(run.database)
                        .and(col("type").equalTo("table-alter")))
                .select("binlog_position")
                .distinct()
                .count())
        .as("the column changes in raw.mysql_changes")
        .isEqualTo(3);
  }

  /** Where the first binlog event from the position whose text contains the given one ends. */
  private static long endOf(Connection source, String file, long from, String text)
      throws SQLException {
    try (Statement statement = source.createStatement();
        ResultSet events =
            statement.executeQuery("SHOW BINLOG EVENTS IN '" + file + "' FROM " + from)) {
      while (events.next()) {
        String info = events.getString("Info");
        if (info != null && info.replace("`", "").contains(text.replace("`", ""))) {
          return events.getLong("End_log_pos");
        }
      }
    }
    throw new AssertionError("no binlog event with " + text + " in " + file + " from " + from);
  }

  /** The relay's position when it is at or past the given one ({@code file:offset}), else "". */
  private static String passed(Path relayPosition, String position) throws Exception {
    if (!Files.exists(relayPosition)) {
      return "";
    }
    String relay = Files.readString(relayPosition, UTF_8).strip();
    String[] at = relay.split(":");
    String[] wanted = position.split(":");
    boolean past =
        at[0].compareTo(wanted[0]) > 0
            || (at[0].equals(wanted[0]) && Long.parseLong(at[1]) >= Long.parseLong(wanted[1]));
    return past ? relay : "";
  }

  private static void publish(Run run, String topic, String record) {
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(KafkaClientProperties.producer(run.config.kafka(), "ddl-it"))) {
      producer.send(new ProducerRecord<>(topic, record.getBytes(UTF_8)));
      producer.flush();
    }
  }

  private static long masterPosition(Connection source) throws SQLException {
    try (Statement statement = source.createStatement();
        ResultSet result = statement.executeQuery("SHOW MASTER STATUS")) {
      assertThat(result.next()).isTrue();
      return result.getLong(2);
    }
  }

  private static String property(SparkSession spark, String location, String name) {
    return spark
        .sql("SHOW TBLPROPERTIES delta.`" + location + "` ('" + name + "')")
        .first()
        .getString(1);
  }

  private static String masterFile(Connection source) throws SQLException {
    try (Statement statement = source.createStatement();
        ResultSet result = statement.executeQuery("SHOW MASTER STATUS")) {
      assertThat(result.next()).isTrue();
      return result.getString(1);
    }
  }

  private static List<String> sourceRows(Connection source, String table) throws SQLException {
    return sourceRows(source, table, "");
  }

  /** The rows as {@code id|label}, or {@code id|label|<third>} with a third column expression. */
  private static List<String> sourceRows(Connection source, String table, String third)
      throws SQLException {
    List<String> rows = new ArrayList<>();
    String columns = third.isEmpty() ? "id, label" : "id, label, " + third;
    try (Statement statement = source.createStatement();
        ResultSet result = statement.executeQuery("SELECT " + columns + " FROM " + table)) {
      while (result.next()) {
        rows.add(
            result.getInt(1)
                + "|"
                + result.getString(2)
                + (third.isEmpty() ? "" : "|" + result.getString(3)));
      }
    }
    rows.sort(null);
    return rows;
  }

  private static List<String> mirrorRows(SparkSession spark, Run run, String table) {
    return mirrorRows(spark, run, table, "");
  }

  private static List<String> mirrorRows(SparkSession spark, Run run, String table, String third) {
    String location = run.mirror(table);
    if (!DeltaTables.exists(spark, location)) {
      return List.of();
    }
    return spark
        .read()
        .format("delta")
        .load(location)
        .selectExpr(
            "concat_ws('|', cast(id AS STRING), label"
                + (third.isEmpty() ? "" : ", " + third)
                + ")")
        .collectAsList()
        .stream()
        .map(row -> row.getString(0))
        .sorted()
        .toList();
  }

  private static PrintStream quietly() {
    return new PrintStream(new ByteArrayOutputStream(), true, UTF_8);
  }
}
