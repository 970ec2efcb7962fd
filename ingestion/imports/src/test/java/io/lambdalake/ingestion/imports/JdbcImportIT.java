package io.lambdalake.ingestion.imports;

import static org.apache.spark.sql.functions.col;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.common.table.LakeTable;
import io.lambdalake.ingestion.imports.internal.JdbcSource.BinlogPosition;
import io.lambdalake.spark.DeltaTables;
import io.lambdalake.spark.cdc.CdcLease;
import io.lambdalake.stack.testing.JobProcesses;
import io.lambdalake.stack.testing.TestSpark;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Date;
import java.sql.Timestamp;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** lake import-jdbc against the real MariaDB of the local stack, into Delta on s3proxy. */
class JdbcImportIT {
  private static final String ORDERS =
      "CREATE TABLE orders (id BIGINT PRIMARY KEY, customer VARCHAR(64), amount DECIMAL(20, 6),"
          + " ordered_on DATE, updated_at DATETIME(6), note TEXT)";

  @Test
  void parallelImportEqualsTheSourceRowsAndTypes() throws Exception {
    ImportFixture fixture = ImportFixture.create();
    fixture.execute(ORDERS);
    insertOrders(fixture, 1, 1_000);
    SparkSession spark = TestSpark.session();

    JdbcImportJob.Result result =
        JdbcImportJob.run(
            spark,
            fixture.config(),
            options(fixture, "--table", "orders", "--num-mappers", "3", "--target", "raw.orders"),
            line -> {});

    assertThat(result.rows()).isEqualTo(1_000);
    Dataset<Row> imported = table(spark, fixture, "raw", "orders");
    StructType schema = imported.schema();
    assertThat(schema.apply("id").dataType()).isEqualTo(DataTypes.LongType);
    assertThat(schema.apply("amount").dataType()).isEqualTo(DataTypes.createDecimalType(20, 6));
    assertThat(schema.apply("ordered_on").dataType()).isEqualTo(DataTypes.DateType);
    assertThat(schema.apply("updated_at").dataType()).isEqualTo(DataTypes.TimestampType);
    assertThat(schema.apply("customer").dataType()).isEqualTo(DataTypes.StringType);
    assertThat(rowsOf(imported)).isEqualTo(sourceRows(fixture, "SELECT * FROM orders"));
    // Three reads of a third of the range each: three Delta files, not one.
    assertThat(imported.inputFiles()).hasSizeGreaterThanOrEqualTo(3);

    // A free-form query with $CONDITIONS, split on a column of its result.
    JdbcImportJob.run(
        spark,
        fixture.config(),
        options(
            fixture,
            "--query",
            "SELECT o.id, o.amount FROM orders o WHERE o.amount > 100 AND $CONDITIONS",
            "--split-by",
            "o.id",
            "--num-mappers",
            "2",
            "--target",
            "raw.big_orders"),
        line -> {});
    assertThat(table(spark, fixture, "raw", "big_orders").count())
        .isEqualTo(fixture.query("SELECT COUNT(*) FROM orders WHERE amount > 100").get(0).get(0));
  }

  @Test
  void incrementalAppendContinuesFromState() throws Exception {
    ImportFixture fixture = ImportFixture.create();
    fixture.execute(ORDERS);
    insertOrders(fixture, 1, 100);
    SparkSession spark = TestSpark.session();
    String[] arguments = {
      "--table",
      "orders",
      "--incremental",
      "append",
      "--check-column",
      "id",
      "--split-by",
      "id",
      "--num-mappers",
      "2",
      "--target",
      "raw.orders"
    };

    assertThat(
            JdbcImportJob.run(spark, fixture.config(), options(fixture, arguments), l -> {}).rows())
        .isEqualTo(100);
    insertOrders(fixture, 101, 150);
    JdbcImportJob.Result second =
        JdbcImportJob.run(spark, fixture.config(), options(fixture, arguments), l -> {});
    JdbcImportJob.Result third =
        JdbcImportJob.run(spark, fixture.config(), options(fixture, arguments), l -> {});

    assertThat(second.rows()).isEqualTo(50);
    assertThat(second.lastValue()).contains("150");
    assertThat(third.rows()).isZero();
    Dataset<Row> imported = table(spark, fixture, "raw", "orders");
    assertThat(imported.count()).isEqualTo(150);
    assertThat(imported.select("id").distinct().count()).isEqualTo(150);
    assertThat(rowsOf(imported)).isEqualTo(sourceRows(fixture, "SELECT * FROM orders"));
    Row state = progress(spark, fixture).orderBy(col("run_version").desc()).first();
    assertThat(state.<Long>getAs("run_version")).isEqualTo(2);
    assertThat(state.<String>getAs("last_value")).isEqualTo("150");
  }

