package io.lambdalake.ingestion.imports.bench;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.config.LakeConfigLoader;
import io.lambdalake.common.config.MariaDbConfig;
import io.lambdalake.ingestion.imports.ImportTarget;
import io.lambdalake.ingestion.imports.JdbcImportJob;
import io.lambdalake.spark.LakeSpark;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.apache.spark.sql.SparkSession;

/**
 * {@code scripts/bench import}: a MariaDB table of N rows imported by {@code lake import-jdbc} with
 * one and with several parallel reads, against the MariaDB client reading the same table in the
 * same run. Arguments: rows, then the mapper counts (e.g. {@code 5000000 1,2,4}). Prints one line
 * per run, and the summary last.
 */
public final class ImportBenchmark {
  private ImportBenchmark() {}

  public static void main(String[] arguments) throws Exception {
    long rows = arguments.length > 0 ? Long.parseLong(arguments[0]) : 5_000_000L;
    List<Integer> mappers = new ArrayList<>();
    for (String count : (arguments.length > 1 ? arguments[1] : "1,2,4").split(",")) {
      mappers.add(Integer.parseInt(count.strip()));
    }
    LakeConfig config = LakeConfigLoader.load();
    MariaDbConfig mariaDb = config.mariaDb();
    String database = "bench_import_" + System.currentTimeMillis();
    createTable(mariaDb, database, rows);

    Path passwordFile = Files.createTempFile("bench-import", ".password");
    Files.setPosixFilePermissions(passwordFile, PosixFilePermissions.fromString("rw-------"));
    Files.writeString(passwordFile, mariaDb.password(), StandardCharsets.UTF_8);
    passwordFile.toFile().deleteOnExit();

    double bestRate = 0;
    int bestMappers = 0;
    SparkSession spark = LakeSpark.session(config, "lambda-lake bench import");
    try {
      for (int count : mappers) {
        long started = System.nanoTime();
        JdbcImportJob.Result result =
            JdbcImportJob.run(
                spark,
                config,
                new JdbcImportJob.Options(
                    mariaDb.jdbcUrl(database),
                    Optional.of(mariaDb.user()),
                    Optional.of(Files.readString(passwordFile)),
                    Optional.of("orders"),
                    Optional.empty(),
                    List.of(),
                    Optional.empty(),
                    Optional.of("id"),
                    count,
                    10_000,
                    Optional.empty(),
                    Optional.empty(),
                    Optional.empty(),
                    ImportTarget.parse("raw.bench_orders_m" + count)),
                line -> System.err.println(line));
        double seconds = (System.nanoTime() - started) / 1e9;
        if (result.rows() != rows) {
          throw new IllegalStateException(
              "import with " + count + " mappers wrote " + result.rows() + " rows, not " + rows);
        }
        double rate = rows / seconds;
        System.out.printf(
            Locale.ROOT,
            "mappers=%d rows=%d seconds=%.1f rows_per_s=%.0f%n",
            count,
            rows,
            seconds,
            rate);
        if (rate > bestRate) {
          bestRate = rate;
          bestMappers = count;
        }
      }
    } finally {
      spark.stop();
    }

    double dumpRate = rows / dumpSeconds(mariaDb, database, rows);
    System.out.printf(Locale.ROOT, "baseline=mariadb-client rows_per_s=%.0f%n", dumpRate);
    System.out.printf(
        Locale.ROOT,
        "import: rows=%d mappers=%d rows_per_s=%.0f mariadb_dump_rows_per_s=%.0f ratio=%.2f%n",
        rows,
        bestMappers,
        bestRate,
        dumpRate,
        bestRate / dumpRate);
    dropDatabase(mariaDb, database);
  }

  /**
   * Orders with the column types imports care about, generated inside MariaDB (SEQUENCE engine).
   */
  private static void createTable(MariaDbConfig mariaDb, String database, long rows)
      throws SQLException {
    long started = System.nanoTime();
    try (Connection connection =
            DriverManager.getConnection(mariaDb.jdbcUrl(""), mariaDb.user(), mariaDb.password());
        Statement statement = connection.createStatement()) {
      statement.execute("CREATE DATABASE " + database);
      statement.execute(
          "CREATE TABLE "
              + database
              + ".orders (id BIGINT PRIMARY KEY, customer VARCHAR(32), amount DECIMAL(18, 4),"
              + " ordered_on DATE, updated_at DATETIME(6), note VARCHAR(64))");
      long chunk = 1_000_000;
      for (long first = 1; first <= rows; first += chunk) {
        long last = Math.min(rows, first + chunk - 1);
        statement.execute(
            "INSERT INTO "
                + database
                + ".orders SELECT seq, CONCAT('customer-', seq % 10007), (seq % 100000) / 7.0,"
                + " DATE '2020-01-01' + INTERVAL (seq % 2000) DAY,"
                + " TIMESTAMP '2020-01-01 00:00:00' + INTERVAL seq SECOND,"
                + " IF(seq % 10 = 0, NULL, CONCAT('order note ', seq)) FROM "
                + database
                + ".seq_"
                + first
                + "_to_"
                + last);
      }
    }
    System.err.printf(
        Locale.ROOT,
        "bench import: %s.orders with %d rows created in %.1f s%n",
        database,
        rows,
        (System.nanoTime() - started) / 1e9);
  }

  /** The MariaDB client streaming every row of the table as tab-separated text. */
  private static double dumpSeconds(MariaDbConfig mariaDb, String database, long rows)
      throws IOException, InterruptedException {
    Path options = Files.createTempFile("bench-import", ".cnf");
    Files.setPosixFilePermissions(options, PosixFilePermissions.fromString("rw-------"));
    Files.writeString(
        options,
        "[client]\nhost="
            + mariaDb.host()
            + "\nport="
            + mariaDb.port()
            + "\nuser="
            + mariaDb.user()
            + "\npassword="
            + mariaDb.password()
            + "\n");
    Path output = Files.createTempFile("bench-import", ".tsv");
    try {
      long started = System.nanoTime();
      Process dump =
          new ProcessBuilder(
                  "mariadb",
                  "--defaults-extra-file=" + options,
                  "--protocol=TCP",
                  "--quick",
                  "--batch",
                  "--skip-column-names",
                  "-e",
                  "SELECT * FROM " + database + ".orders")
              .redirectOutput(output.toFile())
              .redirectError(ProcessBuilder.Redirect.INHERIT)
              .start();
      if (dump.waitFor() != 0) {
        throw new IllegalStateException("the mariadb client failed: exit " + dump.exitValue());
      }
      double seconds = (System.nanoTime() - started) / 1e9;
      long lines;
      try (var stream = Files.lines(output)) {
        lines = stream.count();
      }
      if (lines != rows) {
        throw new IllegalStateException("the mariadb client wrote " + lines + " rows, not " + rows);
      }
      return seconds;
    } finally {
      Files.deleteIfExists(options);
      Files.deleteIfExists(output);
    }
  }

  private static void dropDatabase(MariaDbConfig mariaDb, String database) throws SQLException {
    try (Connection connection =
            DriverManager.getConnection(mariaDb.jdbcUrl(""), mariaDb.user(), mariaDb.password());
        Statement statement = connection.createStatement()) {
      statement.execute("DROP DATABASE " + database);
    }
  }
}
