package io.lambdalake.serving;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat_ws;
import static org.apache.spark.sql.functions.lit;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.lambdalake.batch.BatchJob;
import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.config.LakeConfigLoader;
import io.lambdalake.common.table.LakeTable;
import io.lambdalake.ingestion.cdc.CdcJob;
import io.lambdalake.ingestion.imports.JdbcImportCommand;
import io.lambdalake.ingestion.imports.JdbcImportJob;
import io.lambdalake.spark.DeltaTables;
import io.lambdalake.spark.views.HourlyViews;
import io.lambdalake.stack.testing.MariaDbSql;
import io.lambdalake.stack.testing.SharedStack;
import io.lambdalake.stack.testing.TestSpark;
import io.lambdalake.stack.testing.TrinoSql;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.Date;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The daily history of mirrored MySQL tables on the real stack: Maxwell-format changes over four
 * days (inserts, updates, primary-key updates of a single and a composite key, deletes, a row
 * deleted and inserted again in one transaction, a column added in the middle of a day, a change
 * that cannot be applied) go through the real CDC job into raw.mysql_changes; a third table is
 * loaded by a real snapshot import first. Each day's snapshot equals the state at the end of that
 * day computed in plain Java, whether the day was built from the previous day or from the whole
 * change log; a rerun leaves identical tables; Trino reads a snapshot after {@code lake serving
 * init} registered it.
 */
class MysqlHistoryIT {
  private static final Map<String, Object> DEFAULTS = Map.of("loyalty", 7);
  private static final List<String> CUSTOMER_COLUMNS = List.of("id", "email", "balance", "tier");
  private static final List<String> CUSTOMER_COLUMNS_LATER =
      List.of("id", "email", "balance", "tier", "loyalty");
  private static final List<String> LINE_COLUMNS = List.of("order_id", "line", "sku", "qty");
  private static final List<String> ITEM_COLUMNS = List.of("code", "label", "price");

  private final LocalDate today = LocalDate.now(ZoneOffset.UTC);
  private final LocalDate first = today.minusDays(3);
  private final LocalDate second = today.minusDays(2);
  private final LocalDate third = today.minusDays(1);
  private final Clock clock = Clock.systemUTC();

  private final MaxwellScript.Table customers =
      new MaxwellScript.Table(
          "customers", List.of("id", "email", "balance", "tier", "loyalty"), List.of("id"));
  private final MaxwellScript.Table lines =
      new MaxwellScript.Table(
          "order_lines", List.of("order_id", "line", "sku", "qty"), List.of("order_id", "line"));
  private final MaxwellScript.Table items =
      new MaxwellScript.Table("items", List.of("code", "label", "price"), List.of("code"));