  @Test
  void incrementalLastModifiedImportsChangedRowsAgain() throws Exception {
    ImportFixture fixture = ImportFixture.create();
    fixture.execute(ORDERS);
    insertOrders(fixture, 1, 40);
    SparkSession spark = TestSpark.session();
    String[] arguments = {
      "--table",
      "orders",
      "--incremental",
      "lastmodified",
      "--check-column",
      "updated_at",
      "--num-mappers",
      "1",
      "--target",
      "raw.orders"
    };

    JdbcImportJob.Result first =
        JdbcImportJob.run(spark, fixture.config(), options(fixture, arguments), l -> {});
    fixture.execute(
        "UPDATE orders SET amount = amount + 1, updated_at = CURRENT_TIMESTAMP(6) WHERE id <= 5");
    JdbcImportJob.Result second =
        JdbcImportJob.run(spark, fixture.config(), options(fixture, arguments), l -> {});

    assertThat(first.rows()).isEqualTo(40);
    assertThat(second.rows()).isEqualTo(5);
    Dataset<Row> imported = table(spark, fixture, "raw", "orders");
    assertThat(imported.count()).isEqualTo(45);
    // The newest version of each row equals the source.
    Dataset<Row> newest =
        imported
            .withColumn(
                "rank",
                org.apache
                    .spark
                    .sql
                    .functions
                    .row_number()
                    .over(Window.partitionBy("id").orderBy(col("updated_at").desc())))
            .filter(col("rank").equalTo(1))
            .drop("rank");
    assertThat(rowsOf(newest)).isEqualTo(sourceRows(fixture, "SELECT * FROM orders"));
  }

  @Test
  void aRunKilledBetweenTargetAndStateCommitsIsCompletedNotRepeated() throws Exception {
    ImportFixture fixture = ImportFixture.create();
    fixture.execute(ORDERS);
    insertOrders(fixture, 1, 200);
    Path passwordFile = fixture.passwordFile();
    List<String> arguments =
        List.of(
            "--connect",
            fixture.url(),
            "--username",
            fixture.config().mariaDb().user(),
            "--password-file",
            passwordFile.toString(),
            "--table",
            "orders",
            "--incremental",
            "append",
            "--check-column",
            "id",
            "--num-mappers",
            "2",
            "--target",
            "raw.orders");

    // A real JVM that halts (no shutdown hooks, like kill -9) right after the target commit.
    Path log = Files.createTempFile(fixture.name(), ".log");
    Process crashed = startImportProcess(fixture, arguments, log);
    assertThat(crashed.waitFor(5, TimeUnit.MINUTES)).as("import process ended").isTrue();
    assertThat(crashed.exitValue()).as("exit code, see " + log).isEqualTo(137);
    SparkSession spark = TestSpark.session();
    assertThat(table(spark, fixture, "raw", "orders").count()).isEqualTo(200);
    assertThat(
            DeltaTables.exists(
                spark, LakeTable.STATE_IMPORT_PROGRESS.location(fixture.config().storage())))
        .isFalse();

    insertOrders(fixture, 201, 230);
    JdbcImportJob.Result rerun =
        JdbcImportJob.run(
            spark,
            fixture.config(),
            CommandLine.populateCommand(new JdbcImportCommand(), arguments.toArray(String[]::new))
                .options(),
            l -> {});

    assertThat(rerun.recoveredPreviousRun()).isTrue();
    assertThat(rerun.rows()).isEqualTo(30);
    Dataset<Row> imported = table(spark, fixture, "raw", "orders");
    assertThat(imported.count()).isEqualTo(230);
    assertThat(imported.select("id").distinct().count()).isEqualTo(230);
    assertThat(progress(spark, fixture).select("run_version").as(Encoders.LONG()).collectAsList())
        .containsExactlyInAnyOrder(1L, 2L);
  }

