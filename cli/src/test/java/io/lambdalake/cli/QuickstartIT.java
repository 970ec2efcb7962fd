package io.lambdalake.cli;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.stack.testing.SharedStack;
import io.lambdalake.stack.testing.TrinoSql;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code scripts/quickstart} as a newcomer runs it, on the shared stack: it must end with exit 0,
 * and every number of its report must agree with the lake itself, read here independently through
 * Trino, MariaDB's own table and the running metrics API.
 */
class QuickstartIT {
  private static final Duration LIMIT = Duration.ofMinutes(30);
  private static final String DEMO = "LL-DEMO-0001";
  private static final Pattern SUMMARY = Pattern.compile("(?m)^quickstart: (.*)$");
  private static final Pattern PAIR = Pattern.compile("(\\w+)=(\\S+)");

  private static Path root;
  private static Path log;
  private static int exitCode;
  private static String output;
  private static LakeConfig config;

  @BeforeAll
  static void runTheQuickstart() throws Exception {
    config = SharedStack.config();
    root = Path.of("..").toAbsolutePath().normalize();
    Path script = root.resolve("scripts/quickstart");
    assertThat(script).isExecutable();
    log = Path.of("target", "quickstart-it.log").toAbsolutePath();
    Files.createDirectories(log.getParent());
    ProcessBuilder builder =
        new ProcessBuilder(script.toString())
            .directory(root.toFile())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile());
    builder.environment().put("LAKE_LOCAL_DIR", config.localDirectory().toString());
    // Fewer events than a newcomer's run: every step runs the same, only on less data.
    builder.environment().put("LAKE_QUICKSTART_EVENTS", "4000");
    // Yesterday and today only: one day for the batch layer through Airflow, not two or three
    // (each is a spark-submit of its own, the longest step here).
    long sinceYesterday =
        Duration.between(
                LocalDate.now(ZoneOffset.UTC).minusDays(1).atStartOfDay(ZoneOffset.UTC),
                ZonedDateTime.now(ZoneOffset.UTC))
            .toHours();
    builder.environment().put("LAKE_QUICKSTART_SPAN_HOURS", Long.toString(sinceYesterday));
    Process process = builder.start();
    if (!process.waitFor(LIMIT.toMinutes(), TimeUnit.MINUTES)) {
      process.descendants().forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly();
    }
    exitCode = process.isAlive() ? -1 : process.exitValue();
    output = Files.readString(log, UTF_8);
  }

  /** The quickstart leaves the lake's services running; the tests after this one need the cores. */
  @AfterAll
  static void stopTheServicesItLeftRunning() throws IOException {
    Path services = config.localDirectory().resolve("services");
    if (!Files.isDirectory(services)) {
      return;
    }
    try (Stream<Path> pidFiles = Files.list(services)) {
      for (Path pidFile : pidFiles.filter(file -> file.toString().endsWith(".pid")).toList()) {
        stop(pidFile);
      }
    }
  }

  @Test
  void endsWithExitZeroAndEveryLayerInItsReport() {
    assertThat(exitCode).as("exit code; the end of %s:%n%s", log, tail(output)).isZero();
    assertThat(output)
        .contains("Sending sample traffic through the collector")
        .contains("Landing the events in raw.events")
        .contains("Historical loads")
        .contains("lake cdc keeps the mirrors")
        .contains("The nightly batch for the past days, through Airflow")
        .contains("Checking the merged serving views")
        .contains("lambda-lake is running on this machine");
    Map<String, String> report = summary();
    assertThat(report)
        .containsKeys(
            "accepted",
            "landed",
            "raw_events",
            "quarantined",
            "mirror_rows",
            "mariadb_rows",
            "batch_watermark",
            "demo_events_trino",
            "demo_events_api")
        .containsEntry("verify", "passed");
  }

  @Test
  void everyAcceptedEventLandedOnceAndTheBadRequestsWereQuarantined() {
    Map<String, String> report = summary();
    assertThat(number(report, "accepted")).isEqualTo(4000);
    assertThat(number(report, "landed")).isEqualTo(number(report, "accepted"));
    TrinoSql trino = new TrinoSql(config);
    assertThat(count(trino, "SELECT count(*) FROM lake.raw.events"))
        .isEqualTo(number(report, "raw_events"));
    assertThat(count(trino, "SELECT count(DISTINCT event_id) FROM lake.raw.events"))
        .isEqualTo(number(report, "raw_events"));
    assertThat(number(report, "refused")).isEqualTo(12);
    assertThat(
            count(
                trino,
                "SELECT count(*) FROM lake.raw.quarantine WHERE reason IS NOT NULL AND reason <> ''"))
        .isEqualTo(number(report, "quarantined"))
        .isGreaterThanOrEqualTo(number(report, "refused"));
  }

  @Test
  void theMirrorEqualsItsSourceTable() {
    Map<String, String> report = summary();
    assertThat(number(report, "mirror_rows")).isEqualTo(number(report, "mariadb_rows"));
    TrinoSql trino = new TrinoSql(config);
    assertThat(count(trino, "SELECT count(*) FROM lake.mirror.quickstart_shop__customers"))
        .isEqualTo(number(report, "mirror_rows"));
  }

  @Test
  void theBatchCoversThePastDaysAndServingAgreesWithRawAndTheApi() throws Exception {
    Map<String, String> report = summary();
    LocalDate today = LocalDate.now(ZoneOffset.UTC);
    assertThat(report.get("batch_watermark")).startsWith(today.toString() + "T00:00");
    long trinoSeries = number(report, "demo_events_trino");
    assertThat(trinoSeries).isPositive().isEqualTo(number(report, "demo_events_api"));

    // Independently of the serving views: the merchant's non-crawler events in raw.events.
    String firstDay = firstDay();
    TrinoSql trino = new TrinoSql(config);
    assertThat(
            count(
                trino,
                "SELECT count(*) FROM lake.raw.events WHERE tracking_id = '"
                    + DEMO
                    + "' AND NOT is_bot AND event_date >= DATE '"
                    + firstDay
                    + "'"))
        .isEqualTo(trinoSeries);

    // The metrics API the quickstart left running answers the same total for the demo key.
    String apiUrl = "http://" + config.api().host() + ":" + config.api().port();
    HttpResponse<String> answer =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .build()
            .send(
                HttpRequest.newBuilder(
                        URI.create(
                            apiUrl
                                + "/v1/metrics?metric=events&granularity=day&tz=UTC&from="
                                + firstDay
                                + "&to="
                                + today.plusDays(1)))
                    .header("Authorization", "Bearer llk_demo_local_only_0001")
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
    long apiTotal = 0;
    Matcher value = Pattern.compile("\"value\":(\\d+)").matcher(answer.body());
    while (value.find()) {
      apiTotal += Long.parseLong(value.group(1));
    }
    assertThat(apiTotal).isEqualTo(trinoSeries);
  }

  private static String firstDay() {
    Matcher verified =
        Pattern.compile(
                "serving views equal a recompute from raw.events \\((\\d{4}-\\d{2}-\\d{2}) to")
            .matcher(output);
    assertThat(verified.find()).as("the report's verify line in %s", log).isTrue();
    return verified.group(1);
  }

  private static Map<String, String> summary() {
    assertThat(exitCode).as("exit code; the end of %s:%n%s", log, tail(output)).isZero();
    Matcher line = SUMMARY.matcher(output);
    Optional<String> last = Optional.empty();
    while (line.find()) {
      last = Optional.of(line.group(1));
    }
    assertThat(last).as("a 'quickstart:' summary line in %s", log).isPresent();
    Map<String, String> values = new LinkedHashMap<>();
    Matcher pair = PAIR.matcher(last.orElseThrow());
    while (pair.find()) {
      values.put(pair.group(1), pair.group(2));
    }
    return values;
  }

  private static long number(Map<String, String> report, String key) {
    assertThat(report).containsKey(key);
    return Long.parseLong(report.get(key));
  }

  private static long count(TrinoSql trino, String sql) {
    return ((Number) trino.scalar(sql)).longValue();
  }

  private static String tail(String text) {
    List<String> lines = text.lines().toList();
    return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
  }

  private static void stop(Path pidFile) throws IOException {
    String pid = Files.readString(pidFile, UTF_8).trim();
    if (pid.isEmpty() || !pid.chars().allMatch(Character::isDigit)) {
      return;
    }
    Optional<ProcessHandle> service = ProcessHandle.of(Long.parseLong(pid));
    service.ifPresent(
        handle -> {
          handle.destroy();
          handle.onExit().orTimeout(90, TimeUnit.SECONDS).exceptionally(e -> null).join();
          if (handle.isAlive()) {
            handle.destroyForcibly();
          }
        });
    Files.deleteIfExists(pidFile);
  }
}
