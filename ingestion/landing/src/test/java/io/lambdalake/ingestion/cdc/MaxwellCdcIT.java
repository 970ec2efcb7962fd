package io.lambdalake.ingestion.cdc;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.apache.spark.sql.functions.col;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.lambdalake.common.cdc.ChangeEnvelope;
import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.config.LakeConfigLoader;
import io.lambdalake.common.kafka.KafkaClientProperties;
import io.lambdalake.common.table.LakeTable;
import io.lambdalake.spark.DeltaTables;
import io.lambdalake.stack.testing.JobProcesses;
import io.lambdalake.stack.testing.MariaDbSql;
import io.lambdalake.stack.testing.SharedStack;
import io.lambdalake.stack.testing.TestSpark;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

/**
 * Real MariaDB transactions through the real Maxwell and Kafka into the CDC job: every mirror
 * equals its source table row for row (types included), also after the job was killed with kill -9
 * in the middle of the stream; garbage and unappliable changes land in raw.cdc_quarantine.
 */
class MaxwellCdcIT {
  private static final String NULL = "<null>";

  /** One run's own source database, storage root and checkpoints. */
  private record Run(String database, LakeConfig config, Map<String, String> overrides) {
    static Run create() {
      String name = "cdcit" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
      Map<String, String> overrides = SharedStack.ownLake(name);
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
  void mirrorsEqualTheSourceAfterAKilledAndRestartedJob() throws Exception {
    Run run = Run.create();
    SparkSession spark = TestSpark.session();
    Random random = new Random(42);
    try (Connection source = connect()) {
      execute(
          source,
          "CREATE DATABASE " + run.database,
          "CREATE TABLE "
              + run.database
              + ".customers (id INT PRIMARY KEY,"
              + " email VARCHAR(100) NOT NULL, balance DECIMAL(12,2), created DATETIME(6),"
              + " birthday DATE, wake TIME(3), avatar BLOB, tier ENUM('gold','silver','bronze'),"
              + " tags SET('a','b','c'), note TEXT, big BIGINT UNSIGNED, ratio DOUBLE)",
          "CREATE TABLE "
              + run.database
              + ".order_lines (order_id INT, line INT,"
              + " sku VARCHAR(20) NOT NULL, qty INT NOT NULL, PRIMARY KEY (order_id, line))",
          "CREATE TABLE " + run.database + ".no_key (x INT)");
      // Phase 1, before the job runs.
      workload(source, run, random, 0, 200);
      execute(source, "INSERT INTO " + run.database + ".no_key VALUES (1), (2)");

      // The job in its own JVM, killed without warning while it applies phase 2.
      Path log = Files.createTempFile("cdc-job-", ".log");
      Process job = startJobProcess(run, log);
      try {
        await()
            .atMost(Duration.ofMinutes(10))
            .pollInterval(Duration.ofMillis(500))
            .until(() -> !job.isAlive() || mirrorRows(spark, run, "customers") > 0);
        assertThat(job.isAlive()).as("cdc job alive; log: %s", log).isTrue();
        workload(source, run, random, 200, 400);
        await().pollDelay(Duration.ofSeconds(3)).until(() -> true);
      } finally {
        job.destroyForcibly();
        assertThat(job.waitFor(30, TimeUnit.SECONDS)).isTrue();
      }

      // Phase 3 while the job is down: a column added, a table added, more changes.
      execute(
          source,
          "ALTER TABLE " + run.database + ".customers ADD COLUMN loyalty INT NOT NULL DEFAULT 7",
          "CREATE TABLE "
              + run.database
              + ".late_table (code CHAR(3) PRIMARY KEY, label VARCHAR(20))",
          "INSERT INTO " + run.database + ".late_table VALUES ('AAA', 'first'), ('BBB', 'second')",
          "UPDATE " + run.database + ".late_table SET code = 'CCC' WHERE code = 'AAA'");
      workload(source, run, random, 400, 500);
      execute(
          source, "UPDATE " + run.database + ".customers SET loyalty = id % 5 WHERE id % 3 = 0");

      // Restarted (in process, over what Kafka holds) until Maxwell delivered everything.
      await()
          .atMost(Duration.ofMinutes(20))
          .pollInterval(Duration.ofSeconds(1))
          .untilAsserted(
              () -> {
                CdcJob.run(spark, run.config, run.availableNow(), quietly());
                assertMirrorEqualsSource(spark, run, source, "customers", customersColumns(true));
                assertMirrorEqualsSource(
                    spark, run, source, "order_lines", List.of("order_id", "line", "sku", "qty"));
                assertMirrorEqualsSource(
                    spark, run, source, "late_table", List.of("code", "label"));
              });
    }

    Dataset<Row> raw =
        spark
            .read()
            .format("delta")
            .load(LakeTable.RAW_MYSQL_CHANGES.location(run.config.storage()));
    assertThat(raw.count())
        .as("every Kafka record once in the change log")
        .isEqualTo(
            raw.select("source_topic", "source_partition", "source_offset").distinct().count());
    assertThat(raw.filter(col("op").equalTo("d")).count()).isPositive();
    Dataset<Row> mirror = spark.read().format("delta").load(run.mirror("customers"));
    assertThat(mirror.filter(col("_cdc_source").notEqual("maxwell")).count()).isZero();
    assertThat(spark.read().format("delta").load(run.mirror("customers")).schema().fieldNames())
        .contains("loyalty", "_cdc_binlog_file", "_cdc_binlog_position", "_cdc_xoffset");
    assertThat(
            spark
                .sql(
                    "SHOW TBLPROPERTIES delta.`"
                        + run.mirror("customers")
                        + "`"
                        + " ('delta.enableChangeDataFeed')")
                .first()
                .getString(1))
        .isEqualTo("true");
    assertThat(quarantineReasons(spark, run)).containsEntry("no_primary_key", 2L);

    // A resync from the change log gives the same mirror.
    List<String> before =
        rows(
            spark.read().format("delta").load(run.mirror("order_lines")),
            List.of("order_id", "line", "sku", "qty"));
    long resynced =
        CdcJob.resync(
            spark,
            run.config,
            new ChangeEnvelope.SourceName(run.database, "order_lines"),
            quietly());
    assertThat(resynced).isEqualTo(before.size());
    assertThat(
            rows(
                spark.read().format("delta").load(run.mirror("order_lines")),
                List.of("order_id", "line", "sku", "qty")))
        .isEqualTo(before);
  }

  @Test
  void garbageAndUnappliableChangesAreQuarantinedAndTheStreamGoesOn() throws Exception {
    Run run = Run.create();
    SparkSession spark = TestSpark.session();
    String topic = run.config.topics().maxwellTopic(run.database, "items");
    try (Connection source = connect()) {
      execute(
          source,
          "CREATE DATABASE " + run.database,
          "CREATE TABLE " + run.database + ".items (id INT PRIMARY KEY, price DECIMAL(8,2))",
          "INSERT INTO " + run.database + ".items VALUES (1, 1.50), (2, 2.50)");
      try (KafkaProducer<byte[], byte[]> producer =
          new KafkaProducer<>(KafkaClientProperties.producer(run.config.kafka(), "cdc-it"))) {
        for (String garbage :
            List.of(
                "{not json",
                "[1,2]",
                "{\"database\":\"" + run.database + "\",\"type\":\"insert\"}",
                "{\"database\":\""
                    + run.database
                    + "\",\"table\":\"items\",\"type\":\"truncate\","
                    + "\"ts\":1,\"position\":\"mariadb-bin.000001:4\"}")) {
          producer.send(new ProducerRecord<>(topic, garbage.getBytes(UTF_8)));
        }
        producer.send(new ProducerRecord<>(topic, new byte[] {(byte) 0xff, (byte) 0xfe}));
        producer.flush();
      }
      execute(source, "INSERT INTO " + run.database + ".items VALUES (3, 3.50)");
      // The snapshot hand-off: rows before the recorded position are the import's, not CDC's.
      execute(source, "UPDATE " + run.database + ".items SET price = 9.99 WHERE id = 2");
      String[] position = masterStatus(source);
      try (KafkaProducer<byte[], byte[]> producer =
          new KafkaProducer<>(KafkaClientProperties.producer(run.config.kafka(), "cdc-it"))) {
        // After the snapshot position, so it is not skipped: a value the column cannot hold.
        String incompatible =
            "{\"database\":\""
                + run.database
                + "\",\"table\":\"items\",\"type\":\"insert\","
                + "\"ts\":1,\"position\":\""
                + position[0]
                + ":"
                + (Long.parseLong(position[1]) + 1)
                + "\",\"data\":{\"id\":99,\"price\":\"not a number\"}}";
        producer.send(new ProducerRecord<>(topic, incompatible.getBytes(UTF_8)));
        producer.flush();
      }
      execute(
          source,
          "INSERT INTO " + run.database + ".items VALUES (4, 4.50)",
          "UPDATE " + run.database + ".items SET price = 1.75 WHERE id = 1");
      spark
          .sql(
              "SELECT '"
                  + run.database
                  + ".items' AS source_table, '"
                  + position[0]
                  + "' AS binlog_file, CAST("
                  + position[1]
                  + " AS BIGINT) AS binlog_position,"
                  + " 'mirror."
                  + run.database
                  + "__items' AS target_table, 'snap-1' AS snapshot_id,"
                  + " current_timestamp() AS recorded_at")
          .write()
          .format("delta")
          .save(LakeTable.STATE_SNAPSHOT_POSITIONS.location(run.config.storage()));

      await()
          .atMost(Duration.ofMinutes(20))
          .pollInterval(Duration.ofSeconds(1))
          .untilAsserted(
              () -> {
                CdcJob.run(spark, run.config, run.availableNow(), quietly());
                assertThat(
                        rows(
                            spark.read().format("delta").load(run.mirror("items")),
                            List.of("id", "price")))
                    .containsExactly("1|1.75", "4|4.50");
              });
    }
    Map<String, Long> reasons = quarantineReasons(spark, run);
    assertThat(reasons)
        .containsEntry("malformed_json", 3L)
        .containsEntry("missing_field", 1L)
        .containsEntry("incompatible_type", 1L)
        .containsEntry("unsupported_change_type", 1L);
    Row incompatible =
        spark
            .read()
            .format("delta")
            .load(LakeTable.RAW_CDC_QUARANTINE.location(run.config.storage()))
            .filter(col("reason").equalTo("incompatible_type"))
            .first();
    assertThat(incompatible.<String>getAs("field")).isEqualTo("price");
    assertThat(incompatible.<String>getAs("source")).isEqualTo("cdc");
  }

  private static List<String> customersColumns(boolean withLoyalty) {
    List<String> columns =
        new ArrayList<>(
            List.of(
                "id",
                "email",
                "balance",
                "created",
                "birthday",
                "wake",
                "avatar",
                "tier",
                "tags",
                "note",
                "big",
                "ratio"));
    if (withLoyalty) {
      columns.add("loyalty");
    }
    return columns;
  }

  /** Inserts, updates, key updates and deletes on both tables, in transactions of a few rows. */
  private static void workload(Connection source, Run run, Random random, int from, int to)
      throws SQLException {
    String customers = run.database + ".customers";
    String lines = run.database + ".order_lines";
    source.setAutoCommit(false);
    try (PreparedStatement insert =
            source.prepareStatement(
                "INSERT INTO "
                    + customers
                    + " (id, email, balance, created, birthday, wake,"
                    + " avatar, tier, tags, note, big, ratio) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)");
        PreparedStatement line =
            source.prepareStatement("INSERT INTO " + lines + " VALUES (?, ?, ?, ?)");
        Statement statement = source.createStatement()) {
      for (int id = from; id < to; id++) {
        insert.setInt(1, id);
        insert.setString(2, "user" + id + "@example.com");
        insert.setBigDecimal(
            3,
            random.nextInt(10) == 0
                ? null
                : new BigDecimal(random.nextInt(1_000_000)).movePointLeft(2));
        insert.setString(
            4,
            "2026-11-"
                + (10 + id % 10)
                + " 12:34:56."
                + String.format("%06d", random.nextInt(1_000_000)));
        insert.setString(5, "19" + (50 + id % 50) + "-0" + (1 + id % 9) + "-1" + id % 10);
        insert.setString(6, (id % 24) + ":05:0" + id % 10 + "." + String.format("%03d", id % 1000));
        insert.setBytes(
            7, id % 4 == 0 ? null : new byte[] {(byte) id, 0, (byte) 0xff, (byte) (id >> 8)});
        insert.setString(8, List.of("gold", "silver", "bronze").get(id % 3));
        insert.setString(9, id % 5 == 0 ? "" : id % 2 == 0 ? "a,c" : "b");
        insert.setString(10, id % 6 == 0 ? null : "ñandú 🚀 " + id);
        insert.setString(11, id % 2 == 0 ? "18446744073709551615" : Integer.toString(id));
        insert.setDouble(12, id / 3.0);
        insert.executeUpdate();
        for (int l = 1; l <= 1 + id % 3; l++) {
          line.setInt(1, id);
          line.setInt(2, l);
          line.setString(3, "SKU-" + (id * 7 + l) % 97);
          line.setInt(4, 1 + l);
          line.executeUpdate();
        }
        if (id % 5 == 4) {
          source.commit();
        }
      }
      source.commit();
      int span = to - from;
      for (int i = 0; i < span / 2; i++) {
        int id = from + random.nextInt(span);
        statement.executeUpdate(
            "UPDATE "
                + customers
                + " SET balance = balance + 1.01, note = CONCAT(COALESCE(note,''), '!')"
                + " WHERE id = "
                + id);
        statement.executeUpdate(
            "UPDATE " + lines + " SET qty = qty + 1 WHERE order_id = " + id + " AND line = 1");
        if (i % 3 == 0) {
          source.commit();
        }
      }
      // Key updates: the mirror row must move, and nothing stays behind at the old key.
      statement.executeUpdate(
          "UPDATE "
              + customers
              + " SET id = id + 100000 WHERE id >= "
              + from
              + " AND id < "
              + to
              + " AND id % 7 = 0");
      statement.executeUpdate(
          "UPDATE "
              + lines
              + " SET line = line + 10 WHERE order_id >= "
              + from
              + " AND order_id < "
              + to
              + " AND order_id % 4 = 1");
      source.commit();
      statement.executeUpdate(
          "DELETE FROM "
              + customers
              + " WHERE id >= "
              + from
              + " AND id < "
              + to
              + " AND id % 11 = 3");
      statement.executeUpdate(
          "DELETE FROM "
              + lines
              + " WHERE order_id >= "
              + from
              + " AND order_id < "
              + to
              + " AND order_id % 13 = 5");
      // A row deleted and inserted again with the same key in one transaction.
      statement.executeUpdate(
          "DELETE FROM " + lines + " WHERE order_id = " + (from + 2) + " AND line = 1");
      statement.executeUpdate(
          "INSERT INTO " + lines + " VALUES (" + (from + 2) + ", 1, 'AGAIN', 9)");
      source.commit();
    } finally {
      source.setAutoCommit(true);
    }
  }

  private static void assertMirrorEqualsSource(
      SparkSession spark, Run run, Connection source, String table, List<String> columns)
      throws SQLException {
    String location = run.mirror(table);
    assertThat(DeltaTables.exists(spark, location)).as("mirror of %s exists", table).isTrue();
    List<String> expected = new ArrayList<>();
    List<String> select = new ArrayList<>();
    for (String column : columns) {
      select.add(mariaDbText(table, column));
    }
    try (Statement statement = source.createStatement();
        ResultSet result =
            statement.executeQuery(
                "SELECT " + String.join(", ", select) + " FROM " + run.database + "." + table)) {
      while (result.next()) {
        List<String> values = new ArrayList<>();
        for (int i = 1; i <= columns.size(); i++) {
          values.add(result.getString(i) == null ? NULL : result.getString(i));
        }
        expected.add(String.join("|", values));
      }
    }
    expected.sort(null);
    assertThat(rows(spark.read().format("delta").load(location), columns))
        .as("mirror of %s", table)
        .isEqualTo(expected);
  }

  /** A column's value as text, the same way on both sides. */
  private static String mariaDbText(String table, String column) {
    return switch (column) {
      case "created" -> "DATE_FORMAT(created, '%Y-%m-%d %H:%i:%s.%f')";
      case "avatar" -> "TO_BASE64(avatar)";
      case "ratio" -> "CAST(ratio AS CHAR)";
      default -> "CAST(`" + column + "` AS CHAR)";
    };
  }

  private static List<String> rows(Dataset<Row> mirror, List<String> columns) {
    List<Column> texts = new ArrayList<>();
    for (String column : columns) {
      Column text =
          switch (column) {
            case "created" ->
                org.apache.spark.sql.functions.date_format(
                    col(column), "yyyy-MM-dd HH:mm:ss.SSSSSS");
            case "avatar" -> org.apache.spark.sql.functions.base64(col(column));
            // MariaDB prints a whole DOUBLE without ".0"; the digits are otherwise the same.
            case "ratio" ->
                org.apache.spark.sql.functions.regexp_replace(
                    col(column).cast("string"), "\\.0$", "");
            default -> col(column).cast("string");
          };
      texts.add(
          org.apache.spark.sql.functions.coalesce(text, org.apache.spark.sql.functions.lit(NULL)));
    }
    return mirror
        .select(org.apache.spark.sql.functions.concat_ws("|", texts.toArray(Column[]::new)))
        .collectAsList()
        .stream()
        .map(row -> row.getString(0))
        .sorted()
        .toList();
  }

  private static Map<String, Long> quarantineReasons(SparkSession spark, Run run) {
    return spark
        .read()
        .format("delta")
        .load(LakeTable.RAW_CDC_QUARANTINE.location(run.config.storage()))
        .filter(col("source").equalTo("cdc"))
        .groupBy("reason")
        .count()
        .collectAsList()
        .stream()
        .collect(Collectors.toMap(row -> row.getString(0), row -> row.getLong(1)));
  }

  private static long mirrorRows(SparkSession spark, Run run, String table) {
    String location = run.mirror(table);
    return DeltaTables.exists(spark, location)
        ? spark.read().format("delta").load(location).count()
        : 0;
  }

  private static Process startJobProcess(Run run, Path log) throws Exception {
    return JobProcesses.start(
        CdcJob.class,
        run.overrides,
        List.of(
            "--sources=maxwell",
            "--databases=" + run.database,
            "--trigger=1s",
            "--max-records-per-batch=600",
            "--progress=2s"),
        log);
  }

  private static String[] masterStatus(Connection source) throws SQLException {
    try (Statement statement = source.createStatement();
        ResultSet result = statement.executeQuery("SHOW MASTER STATUS")) {
      assertThat(result.next()).isTrue();
      return new String[] {result.getString(1), Long.toString(result.getLong(2))};
    }
  }

  private static Connection connect() throws SQLException {
    return MariaDbSql.connect();
  }

  private static void execute(Connection connection, String... statements) throws SQLException {
    MariaDbSql.execute(connection, statements);
  }

  private static PrintStream quietly() {
    return new PrintStream(new ByteArrayOutputStream(), true, UTF_8);
  }
}