  @Test
  void moreThanOneMapperNeedsASplitColumn() throws Exception {
    ImportFixture fixture = ImportFixture.create();
    fixture.execute(
        "CREATE TABLE notes (body TEXT, created DATE)",
        "INSERT INTO notes VALUES ('a', '2026-01-01')");
    SparkSession spark = TestSpark.session();

    assertThatThrownBy(
            () ->
                JdbcImportJob.run(
                    spark,
                    fixture.config(),
                    options(
                        fixture, "--table", "notes", "--num-mappers", "2", "--target", "raw.notes"),
                    l -> {}))
        .isInstanceOf(LakeException.class)
        .hasMessageContaining("--split-by is needed with --num-mappers 2")
        .hasMessageContaining("no single-column primary key");
    assertThatThrownBy(
            () ->
                JdbcImportJob.run(
                    spark,
                    fixture.config(),
                    options(
                        fixture,
                        "--query",
                        "SELECT * FROM notes WHERE $CONDITIONS",
                        "--num-mappers",
                        "2",
                        "--target",
                        "raw.notes"),
                    l -> {}))
        .isInstanceOf(LakeException.class)
        .hasMessageContaining("--split-by is needed with --num-mappers 2 and --query");
    assertThatThrownBy(
            () ->
                JdbcImportJob.run(
                    spark,
                    fixture.config(),
                    options(
                        fixture,
                        "--table",
                        "notes",
                        "--split-by",
                        "body",
                        "--num-mappers",
                        "2",
                        "--target",
                        "raw.notes"),
                    l -> {}))
        .isInstanceOf(LakeException.class)
        .hasMessageContaining("--split-by body has JDBC type");
    // With one mapper no split column is needed.
    assertThat(
            JdbcImportJob.run(
                    spark,
                    fixture.config(),
                    options(
                        fixture, "--table", "notes", "--num-mappers", "1", "--target", "raw.notes"),
                    l -> {})
                .rows())
        .isEqualTo(1);
  }