  @Test
  void eachDayIsTheStateAtItsEndHoweverItWasComputed() throws Exception {
    String name = "histit" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    LakeConfig config = LakeConfigLoader.load(System.getenv(), SharedStack.ownLake(name));
    SparkSession spark = TestSpark.session();
    // After any real binlog file, so that the script's changes follow the snapshot import.
    MaxwellScript script =
        new MaxwellScript(
            name, "mariadb-bin.900001", first.atStartOfDay(ZoneOffset.UTC).toInstant());

    try (Connection source = connect()) {
      execute(
          source,
          "CREATE DATABASE " + name,
          "CREATE TABLE "
              + name
              + ".customers (id INT PRIMARY KEY, email VARCHAR(100) NOT NULL,"
              + " balance DECIMAL(12,2), tier ENUM('gold','silver','bronze'))",
          "CREATE TABLE "
              + name
              + ".order_lines (order_id INT, line INT, sku VARCHAR(20) NOT NULL,"
              + " qty INT NOT NULL, PRIMARY KEY (order_id, line))",
          "CREATE TABLE "
              + name
              + ".items (code CHAR(3) PRIMARY KEY, label VARCHAR(20), price DECIMAL(8,2))",
          "INSERT INTO "
              + name
              + ".items VALUES ('AAA', 'first', 1.50), ('BBB', 'second', 2.50),"
              + " ('CCC', 'third', 3.50)");
      snapshotImport(spark, config, name, "items");

      // Days one and two, through the CDC job.
      firstDay(script);
      secondDay(script);
      script.send(config, 0);
      int sent = script.size();
      runCdc(spark, config, name);

      BatchJob.run(spark, config, options(first, second, "history-1"), quietly(), clock);

      assertDay(spark, config, name, first, CUSTOMER_COLUMNS, script);
      assertDay(spark, config, name, second, CUSTOMER_COLUMNS, script);
      assertThat(days(spark, config, name, "items")).as("items before its import").isEmpty();

      // Day three: a column is added in the middle of the day.
      thirdDayBeforeTheNewColumn(script);
      execute(
          source, "ALTER TABLE " + name + ".customers ADD COLUMN loyalty INT NOT NULL DEFAULT 7");
      thirdDayWithTheNewColumn(script);
      importDay(script);
      script.send(config, sent);
      runCdc(spark, config, name);
    }

    // Days three and four from the published day two and the day's changes.
    BatchJob.run(spark, config, options(third, today, "history-1"), quietly(), clock);

    assertDay(spark, config, name, third, CUSTOMER_COLUMNS_LATER, script);
    assertDay(spark, config, name, today, CUSTOMER_COLUMNS_LATER, script);
    assertItems(spark, config, name, script);
    assertThat(bases(spark, config, name + ".customers"))
        .containsEntry(first, "change_log")
        .containsEntry(second, "previous_day")
        .containsEntry(third, "previous_day");
    assertThat(bases(spark, config, name + ".items")).containsEntry(today, "snapshot_import");
    List<String> incremental = withoutLogicVersion(spark, config, name, List.of(third, today));

    // Every day again under another logic version: from the change log, then day after day.
    BatchJob.run(spark, config, options(first, today, "history-2"), quietly(), clock);
    for (LocalDate day : List.of(first, second, third, today)) {
      assertDay(spark, config, name, day, CUSTOMER_COLUMNS_LATER, script);
    }
    assertItems(spark, config, name, script);
    assertThat(withoutLogicVersion(spark, config, name, List.of(third, today)))
        .isEqualTo(incremental);
    Map<String, List<String>> contents = contents(spark, config, name);

    // The same range again: identical tables.
    BatchJob.run(spark, config, options(first, today, "history-2"), quietly(), clock);
    assertThat(contents(spark, config, name)).isEqualTo(contents);

    // Day three alone under a third version: no usable day two, so from the whole change log.
    BatchJob.run(spark, config, options(third, third, "history-3"), quietly(), clock);
    assertThat(bases(spark, config, name + ".customers")).containsEntry(third, "change_log");
    assertThat(withoutLogicVersion(spark, config, name, List.of(third)))
        .isEqualTo(withoutLogicVersion(incremental, third));

    // Through Trino, after lake serving init registered the history tables.
    new ServingSetup(config).run(() -> spark, new PrintWriter(new StringWriter()));
    assertTrinoReadsTheSnapshot(spark, config, name);
  }

  // --- The script: four days of changes ----------------------------------------------------------

  private void firstDay(MaxwellScript script) {
    script.at(first.atTime(1, 0).toInstant(ZoneOffset.UTC));
    for (int id = 1; id <= 30; id++) {
      script.insert(customers, customer(id, "c" + id + "@example.com", cents(id * 1000), "gold"));
      if (id % 3 == 0) {
        script.commit();
      }
    }
    for (int order = 1; order <= 10; order++) {
      for (int line = 1; line <= 2; line++) {
        script.insert(lines, line(order, line, "SKU-" + order + line, line));
      }
      script.commit();
    }
    // Changed twice on its first day: the day ends with the second change.
    script
        .update(
            customers,
            customer(2, "c2@example.com", cents(2500), "silver"),
            Map.of("balance", cents(2000), "tier", "gold"))
        .commit();
    script
        .update(
            customers,
            customer(2, "c2@example.com", cents(2600), "silver"),
            Map.of("balance", cents(2500)))
        .commit();
  }

