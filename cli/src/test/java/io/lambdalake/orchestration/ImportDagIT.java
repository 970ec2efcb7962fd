package io.lambdalake.orchestration;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.countDistinct;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.config.LakeConfigLoader;
import io.lambdalake.stack.AirflowServer;
import io.lambdalake.stack.LocalStack;
import io.lambdalake.stack.S3ProxyServer;
import io.lambdalake.stack.StackLayout;
import io.lambdalake.stack.testing.MariaDbSql;
import io.lambdalake.stack.testing.SharedStack;
import io.lambdalake.stack.testing.TestSpark;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * The import DAG end to end: an Airflow of this test's own whose {@code lake_imports} lists one
 * JDBC import, run by Airflow as {@code spark-submit} of the jobs jar (no Spark inside the worker),
 * reading the stack's MariaDB into a Delta table on the stack's S3. The jar's classes are loaded by
 * spark-submit's class loader, as on a cluster: the test that found "No suitable driver".
 */
@Tag("orchestration")
class ImportDagIT {
  private static final String DAG = "lambda_lake_import";
  private static final int ROWS = 50;

  private static String name;
  private static LakeConfig config;
  private static AirflowServer airflow;

  @BeforeAll
  static void startAnAirflowWithOneImport() throws Exception {
    LocalStack stack = SharedStack.get();
    name = "it" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    OwnAirflow own = OwnAirflow.create(name);
    Path home = own.home();
    Map<String, String> overrides = own.overrides();
    config = LakeConfigLoader.load(System.getenv(), overrides);

    try (Connection connection = MariaDbSql.connect()) {
      StringBuilder rows = new StringBuilder();
      for (int id = 1; id <= ROWS; id++) {
        rows.append(id == 1 ? "" : ",")
            .append("(")
            .append(id)
            .append(", 'item ")
            .append(id)
            .append("')");
      }
      MariaDbSql.execute(
          connection,
          "CREATE DATABASE " + name,
          "CREATE TABLE " + name + ".items (id BIGINT PRIMARY KEY, label VARCHAR(40))",
          "INSERT INTO " + name + ".items VALUES " + rows);
    }
    Path work = Files.createDirectories(Path.of("target", name).toAbsolutePath());
    Path passwordFile = work.resolve("mariadb.password");
    Files.writeString(passwordFile, config.mariaDb().password(), UTF_8);
    Files.setPosixFilePermissions(passwordFile, PosixFilePermissions.fromString("rw-------"));
    // A checkout of this test's own for the Airflow (which finds the DAGs, the jobs jar and the CLI
    // beside conf/): the real one's folders linked, conf/ copied with the one import in
    // airflow/imports.json (the lake_imports variable).
    Path checkout = stack.layout().confDirectory().getParent();
    Path ownCheckout = Files.createDirectories(work.resolve("checkout"));
    for (String folder : List.of("airflow-dags", "jobs", "scripts")) {
      Files.createSymbolicLink(ownCheckout.resolve(folder), checkout.resolve(folder));
    }
    Path conf = copy(stack.layout().confDirectory(), ownCheckout.resolve("conf"));
    List<Map<String, Object>> imports =
        List.of(
            Map.of(
                "name", "items",
                "command", "import-jdbc",
                "args",
                    List.of(
                        "--connect",
                        config.mariaDb().jdbcUrl(name),
                        "--username",
                        config.mariaDb().user(),
                        "--password-file",
                        passwordFile.toString(),
                        "--table",
                        "items",
                        "--num-mappers",
                        "2",
                        "--target",
                        "raw." + name + "_items")));
    Files.createDirectories(conf.resolve("airflow"));
    new ObjectMapper()
        .writeValue(conf.resolve("airflow").resolve("imports.json").toFile(), imports);

    Path venv = AirflowServer.defaultHome(stack.config()).resolve("venv");
    airflow =
        new AirflowServer(
            config, new StackLayout(stack.layout().localDirectory(), conf), home, venv);
    airflow.start();
    airflow.awaitReady(Duration.ofMinutes(6));
  }