  @Test
  void aMirrorSnapshotRecordsTheBinlogPositionItStartedFrom() throws Exception {
    ImportFixture fixture = ImportFixture.create();
    fixture.execute(ORDERS);
    insertOrders(fixture, 1, 300);
    SparkSession spark = TestSpark.session();
    BinlogPosition before = binlogPosition(fixture);

    String target = "mirror." + fixture.database() + "__orders";
    JdbcImportJob.Result result =
        JdbcImportJob.run(
            spark,
            fixture.config(),
            options(fixture, "--table", "orders", "--num-mappers", "2", "--target", target),
            l -> {});

    BinlogPosition recorded = result.position().orElseThrow();
    assertThat(recorded.file()).isEqualTo(before.file());
    assertThat(recorded.position()).isGreaterThanOrEqualTo(before.position());
    Row position =
        spark
            .read()
            .format("delta")
            .load(LakeTable.STATE_SNAPSHOT_POSITIONS.location(fixture.config().storage()))
            .filter(col("snapshot_id").equalTo(result.snapshotId()))
            .first();
    assertThat(position.<String>getAs("source_table")).isEqualTo(fixture.database() + ".orders");
    assertThat(position.<String>getAs("target_table")).isEqualTo(target);
    assertThat(position.<String>getAs("binlog_file")).isEqualTo(recorded.file());
    assertThat(position.<Long>getAs("binlog_position")).isEqualTo(recorded.position());

    String location = ImportTarget.parse(target).location(fixture.config().storage());
    Dataset<Row> mirror = spark.read().format("delta").load(location);
    assertThat(mirror.count()).isEqualTo(300);
    assertThat(mirror.filter(col("_cdc_source").notEqual("import")).count()).isZero();
    assertThat(mirror.filter(col("_cdc_xoffset").notEqual(-1L)).count()).isZero();
    assertThat(mirror.filter(col("_cdc_binlog_position").notEqual(recorded.position())).count())
        .isZero();
    assertThat(
            rowsOf(
                mirror.drop(
                    "_cdc_binlog_file",
                    "_cdc_binlog_position",
                    "_cdc_xoffset",
                    "_cdc_changed_at",
                    "_cdc_source")))
        .isEqualTo(sourceRows(fixture, "SELECT * FROM orders"));
    String feed =
        spark
            .sql("SHOW TBLPROPERTIES delta.`" + location + "` ('delta.enableChangeDataFeed')")
            .first()
            .getString(1);
    assertThat(feed).isEqualTo("true");

    // A mirror named after another table is refused before anything is read.
    assertThatThrownBy(
            () ->
                JdbcImportJob.run(
                    spark,
                    fixture.config(),
                    options(
                        fixture,
                        "--table",
                        "orders",
                        "--num-mappers",
                        "1",
                        "--target",
                        "mirror.other__orders"),
                    l -> {}))
        .isInstanceOf(LakeException.class)
        .hasMessageContaining("mirrors other.orders");
  }

  /**
   * A snapshot into a mirror that a running {@code lake cdc} writes is refused (issue 24 item 5:
   * the copy would overwrite what CDC applies meanwhile); once CDC stops, it goes ahead.
   */
  @Test
  void aSnapshotIntoAMirrorThatCdcIsWritingIsRefused() throws Exception {
    ImportFixture fixture = ImportFixture.create();
    fixture.execute(ORDERS);
    insertOrders(fixture, 1, 20);
    SparkSession spark = TestSpark.session();
    String target = "mirror." + fixture.database() + "__orders";
    JdbcImportJob.Options options =
        options(fixture, "--table", "orders", "--num-mappers", "1", "--target", target);

    try (CdcLease cdc =
        CdcLease.hold(
            spark.sessionState().newHadoopConf(),
            fixture.config().storage(),
            "cdc-maxwell",
            "other|" + fixture.database())) {
      assertThatThrownBy(() -> JdbcImportJob.run(spark, fixture.config(), options, l -> {}))
          .isInstanceOfSatisfying(
              LakeException.class,
              e -> assertThat(e.errorCode()).isEqualTo(ErrorCode.ORCHESTRATION_CONFLICT))
          .hasMessageContaining("lake cdc stream cdc-maxwell")
          .hasMessageContaining(fixture.database() + ".orders")
          .hasMessageContaining("Stop lake cdc");
      assertThat(
              DeltaTables.exists(
                  spark, ImportTarget.parse(target).location(fixture.config().storage())))
          .isFalse();
    }

    JdbcImportJob.Result result = JdbcImportJob.run(spark, fixture.config(), options, l -> {});
    assertThat(result.rows()).isEqualTo(20);
  }

  // ---------------------------------------------------------------------------------------------

  private static JdbcImportJob.Options options(ImportFixture fixture, String... arguments)
      throws Exception {
    List<String> all = new ArrayList<>();
    all.addAll(
        List.of(
            "--connect",
            fixture.url(),
            "--username",
            fixture.config().mariaDb().user(),
            "--password-file",
            fixture.passwordFile().toString()));
    all.addAll(List.of(arguments));
    return CommandLine.populateCommand(new JdbcImportCommand(), all.toArray(String[]::new))
        .options();
  }

