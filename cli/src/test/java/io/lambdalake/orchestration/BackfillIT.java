package io.lambdalake.orchestration;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.apache.spark.sql.functions.col;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.config.LakeConfigLoader;
import io.lambdalake.common.table.LakeTable;
import io.lambdalake.spark.DeltaTables;
import io.lambdalake.stack.AirflowServer;
import io.lambdalake.stack.LocalStack;
import io.lambdalake.stack.testing.SharedStack;
import io.lambdalake.stack.testing.TestSpark;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Orchestration end to end on the real stack: an Airflow of this test's own (its tasks see an
 * isolated storage root), {@code lake backfill} run as its own process against it, the batch job
 * under spark-submit in local mode writing to the stack's S3, and Airflow's real answers to wrong
 * credentials, an unknown DAG and a second backfill while one runs.
 */
// The orchestration tier: QuickstartIT already runs a backfill through Airflow in the core tier.
@Tag("orchestration")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class BackfillIT {
  private static final LocalDate FIRST = LocalDate.parse("2026-11-10");
  private static final LocalDate SECOND = FIRST.plusDays(1);

  /** A day whose raw events lie outside their partition: the batch job's check refuses it. */
  private static final LocalDate CORRUPT = FIRST.plusDays(2);

  private static LakeConfig config;
  private static AirflowServer airflow;
  private static Map<String, String> cliEnvironment;

  @BeforeAll
  static void startAnAirflowOfOurOwn() throws IOException {
    LocalStack stack = SharedStack.get();
    String name = "it" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    OwnAirflow own = OwnAirflow.create(name);
    Path home = own.home();
    Map<String, String> overrides = own.overrides();
    config = LakeConfigLoader.load(System.getenv(), overrides);
    Path venv = AirflowServer.defaultHome(stack.config()).resolve("venv");
    airflow = new AirflowServer(config, stack.layout(), home, venv);
    airflow.start();
    airflow.awaitReady(Duration.ofMinutes(6));
    cliEnvironment = new HashMap<>();
    cliEnvironment.put("LAKE_AIRFLOW_URL", config.airflow().url());
    cliEnvironment.put("LAKE_JAVA_OPTS", "-Dlake.airflow.poll-interval=2s");
    writeRawEvents(TestSpark.session());
  }

  @AfterAll
  static void stopIt() {
    if (airflow != null) {
      airflow.stop();
    }
  }

  @Test
  @Order(1)
  void refusesWrongCredentialsAndAnUnknownDagWithOneLine() throws Exception {
    Map<String, String> wrongPassword = new HashMap<>(cliEnvironment);
    wrongPassword.put("LAKE_AIRFLOW_PASSWORD", "not-the-password");
    Lake.Result refused = Lake.run(wrongPassword, "dags", "status");
    assertThat(refused.exitCode()).isEqualTo(2);
    assertThat(refused.stderr().strip())
        .isEqualTo(
            "lake dags status: Airflow at "
                + config.airflow().url()
                + " refused the credentials of user lake (401): check LAKE_AIRFLOW_USER and"
                + " LAKE_AIRFLOW_PASSWORD");

    Map<String, String> unknownDag = new HashMap<>(cliEnvironment);
    unknownDag.put("LAKE_JAVA_OPTS", "-Dlake.airflow.backfill-dag=lambda_lake_nope");
    Lake.Result unknown =
        Lake.run(unknownDag, "backfill", "--from", "2026-11-01", "--to", "2026-11-01");
    assertThat(unknown.exitCode()).isEqualTo(2);
    assertThat(unknown.stderr())
        .startsWith(
            "lake backfill: Airflow at " + config.airflow().url() + " has no DAG lambda_lake_nope");

    Map<String, String> nobodyThere = new HashMap<>(cliEnvironment);
    nobodyThere.put("LAKE_AIRFLOW_URL", "http://127.0.0.1:" + OwnAirflow.freePort());
    Lake.Result unreachable = Lake.run(nobodyThere, "dags", "status");
    // The preflight finds it before any request: exit code 75, retryable.
    assertThat(unreachable.exitCode()).isEqualTo(75);
    assertThat(unreachable.stderr()).startsWith("lake dags status: Airflow at 127.0.0.1:");
    assertThat(unreachable.stderr()).contains(" does not answer within 3 s: ");
  }

  @Test
  @Order(2)
  void backfillsTwoDaysThroughAirflowAndSparkSubmit() throws Exception {
    // The DAG processor parses the folder at start; the DAG may take a moment to appear.
    await()
        .atMost(Duration.ofMinutes(3))
        .pollInterval(Duration.ofSeconds(3))
        .ignoreExceptions()
        .until(
            () -> new AirflowClient(config.airflow()).dag(config.airflow().backfillDag()) != null);

    Lake.Result backfill =
        Lake.run(
            cliEnvironment,
            "backfill",
            "--from",
            FIRST.toString(),
            "--to",
            SECOND.toString(),
            "--logic-version",
            "it-fix-1",
            "--wait");

    assertThat(backfill.exitCode()).as(backfill.toString()).isZero();
    assertThat(backfill.stdout())
        .contains("Triggered lambda_lake_backfill run lake_backfill__" + FIRST + "_" + SECOND)
        .contains(FIRST + "  ")
        .containsPattern(FIRST + " +success")
        .containsPattern(SECOND + " +success")
        .contains("Backfill succeeded: 2 day(s) recomputed");
    SparkSession spark = TestSpark.session();
    Dataset<Row> events = table(spark, LakeTable.BATCH_EVENTS_HOURLY);
    assertThat(countsByDay(events, "events"))
        .isEqualTo(Map.of(FIRST.toString(), 30L, SECOND.toString(), 20L));
    assertThat(events.select("logic_version").distinct().collectAsList())
        .extracting(row -> row.getString(0))
        .containsExactly("it-fix-1");
    assertThat(countsByDay(table(spark, LakeTable.BATCH_PAGES_HOURLY), "pageviews"))
        .isEqualTo(Map.of(FIRST.toString(), 30L, SECOND.toString(), 20L));
    assertThat(coverage(spark))
        .containsEntry("events_hourly", SECOND.plusDays(1).atStartOfDay().toInstant(ZoneOffset.UTC))
        .containsEntry("pages_hourly", SECOND.plusDays(1).atStartOfDay().toInstant(ZoneOffset.UTC));
  }

  @Test
  @Order(3)
  void aFailedQualityCheckFailsTheCommandWithTheReasonAndASecondBackfillIsRefused()
      throws Exception {
    CompletableFuture<Lake.Result> corrupt =
        CompletableFuture.supplyAsync(
            () ->
                Lake.run(
                    cliEnvironment,
                    "backfill",
                    "--from",
                    CORRUPT.toString(),
                    "--to",
                    CORRUPT.toString(),
                    "--wait"));
    AirflowClient client = new AirflowClient(config.airflow());
    await()
        .atMost(Duration.ofMinutes(5))
        .pollInterval(Duration.ofMillis(500))
        .until(
            () ->
                !client
                    .runs(config.airflow().backfillDag(), List.of("queued", "running"), 1)
                    .isEmpty());

    Lake.Result second =
        Lake.run(cliEnvironment, "backfill", "--from", FIRST.toString(), "--to", FIRST.toString());

    assertThat(second.exitCode()).isEqualTo(2);
    assertThat(second.stderr())
        .startsWith("lake backfill: A backfill is already ")
        .contains("(" + CORRUPT + ".." + CORRUPT + ")");
    Lake.Result failed = corrupt.get(40, TimeUnit.MINUTES);
    assertThat(failed.exitCode()).as(failed.toString()).isEqualTo(75);
    assertThat(failed.stderr().lines().toList()).hasSize(1);
    assertThat(failed.stderr())
        .startsWith("lake backfill: Backfill run lake_backfill__" + CORRUPT)
        .contains("failed at day " + CORRUPT)
        .contains("Quality check failed, nothing published: batch.events_hourly for " + CORRUPT)
        .contains("outside the day");
    // Failed at once (no retries for a quality check), and nothing moved.
    assertThat(failed.stdout()).doesNotContain("try 2");
    SparkSession spark = TestSpark.session();
    assertThat(countsByDay(table(spark, LakeTable.BATCH_EVENTS_HOURLY), "events"))
        .doesNotContainKey(CORRUPT.toString());
    assertThat(coverage(spark))
        .containsEntry(
            "events_hourly", SECOND.plusDays(1).atStartOfDay().toInstant(ZoneOffset.UTC));
  }

  /** 30 page views on the first day, 20 on the second, 5 on the corrupt day two days off. */
  private static void writeRawEvents(SparkSession spark) {
    List<String> rows = new ArrayList<>();
    rows.addAll(rawEvents(FIRST, FIRST, 30));
    rows.addAll(rawEvents(SECOND, SECOND, 20));
    rows.addAll(rawEvents(CORRUPT, CORRUPT.plusDays(2), 5));
    String location = DeltaTables.ensure(spark, config, LakeTable.RAW_EVENTS);
    Dataset<Row> empty = spark.read().format("delta").load(location).limit(0);
    Dataset<Row> given = spark.sql(String.join(" UNION ALL ", rows));
    empty.unionByName(given, true).write().format("delta").mode("append").save(location);
  }

  private static List<String> rawEvents(LocalDate partition, LocalDate day, int count) {
    List<String> rows = new ArrayList<>();
    for (int index = 0; index < count; index++) {
      String time = day + " " + String.format("%02d:%02d:00", index % 24, index % 60);
      rows.add(
          ("SELECT 'e-%s-%d' AS event_id, 'LL-IT' AS tracking_id, 'page_view' AS event_name,"
                  + " TIMESTAMP '%s' AS event_time, TIMESTAMP '%s' AS received_at,"
                  + " 'client-%d' AS client_id, 'https://shop.example/p/%d' AS page_url,"
                  + " false AS is_bot, 'events.it' AS source_topic, 0 AS source_partition,"
                  + " CAST(%d AS BIGINT) AS source_offset, TIMESTAMP '%s' AS landed_at,"
                  + " DATE '%s' AS event_date")
              .formatted(
                  partition, index, time, time, index % 7, index % 3, index, time, partition));
    }
    return rows;
  }

  private static Dataset<Row> table(SparkSession spark, LakeTable table) {
    return spark.read().format("delta").load(table.location(config.storage()));
  }

  private static Map<String, Long> countsByDay(Dataset<Row> view, String column) {
    Map<String, Long> counts = new HashMap<>();
    for (Row row : view.groupBy(col("event_date").cast("string")).sum(column).collectAsList()) {
      counts.put(row.getString(0), row.getLong(1));
    }
    return counts;
  }

  private static Map<String, Instant> coverage(SparkSession spark) {
    Map<String, Instant> coverage = new HashMap<>();
    for (Row row : table(spark, LakeTable.BATCH_COVERAGE).collectAsList()) {
      coverage.put(row.getAs("view"), row.<Timestamp>getAs("covered_until").toInstant());
    }
    return coverage;
  }

  /** The lake CLI as its own process, as a user runs it, with this JVM's class path. */
  static final class Lake {
    record Result(int exitCode, String stdout, String stderr) {}

    static Result run(Map<String, String> environment, String... arguments) {
      try {
        Path out = Files.createTempFile("lake-out", ".txt");
        Path err = Files.createTempFile("lake-err", ".txt");
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        String options = environment.getOrDefault("LAKE_JAVA_OPTS", "");
        if (!options.isBlank()) {
          command.addAll(List.of(options.split(" ")));
        }
        command.addAll(
            List.of("-cp", System.getProperty("java.class.path"), "io.lambdalake.cli.LakeCommand"));
        command.addAll(List.of(arguments));
        ProcessBuilder builder =
            new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile());
        builder.environment().putAll(environment);
        Process process = builder.start();
        // Generous: on a loaded 2-core machine one day's spark-submit took up to 8 minutes.
        if (!process.waitFor(40, TimeUnit.MINUTES)) {
          process.destroyForcibly();
          throw new AssertionError("lake " + String.join(" ", arguments) + " did not finish");
        }
        Result result =
            new Result(
                process.exitValue(), Files.readString(out, UTF_8), Files.readString(err, UTF_8));
        Files.delete(out);
        Files.delete(err);
        return result;
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }
}