  private void secondDay(MaxwellScript script) {
    script.at(second.atTime(2, 0).toInstant(ZoneOffset.UTC));
    for (int id = 3; id <= 20; id += 4) {
      script
          .update(
              customers,
              customer(id, "c" + id + "@example.com", cents(id * 1000 + 1), "silver"),
              Map.of("balance", cents(id * 1000), "tier", "gold"))
          .commit();
    }
    // A primary-key update: the row moves from 5 to 105.
    script
        .update(customers, customer(105, "c5@example.com", cents(5000), "gold"), Map.of("id", 5))
        .commit();
    script.delete(customers, customer(7, "c7@example.com", cents(7000), "gold")).commit();
    // Updated and deleted on the same day.
    script
        .update(
            customers,
            customer(8, "c8@example.com", cents(1), "bronze"),
            Map.of("balance", cents(8000), "tier", "gold"))
        .delete(customers, customer(8, "c8@example.com", cents(1), "bronze"))
        .commit();
    // A value the column cannot hold: CDC quarantines it, the history does not apply it.
    script
        .unappliable(
            customers,
            customer(9, "c9@example.com", "not a number", "gold"),
            Map.of("balance", cents(9000)))
        .commit();
    // Composite keys: a line renumbered, a line deleted, a line deleted and inserted again.
    script.update(lines, line(3, 11, "SKU-31", 1), Map.of("line", 1)).commit();
    script.delete(lines, line(4, 2, "SKU-42", 2)).commit();
    script.delete(lines, line(6, 1, "SKU-61", 1)).insert(lines, line(6, 1, "AGAIN", 9)).commit();
  }

  private void thirdDayBeforeTheNewColumn(MaxwellScript script) {
    script.at(third.atTime(3, 0).toInstant(ZoneOffset.UTC));
    for (int id = 31; id <= 33; id++) {
      script.insert(customers, customer(id, "c" + id + "@example.com", cents(id), "bronze"));
    }
    script.commit();
    script
        .update(
            customers,
            customer(10, "c10@example.com", cents(10), "gold"),
            Map.of("balance", cents(10000)))
        .commit();
  }

  private void thirdDayWithTheNewColumn(MaxwellScript script) {
    script.at(third.atTime(15, 0).toInstant(ZoneOffset.UTC));
    Map<String, Object> eleven = customer(11, "c11@example.com", cents(11000), "gold");
    Map<String, Object> elevenLater = new LinkedHashMap<>(eleven);
    elevenLater.put("loyalty", 1);
    script.update(customers, elevenLater, Map.of("loyalty", 7)).commit();
    Map<String, Object> newcomer = customer(40, "c40@example.com", cents(40), "silver");
    newcomer.put("loyalty", 3);
    script.insert(customers, newcomer).commit();
    // The key moves back and forth on one day: 12 -> 112 -> 212.
    Map<String, Object> twelve = customer(112, "c12@example.com", cents(12000), "gold");
    twelve.put("loyalty", 7);
    script.update(customers, twelve, Map.of("id", 12)).commit();
    Map<String, Object> twelveAgain = new LinkedHashMap<>(twelve);
    twelveAgain.put("id", 212);
    script.update(customers, twelveAgain, Map.of("id", 112)).commit();
    script.update(lines, line(1, 1, "SKU-11", 5), Map.of("qty", 1)).commit();
  }

  /** Today: the imported table changes after its snapshot import. */
  private void importDay(MaxwellScript script) {
    script.at(today.atStartOfDay(ZoneOffset.UTC).toInstant().plusSeconds(60));
    script.update(items, item("AAA", "first", cents(175)), Map.of("price", cents(150))).commit();
    script.delete(items, item("BBB", "second", cents(250))).commit();
    script.insert(items, item("DDD", "fourth", cents(450))).commit();
  }

  private static Map<String, Object> customer(int id, String email, Object balance, String tier) {
    Map<String, Object> row = new LinkedHashMap<>();
    row.put("id", id);
    row.put("email", email);
    row.put("balance", balance);
    row.put("tier", tier);
    return row;
  }

  private static Map<String, Object> line(int order, int line, String sku, int qty) {
    Map<String, Object> row = new LinkedHashMap<>();
    row.put("order_id", order);
    row.put("line", line);
    row.put("sku", sku);
    row.put("qty", qty);
    return row;
  }

  private static Map<String, Object> item(String code, String label, BigDecimal price) {
    Map<String, Object> row = new LinkedHashMap<>();
    row.put("code", code);
    row.put("label", label);
    row.put("price", price);
    return row;
  }

  private static BigDecimal cents(long cents) {
    return BigDecimal.valueOf(cents, 2);
  }

  // --- What the history must hold ----------------------------------------------------------------