  private static void insertOrders(ImportFixture fixture, int first, int last) {
    StringBuilder sql =
        new StringBuilder(
            "INSERT INTO orders (id, customer, amount, ordered_on, updated_at, note) VALUES ");
    for (int id = first; id <= last; id++) {
      if (id > first) {
        sql.append(", ");
      }
      // Every 7th row has NULLs; amounts use all six decimals and more than 15 digits.
      boolean nulls = id % 7 == 0;
      sql.append("(")
          .append(id)
          .append(", ")
          .append(nulls ? "NULL" : "'customer-" + (id % 13) + "'")
          .append(", ")
          .append(nulls ? "NULL" : "12345678901234.5" + String.format("%05d", id % 100000))
          .append(", ")
          .append(nulls ? "NULL" : "'2026-0" + (1 + id % 9) + "-1" + (id % 10) + "'")
          .append(", '2026-01-01 00:00:00.000000' + INTERVAL ")
          .append(id * 1_001)
          .append(" MICROSECOND, ")
          .append(nulls ? "NULL" : "'it''s order " + id + "'")
          .append(")");
    }
    fixture.execute(sql.toString());
  }

  private static Dataset<Row> table(
      SparkSession spark, ImportFixture fixture, String zone, String name) {
    return spark.read().format("delta").load(fixture.config().storage().tableLocation(zone, name));
  }

  private static Dataset<Row> progress(SparkSession spark, ImportFixture fixture) {
    return spark
        .read()
        .format("delta")
        .load(LakeTable.STATE_IMPORT_PROGRESS.location(fixture.config().storage()));
  }

  /** The rows of id, customer, amount, ordered_on, updated_at, note as comparable values. */
  private static Set<List<Object>> rowsOf(Dataset<Row> rows) {
    Set<List<Object>> result = new HashSet<>();
    for (Row row :
        rows.select("id", "customer", "amount", "ordered_on", "updated_at", "note")
            .collectAsList()) {
      List<Object> values = new ArrayList<>();
      values.add(row.getLong(0));
      values.add(row.get(1));
      values.add(row.get(2));
      values.add(row.isNullAt(3) ? null : ((Date) row.get(3)).toLocalDate());
      values.add(row.isNullAt(4) ? null : ((Timestamp) row.get(4)).toLocalDateTime());
      values.add(row.get(5));
      result.add(values);
    }
    return result;
  }

  private static Set<List<Object>> sourceRows(ImportFixture fixture, String sql) {
    Set<List<Object>> result = new HashSet<>();
    for (List<Object> row : fixture.query(sql)) {
      List<Object> values = new ArrayList<>();
      values.add(((Number) row.get(0)).longValue());
      values.add(row.get(1));
      values.add(row.get(2) == null ? null : (BigDecimal) row.get(2));
      values.add(row.get(3) == null ? null : toLocalDate(row.get(3)));
      values.add(row.get(4) == null ? null : toLocalDateTime(row.get(4)));
      values.add(row.get(5));
      result.add(values);
    }
    return result;
  }

  private static LocalDate toLocalDate(Object value) {
    return value instanceof Date date ? date.toLocalDate() : (LocalDate) value;
  }

  private static LocalDateTime toLocalDateTime(Object value) {
    return value instanceof Timestamp timestamp
        ? timestamp.toLocalDateTime()
        : (LocalDateTime) value;
  }

  private static BinlogPosition binlogPosition(ImportFixture fixture) {
    List<Object> row = fixture.query("SHOW MASTER STATUS").get(0);
    return new BinlogPosition((String) row.get(0), ((Number) row.get(1)).longValue());
  }

  private static Process startImportProcess(ImportFixture fixture, List<String> arguments, Path log)
      throws Exception {
    Map<String, String> properties = new LinkedHashMap<>(fixture.overrides());
    properties.put(JdbcImportJob.HALT_AFTER_TARGET_COMMIT, "true");
    properties.put("lake.spark.master", "local[1]");
    return JobProcesses.start(JdbcImportJob.class, properties, arguments, log);
  }
}
