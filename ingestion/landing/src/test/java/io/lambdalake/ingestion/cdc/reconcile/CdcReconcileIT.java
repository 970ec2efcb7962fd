package io.lambdalake.ingestion.cdc.reconcile;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.apache.spark.sql.functions.col;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.delta.tables.DeltaTable;
import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.config.LakeConfigLoader;
import io.lambdalake.common.launch.Launcher;
import io.lambdalake.ingestion.cdc.CdcCommand;
import io.lambdalake.ingestion.imports.JdbcImportCommand;
import io.lambdalake.ingestion.imports.JdbcImportJob;
import io.lambdalake.spark.cdc.ChangeEffects;
import io.lambdalake.stack.testing.MariaDbSql;
import io.lambdalake.stack.testing.SharedStack;
import io.lambdalake.stack.testing.TestSpark;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.UUID;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * {@code lake cdc reconcile} against the real MariaDB and mirrors on s3proxy (issue 24 item 4): a
 * mirror made to diverge on purpose (a row deleted, a value changed and a stray row added directly
 * in Delta, a source change CDC never saw) is found by range checksums and resynced until it equals
 * its source row by row; {@code --dry-run} only reports; a second run finds nothing.
 *
 * <p>Fault tier: three snapshot imports and four reconcile runs take minutes on the shared stack.
 */
@Tag("fault")
class CdcReconcileIT {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void reconcileFindsAndFixesEveryDivergenceAndReportsIt() throws Exception {
    String database = "rc" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    Map<String, String> overrides = SharedStack.ownLake(database);
    LakeConfig config = LakeConfigLoader.load(System.getenv(), overrides);
    try (Connection source = MariaDbSql.connect()) {
      MariaDbSql.execute(
          source,
          "CREATE DATABASE " + database,
          "CREATE TABLE "
              + database
              + ".items (id BIGINT PRIMARY KEY, name VARCHAR(64) CHARACTER SET utf8mb4,"
              + " amount DECIMAL(12, 2), born DATE, updated_at DATETIME(6), seen_at TIMESTAMP(3)"
              + " NULL, note TEXT, payload VARBINARY(16), flag TINYINT)",
          "CREATE TABLE " + database + ".notes (body VARCHAR(40))",
          "CREATE TABLE " + database + ".readings (id INT PRIMARY KEY, level DOUBLE)");
      List<String> rows = new ArrayList<>();
      for (int id = 1; id <= 200; id++) {
        rows.add(
            id % 7 == 0
                ? "(" + id + ", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)"
                : "(%d, 'Zoë ✓ #%d', %d.%02d, '2026-%02d-%02d', '2026-11-%02d 10:%02d:%02d.%06d',"
                        .formatted(
                            id,
                            id,
                            id * 3,
                            id % 100,
                            1 + id % 12,
                            1 + id % 28,
                            1 + id % 28,
                            id % 60,
                            id % 60,
                            id * 1001)
                    + " '2026-12-01 0%d:00:00.%03d', 'line\\nwith | and # %d', X'%02X00FF', %d)"
                        .formatted(id % 10, id, id, id, id % 3 - 1));
      }
      MariaDbSql.execute(
          source,
          "INSERT INTO " + database + ".items VALUES " + String.join(", ", rows),
          "INSERT INTO " + database + ".notes VALUES ('a'), ('b')",
          "INSERT INTO " + database + ".readings VALUES (1, 0.1), (2, 2.5)");
    }
    SparkSession spark = TestSpark.session();
    Path passwordFile = passwordFile(config);
    importMirror(spark, config, passwordFile, database, "items", "4");
    importMirror(spark, config, passwordFile, database, "notes", "1");
    importMirror(spark, config, passwordFile, database, "readings", "1");
    String mirror = config.storage().tableLocation("mirror", database + "__items");

    // Diverge: a row lost, a value changed and a stray row in the mirror; a change CDC never saw.
    DeltaTable.forPath(spark, mirror).delete("id = 10");
    DeltaTable.forPath(spark, mirror).updateExpr("id = 20", Map.of("name", "'wrong'"));
    Dataset<Row> mirrorRows = spark.read().format("delta").load(mirror);
    Row stray = mirrorRows.filter("id = 21").first();
    Object[] strayValues = new Object[stray.size()];
    for (int index = 0; index < stray.size(); index++) {
      strayValues[index] = stray.get(index);
    }
    strayValues[mirrorRows.schema().fieldIndex("id")] = 100_000L;
    spark
        .createDataFrame(List.of(RowFactory.create(strayValues)), mirrorRows.schema())
        .write()
        .format("delta")
        .mode("append")
        .save(mirror);
    try (Connection source = MariaDbSql.connect()) {
      MariaDbSql.execute(
          source, "UPDATE " + database + ".items SET amount = 0.01, note = 'ü' WHERE id = 30");
    }
    long versionBefore = version(spark, mirror);