  private void assertDay(
      SparkSession spark,
      LakeConfig config,
      String database,
      LocalDate day,
      List<String> customerColumns,
      MaxwellScript script) {
    Instant end = day.plusDays(1).atStartOfDay(ZoneOffset.UTC).toInstant();
    assertThat(snapshot(spark, config, database, "customers", day, customerColumns))
        .as("customers at the end of %s", day)
        .isEqualTo(script.stateBefore(customers, end, customerColumns, DEFAULTS, Map.of(), 0));
    assertThat(snapshot(spark, config, database, "order_lines", day, LINE_COLUMNS))
        .as("order lines at the end of %s", day)
        .isEqualTo(script.stateBefore(lines, end, LINE_COLUMNS, Map.of(), Map.of(), 0));
  }

  private void assertItems(
      SparkSession spark, LakeConfig config, String database, MaxwellScript script) {
    Row position =
        table(spark, config.storage().tableLocation("mirror", database + "__items"))
            .filter(col("_cdc_source").equalTo("import"))
            .select("_cdc_binlog_position")
            .first();
    Map<List<Object>, Map<String, Object>> imported = new LinkedHashMap<>();
    imported.put(List.of("AAA"), item("AAA", "first", cents(150)));
    imported.put(List.of("BBB"), item("BBB", "second", cents(250)));
    imported.put(List.of("CCC"), item("CCC", "third", cents(350)));
    Instant end = today.plusDays(1).atStartOfDay(ZoneOffset.UTC).toInstant();
    assertThat(snapshot(spark, config, database, "items", today, ITEM_COLUMNS))
        .as("items at the end of the import's day")
        .isEqualTo(
            script.stateBefore(items, end, ITEM_COLUMNS, Map.of(), imported, position.getLong(0)));
    assertThat(days(spark, config, database, "items")).containsExactly(today);
  }

  private void assertTrinoReadsTheSnapshot(SparkSession spark, LakeConfig config, String database) {
    TrinoSql trino = new TrinoSql(config);
    String table =
        config.trino().catalog()
            + "."
            + config.trino().schema("batch")
            + ".mysql_history__"
            + database
            + "__customers";
    List<List<Object>> rows =
        trino.query(
            "SELECT id, email, CAST(balance AS VARCHAR), tier FROM "
                + table
                + " WHERE snapshot_date = DATE '"
                + second
                + "' AND id = 105");
    assertThat(rows).containsExactly(List.of(105, "c5@example.com", "50.00", "gold"));
    Object count =
        trino.scalar(
            "SELECT count(*) FROM " + table + " WHERE snapshot_date = DATE '" + third + "'");
    long sparkCount =
        table(spark, historyLocation(config, database, "customers"))
            .filter(col("snapshot_date").equalTo(lit(Date.valueOf(third))))
            .count();
    assertThat(((Number) count).longValue()).isEqualTo(sparkCount).isPositive();
    List<List<Object>> gone =
        trino.query(
            "SELECT id FROM "
                + table
                + " WHERE snapshot_date = DATE '"
                + third
                + "' AND id IN (5, 7, 8, 12, 112)");
    assertThat(gone).as("moved and deleted rows").isEmpty();
  }

  /** A table's snapshot of a day as text: the columns, then the newest change's position. */
  private static List<String> snapshot(
      SparkSession spark,
      LakeConfig config,
      String database,
      String name,
      LocalDate day,
      List<String> columns) {
    List<Column> texts = new ArrayList<>();
    for (String column : columns) {
      texts.add(coalesce(col(column).cast("string"), lit("<null>")));
    }
    texts.add(col("_cdc_binlog_position").cast("string"));
    return table(spark, historyLocation(config, database, name))
        .filter(col("snapshot_date").equalTo(lit(Date.valueOf(day))))
        .select(concat_ws("|", texts.toArray(Column[]::new)))
        .collectAsList()
        .stream()
        .map(row -> row.getString(0))
        .sorted()
        .toList();
  }

  private static List<LocalDate> days(
      SparkSession spark, LakeConfig config, String database, String name) {
    String location = historyLocation(config, database, name);
    if (!DeltaTables.exists(spark, location)) {
      return List.of();
    }
    return table(spark, location).select("snapshot_date").distinct().collectAsList().stream()
        .map(row -> row.getDate(0).toLocalDate())
        .sorted()
        .toList();
  }