  @AfterAll
  static void stopIt() {
    if (airflow != null) {
      airflow.stop();
    }
  }

  @Test
  void theImportDagSubmitsEachImportToSparkAndItsRowsLand() {
    AirflowClient client = new AirflowClient(config.airflow());
    await()
        .atMost(Duration.ofMinutes(3))
        .pollInterval(Duration.ofSeconds(3))
        .ignoreExceptions()
        .until(() -> client.dag(DAG) != null);
    client.unpause(DAG);
    String runId = "it_" + name;
    client.trigger(DAG, runId, Map.of());
    await()
        .atMost(Duration.ofMinutes(20))
        .pollInterval(Duration.ofSeconds(5))
        .until(() -> client.run(DAG, runId).finished());

    AirflowClient.DagRun run = client.run(DAG, runId);
    List<AirflowClient.TaskInstance> tasks = client.taskInstances(DAG, runId);
    StringBuilder logs = new StringBuilder();
    for (AirflowClient.TaskInstance task : tasks) {
      logs.append(task).append('\n');
      client.log(DAG, runId, task).forEach(line -> logs.append(line).append('\n'));
    }
    assertThat(run.state()).as("the run; its tasks and logs:%n%s", logs).isEqualTo("success");
    assertThat(logs.toString())
        .contains("--class io.lambdalake.ingestion.imports.JdbcImportJob")
        .contains("lambda-lake-jobs.jar");

    // Unpausing also starts the run of the last scheduled interval (02:00 UTC): every run that
    // succeeded imported the table once, as a snapshot of its own.
    await()
        .atMost(Duration.ofMinutes(20))
        .pollInterval(Duration.ofSeconds(5))
        .until(() -> client.runs(DAG, List.of("queued", "running"), 10).isEmpty());
    long succeeded = client.runs(DAG, List.of("success"), 10).size();
    String location = config.storage().tableLocation("raw", name + "_items");
    Dataset<Row> imported = TestSpark.session().read().format("delta").load(location);
    List<Row> snapshots =
        imported
            .groupBy("_import_snapshot_id")
            .agg(count("*"), countDistinct("id"), min("id"), max("id"))
            .collectAsList();
    assertThat(snapshots).hasSize((int) succeeded);
    for (Row snapshot : snapshots) {
      assertThat(
              List.of(
                  snapshot.getLong(1),
                  snapshot.getLong(2),
                  snapshot.getLong(3),
                  snapshot.getLong(4)))
          .as("rows, ids, first and last id of snapshot %s", snapshot.getString(0))
          .containsExactly((long) ROWS, (long) ROWS, 1L, (long) ROWS);
    }
    assertThat(imported.where("id = " + ROWS).select("label").first().getString(0))
        .isEqualTo("item " + ROWS);

    // The job wrote its run record to S3 itself (lake_runs_url), one per try.
    String records = "airflow-runs/" + DAG + "/run_import/" + runId + "/";
    try (S3Client s3 = S3ProxyServer.client(config.s3())) {
      List<String> keys =
          s3
              .listObjectsV2(request -> request.bucket(config.s3().bucket()).prefix(records))
              .contents()
              .stream()
              .map(S3Object::key)
              .toList();
      assertThat(keys)
          .as("run records under %s", records)
          .containsExactly(records + "try-1-0.json");
      String record =
          s3.getObjectAsBytes(request -> request.bucket(config.s3().bucket()).key(keys.get(0)))
              .asString(UTF_8);
      assertThat(record).contains("\"status\": \"succeeded\"", "\"exit_code\": 0");
    }
  }

  private static Path copy(Path from, Path to) throws IOException {
    try (Stream<Path> files = Files.walk(from)) {
      for (Path file : files.toList()) {
        Path target = to.resolve(from.relativize(file).toString());
        if (Files.isDirectory(file)) {
          Files.createDirectories(target);
        } else {
          Files.copy(file, target, StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
    return to;
  }
}