    // --dry-run: reports the differences, exits 3 (quality check failed), changes nothing.
    Run dryRun = reconcile(overrides, database, "--dry-run");
    assertThat(dryRun.exitCode()).as(dryRun.output()).isEqualTo(3);
    assertThat(dryRun.counts())
        .containsEntry("tables_checked", 1L)
        .containsEntry("tables_skipped", 2L)
        .containsEntry("ranges_checked", 4L)
        .containsEntry("ranges_differing", 2L)
        .containsEntry("rows_inserted", 1L)
        .containsEntry("rows_updated", 2L)
        .containsEntry("rows_deleted", 1L);
    assertThat(dryRun.output())
        .contains("2 differing (id in [1, 25001), id in [75001, 100001))")
        .contains(database + ".notes", "no primary key")
        .contains(database + ".readings", "level", "double");
    assertThat(version(spark, mirror)).isEqualTo(versionBefore);

    // The real run: the same report, and the mirror equals the source row by row.
    Run fix = reconcile(overrides, database);
    assertThat(fix.exitCode()).as(fix.output()).isZero();
    assertThat(fix.counts())
        .containsEntry("tables_checked", 1L)
        .containsEntry("ranges_differing", 2L)
        .containsEntry("rows_inserted", 1L)
        .containsEntry("rows_updated", 2L)
        .containsEntry("rows_deleted", 1L);
    Dataset<Row> sourceRows = sourceRows(spark, config, database);
    Dataset<Row> fixed =
        spark.read().format("delta").load(mirror).select(sourceRows.columns()[0], rest(sourceRows));
    assertThat(fixed.count()).isEqualTo(200);
    assertThat(sourceRows.exceptAll(fixed).collectAsList()).isEmpty();
    assertThat(fixed.exceptAll(sourceRows).collectAsList()).isEmpty();
    // The resynced rows carry the binlog position read before their range: CDC goes on after it.
    Row resynced =
        spark.read().format("delta").load(mirror).filter("id = 30").select("_cdc_xoffset").first();
    assertThat(resynced.getLong(0)).isEqualTo(-1L);
    assertThat(
            spark
                .read()
                .format("delta")
                .load(mirror)
                .filter(col(ChangeEffects.SOURCE).equalTo("reconcile"))
                .count())
        .isEqualTo(3);

    // A second run finds nothing to fix.
    Run again = reconcile(overrides, database);
    assertThat(again.exitCode()).as(again.output()).isZero();
    assertThat(again.counts())
        .containsEntry("ranges_differing", 0L)
        .containsEntry("rows_inserted", 0L)
        .containsEntry("rows_updated", 0L)
        .containsEntry("rows_deleted", 0L);
  }

  private record Run(int exitCode, String output, Map<String, Long> counts) {}

  private static Run reconcile(Map<String, String> overrides, String database, String... extra)
      throws Exception {
    Path record = Files.createTempFile(database, ".json");
    List<String> arguments =
        new ArrayList<>(
            List.of(
                "reconcile",
                "--databases",
                database,
                "--ranges",
                "4",
                "--run-record",
                record.toString()));
    arguments.addAll(List.of(extra));
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    // The command prints its lines to the process's standard output, as every lake command.
    ByteArrayOutputStream printed = new ByteArrayOutputStream();
    PrintStream standardOutput = System.out;
    System.setOut(new PrintStream(printed, true, UTF_8));
    int exitCode;
    try {
      exitCode =
          new Launcher(
                  System.getenv(),
                  overrides,
                  new PrintWriter(out, true),
                  new PrintWriter(err, true),
                  Clock.systemUTC())
              .execute(new CdcCommand(), arguments.toArray(String[]::new));
    } finally {
      System.setOut(standardOutput);
    }
    standardOutput.print(printed.toString(UTF_8));
    JsonNode counts = JSON.readTree(Files.readString(record, UTF_8)).path("counts");
    Map<String, Long> values = new TreeMap<>();
    counts
        .fields()
        .forEachRemaining(entry -> values.put(entry.getKey(), entry.getValue().asLong()));
    return new Run(exitCode, printed.toString(UTF_8) + out + "\n" + err, values);
  }

  private static void importMirror(
      SparkSession spark,
      LakeConfig config,
      Path passwordFile,
      String database,
      String table,
      String mappers) {
    JdbcImportCommand command = new JdbcImportCommand();
    new CommandLine(command)
        .parseArgs(
            "--connect",
            config.mariaDb().jdbcUrl(database),
            "--username",
            config.mariaDb().user(),
            "--password-file",
            passwordFile.toString(),
            "--table",
            table,
            "--num-mappers",
            mappers,
            "--target",
            "mirror." + database + "__" + table);
    JdbcImportJob.run(spark, config, command.options(), line -> {});
  }

  private static Dataset<Row> sourceRows(SparkSession spark, LakeConfig config, String database) {
    Properties properties = new Properties();
    properties.setProperty("user", config.mariaDb().user());
    properties.setProperty("password", config.mariaDb().password());
    return spark.read().jdbc(config.mariaDb().jdbcUrl(database), "items", properties);
  }

  private static String[] rest(Dataset<Row> rows) {
    String[] columns = rows.columns();
    return Arrays.copyOfRange(columns, 1, columns.length);
  }

  private static long version(SparkSession spark, String location) {
    return DeltaTable.forPath(spark, location).history(1).first().<Long>getAs("version");
  }

  private static Path passwordFile(LakeConfig config) throws Exception {
    Path file = Files.createTempFile("reconcile", ".password");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    Files.writeString(file, config.mariaDb().password() + "\n");
    file.toFile().deleteOnExit();
    return file;
  }
}