  private static Map<LocalDate, String> bases(
      SparkSession spark, LakeConfig config, String sourceTable) {
    Map<LocalDate, String> bases = new LinkedHashMap<>();
    for (Row row :
        table(spark, LakeTable.BATCH_MYSQL_HISTORY_DAYS.location(config.storage()))
            .filter(col("source_table").equalTo(sourceTable))
            .collectAsList()) {
      bases.put(row.<Date>getAs("snapshot_date").toLocalDate(), row.getAs("base"));
    }
    return bases;
  }

  /** Every row of every history table as text, in a stable order. */
  private static Map<String, List<String>> contents(
      SparkSession spark, LakeConfig config, String database) {
    Map<String, List<String>> contents = new LinkedHashMap<>();
    for (String name : List.of("customers", "order_lines", "items")) {
      contents.put(
          name,
          table(spark, historyLocation(config, database, name)).collectAsList().stream()
              .map(Row::toString)
              .sorted()
              .toList());
    }
    return contents;
  }

  /** The rows of the days, all tables, without the logic version: "table|day|row". */
  private static List<String> withoutLogicVersion(
      SparkSession spark, LakeConfig config, String database, List<LocalDate> days) {
    List<String> rows = new ArrayList<>();
    for (String name : List.of("customers", "order_lines", "items")) {
      Dataset<Row> table =
          table(spark, historyLocation(config, database, name)).drop("logic_version");
      for (LocalDate day : days) {
        for (Row row :
            table.filter(col("snapshot_date").equalTo(lit(Date.valueOf(day)))).collectAsList()) {
          rows.add(name + "|" + day + "|" + row);
        }
      }
    }
    rows.sort(null);
    return rows;
  }

  private static List<String> withoutLogicVersion(List<String> rows, LocalDate day) {
    return rows.stream().filter(row -> row.contains("|" + day + "|")).toList();
  }

  private static String historyLocation(LakeConfig config, String database, String name) {
    return config.storage().tableLocation("batch", "mysql_history__" + database + "__" + name);
  }

  private static Dataset<Row> table(SparkSession spark, String location) {
    return spark.read().format("delta").load(location);
  }

  // --- The stack
  // ----------------------------------------------------------------------------------

  private static BatchJob.Options options(LocalDate from, LocalDate to, String logicVersion) {
    return new BatchJob.Options(from, to, logicVersion, HourlyViews.BotPolicy.EXCLUDE_BOTS);
  }

  /** The CDC job over what Kafka holds, until every table's mirror has taken the changes. */
  private static void runCdc(SparkSession spark, LakeConfig config, String database) {
    CdcJob.Options options =
        new CdcJob.Options(
            CdcJob.Sources.MAXWELL,
            CdcJob.Mode.AVAILABLE_NOW,
            Duration.ofSeconds(1),
            50_000,
            database,
            Duration.ofSeconds(2));
    CdcJob.run(spark, config, options, quietly());
    await()
        .atMost(Duration.ofMinutes(5))
        .pollInterval(Duration.ofSeconds(1))
        .until(
            () ->
                DeltaTables.exists(
                        spark, config.storage().tableLocation("mirror", database + "__customers"))
                    && DeltaTables.exists(
                        spark,
                        config.storage().tableLocation("mirror", database + "__order_lines")));
  }

  private static void snapshotImport(
      SparkSession spark, LakeConfig config, String database, String table) throws Exception {
    Path password = Files.createTempFile("history-it-", ".password");
    Files.setPosixFilePermissions(password, PosixFilePermissions.fromString("rw-------"));
    Files.writeString(password, config.mariaDb().password());
    try {
      JdbcImportJob.Options options =
          CommandLine.populateCommand(
                  new JdbcImportCommand(),
                  "--connect",
                  config.mariaDb().jdbcUrl(database),
                  "--username",
                  config.mariaDb().user(),
                  "--password-file",
                  password.toString(),
                  "--table",
                  table,
                  "--num-mappers",
                  "1",
                  "--target",
                  "mirror." + database + "__" + table)
              .options();
      JdbcImportJob.run(spark, config, options, line -> {});
    } finally {
      Files.deleteIfExists(password);
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
