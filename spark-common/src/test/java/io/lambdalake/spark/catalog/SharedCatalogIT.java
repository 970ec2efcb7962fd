package io.lambdalake.spark.catalog;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.config.StorageConfig;
import io.lambdalake.stack.S3ProxyServer;
import io.lambdalake.stack.testing.JobProcesses;
import io.lambdalake.stack.testing.SharedStack;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * One catalog for Spark and Trino, each over its own Thrift connection to the stack's Hive
 * Metastore: a Spark application writes a Delta table by path and registers its name, Trino selects
 * its rows by {@code schema.table} (no register_table), and a second Spark application reads it by
 * name. Needs a stack whose catalog is the metastore: {@code LAKE_CATALOG_TYPE=thrift}.
 */
@Tag("catalog")
class SharedCatalogIT {
  private static final List<String> ORDERS =
      List.of("1,alice,10.50", "2,bob,7.25", "3,carol,99.00");
  private static LakeConfig config;

  @TempDir Path folder;

  @BeforeAll
  static void theCatalogIsTheMetastore() {
    config = SharedStack.config();
    assertThat(config.catalog().isShared())
        .as(
            "lake.catalog.type is %s: run this test with LAKE_CATALOG_TYPE=thrift against a stack"
                + " started with it",
            config.catalog().type().configName())
        .isTrue();
  }

  @Test
  void aTableOneSparkApplicationRegistersIsReadByNameInTrinoAndInAnotherSparkApplication()
      throws Exception {
    String zone = "catalogit" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    String table = "orders";
    String location = config.storage().tableLocation(zone, table);

    run("write", zone, table, location);

    assertThat(ordersInTrino(zone, table)).containsExactlyElementsOf(ORDERS);
    Path output = folder.resolve("rows.csv");
    run("read", zone, table, output.toString());
    assertThat(Files.readAllLines(output, UTF_8)).containsExactlyElementsOf(ORDERS);
    // Registering the name wrote nothing to the table: its log holds the writer's one commit.
    assertThat(deltaLog(location)).containsExactly("00000000000000000000.json");
  }

  /**
   * The way {@code lake serving init} names a table no job named (written with the file catalog, or
   * by a job without Hive support): Trino's register_table writes it into the same metastore, and
   * Spark reads it by that name.
   */
  @Test
  void aTableTrinoRegistersIsReadByNameInSpark() throws Exception {
    String zone = "catalogit" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    String table = "orders";
    String location = config.storage().tableLocation(zone, table);
    run("write-by-path-only", zone, table, location);
    String schema = config.trino().schema(zone);
    trinoExecute(
        "CREATE SCHEMA IF NOT EXISTS "
            + config.trino().catalog()
            + "."
            + schema
            + " WITH (location = '"
            + StorageConfig.trinoLocation(config.storage().zoneLocation(zone))
            + "')");
    trinoExecute(
        "CALL "
            + config.trino().catalog()
            + ".system.register_table(schema_name => '"
            + schema
            + "', table_name => '"
            + table
            + "', table_location => '"
            + StorageConfig.trinoLocation(location)
            + "')");

    Path output = folder.resolve("rows.csv");
    run("read", zone, table, output.toString());
    assertThat(Files.readAllLines(output, UTF_8)).containsExactlyElementsOf(ORDERS);
  }

  /**
   * A second copy of the lake without a schema prefix of its own writes the same zone and table
   * elsewhere: the name stays the first table's and the second job stops with the reason, instead
   * of Trino reading the first table for both.
   */
  @Test
  void aNameAnotherLocationHasIsRefusedWithTheWayOut() throws Exception {
    String zone = "catalogit" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    String table = "orders";
    String location = config.storage().tableLocation(zone, table);
    run("write", zone, table, location);

    String elsewhere = location + "-elsewhere";
    Path log = folder.resolve("write-elsewhere.log");
    Process process =
        JobProcesses.start(
            CatalogApplication.class, Map.of(), List.of("write", zone, table, elsewhere), log);
    assertThat(process.waitFor(5, TimeUnit.MINUTES)).as("the second writer finished").isTrue();

    assertThat(process.exitValue()).as("the second writer's exit code").isNotZero();
    assertThat(Files.readString(log, UTF_8))
        .contains(config.trino().schema(zone) + "." + table + " names the Delta table at")
        .contains("lake.trino.schema-prefix");
    assertThat(ordersInTrino(zone, table)).containsExactlyElementsOf(ORDERS);
  }

  /** The orders Trino reads from {@code zone.table}, one "id,customer,total" line each. */
  private static List<String> ordersInTrino(String zone, String table) throws Exception {
    return trinoRows(
        "SELECT id, customer, CAST(total AS varchar) FROM "
            + config.trino().catalog()
            + "."
            + config.trino().schema(zone)
            + "."
            + table
            + " ORDER BY id");
  }

  private static void trinoExecute(String sql) throws Exception {
    Properties properties = new Properties();
    properties.setProperty("user", config.trino().user());
    try (Connection connection = DriverManager.getConnection(config.trino().url(), properties);
        Statement statement = connection.createStatement()) {
      statement.execute(sql);
    }
  }

  private void run(String mode, String zone, String table, String last) throws Exception {
    Path log = folder.resolve(mode + ".log");
    Process process =
        JobProcesses.start(
            CatalogApplication.class, Map.of(), List.of(mode, zone, table, last), log);
    assertThat(process.waitFor(5, TimeUnit.MINUTES)).as("%s finished", mode).isTrue();
    assertThat(process.exitValue())
        .as("the %s application's exit code; its log:%n%s", mode, tail(log))
        .isZero();
  }

  /** The log's error lines (not their stack traces), or its last lines if it has none. */
  private static String tail(Path log) throws Exception {
    List<String> lines = Files.readAllLines(log, UTF_8);
    List<String> errors =
        lines.stream()
            .filter(line -> !line.startsWith("\t"))
            .filter(line -> line.contains("Exception") || line.contains("ERROR"))
            .toList();
    List<String> shown = errors.isEmpty() ? lines : errors;
    return String.join("\n", shown.subList(Math.max(0, shown.size() - 20), shown.size()));
  }

  private static List<String> trinoRows(String sql) throws Exception {
    Properties properties = new Properties();
    properties.setProperty("user", config.trino().user());
    List<String> rows = new ArrayList<>();
    try (Connection connection = DriverManager.getConnection(config.trino().url(), properties);
        Statement statement = connection.createStatement();
        ResultSet result = statement.executeQuery(sql)) {
      while (result.next()) {
        rows.add(result.getInt(1) + "," + result.getString(2) + "," + result.getString(3));
      }
    }
    return rows;
  }

  /** The commit files of the table's Delta log, by name. */
  private static List<String> deltaLog(String location) {
    String withoutScheme = location.substring(location.indexOf("://") + 3);
    String bucket = withoutScheme.substring(0, withoutScheme.indexOf('/'));
    String prefix = withoutScheme.substring(bucket.length() + 1) + "/_delta_log/";
    try (S3Client client = S3ProxyServer.client(config.s3())) {
      return client
          .listObjectsV2Paginator(request -> request.bucket(bucket).prefix(prefix))
          .contents()
          .stream()
          .map(object -> object.key().substring(prefix.length()))
          .filter(name -> !name.contains("/") && name.toLowerCase(Locale.ROOT).endsWith(".json"))
          .toList();
    }
  }
}
