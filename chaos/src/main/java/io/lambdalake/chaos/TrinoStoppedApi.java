package io.lambdalake.chaos;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.not;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lambdalake.cli.LakeCommand;
import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.config.LakeConfigLoader;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.common.table.LakeTable;
import io.lambdalake.serving.api.ApiKeys;
import io.lambdalake.serving.api.ApiServer;
import io.lambdalake.serving.api.MetricsApi;
import io.lambdalake.serving.api.TrinoMetricsSource;
import io.lambdalake.speed.SpeedJob;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicReference;
import org.awaitility.core.ConditionTimeoutException;

/**
 * Trino stopped while the metrics API serves: events landed and served (speed views, {@code lake
 * serving init} in Trino schemas of the run's own), the API started once in the driver's JVM and
 * asked for a merchant's hourly events; then Trino stopped. While it is down every answer must be
 * 503 (never a 200, never a hang); once it is back the same API, not restarted, must answer again,
 * the same body as before the outage. That answer's total counts as diverged when it differs from a
 * recompute over raw.events, as does an answer after the outage that differs from the one before.
 */
final class TrinoStoppedApi implements Scenario {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String TRACKING_ID = "LL-CHAOS-1";

  private final int events;

  TrinoStoppedApi(int events) {
    this.events = events;
  }

  @Override
  public String name() {
    return "trino-stopped-api";
  }

  @Override
  public Tally run(ChaosRun plain) throws Exception {
    String prefix = plain.name().replace('-', '_') + "_";
    Map<String, String> overrides = new HashMap<>();
    overrides.put("lake.trino.schema-prefix", prefix);
    overrides.put("lake.api.views.events-hourly", prefix + "serving.events_hourly");
    overrides.put("lake.api.views.pages-hourly", prefix + "serving.pages_hourly");
    overrides.put("lake.api.views.sessions-daily", prefix + "serving.sessions_daily");
    overrides.put("lake.api.views.traffic-daily", prefix + "serving.traffic_daily");
    overrides.put("lake.api.port", "0");
    // No answer from the cache: each request asks Trino.
    overrides.put("lake.api.cache.ttl", "1ms");
    ChaosRun run = plain.with(overrides);
    Instant now = Instant.now().truncatedTo(ChronoUnit.HOURS);
    EventLedger ledger =
        new EventLedger(run, 41, now.minus(Duration.ofMinutes(50)), Duration.ofMinutes(50));
    ledger.produce(events);
    run.runToEnd(SpeedJob.class, "speed", "--available-now", "--progress=5s");
    run.runToEnd(LakeCommand.class, "serving-init", "serving", "init");

    String key = ApiKeys.generate();
    LakeConfig config = apiConfig(run, key, overrides);
    LocalDate today = LocalDate.now(ZoneOffset.UTC);
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    Map<Integer, Integer> whileDown = new TreeMap<>();
    String before;
    String after;
    try (ApiServer api =
        ApiServer.start(
            config.api(),
            new MetricsApi(config.api(), new TrinoMetricsSource(config), System::nanoTime))) {
      URI series =
          URI.create(
              "http://127.0.0.1:"
                  + api.port()
                  + "/v1/metrics?metric=events&granularity=hour&from="
                  + today.minusDays(1)
                  + "&to="
                  + today);
      HttpResponse<String> first = get(http, series, key);
      if (first.statusCode() != 200) {
        throw new LakeException(
            ErrorCode.INTERNAL_ERROR,
            "The metrics API answered "
                + first.statusCode()
                + " before Trino was stopped: "
                + first.body()
                + " (scenario run "
                + run.name()
                + ")");
      }
      before = first.body();
      try (ServerOutage outage = ServerOutage.stop("trino")) {
        await()
            .atMost(ServerOutage.OUTAGE)
            .pollInterval(Duration.ofMillis(500))
            .until(
                () -> {
                  whileDown.merge(get(http, series, key).statusCode(), 1, Integer::sum);
                  return whileDown.getOrDefault(503, 0) >= 10;
                });
        outage.lastOut();
      }
      HttpResponse<String> back = get(http, series, key);
      AtomicReference<HttpResponse<String>> last = new AtomicReference<>(back);
      try {
        await()
            .atMost(Duration.ofMinutes(3))
            .pollInterval(Duration.ofSeconds(1))
            .until(
                () -> {
                  last.set(get(http, series, key));
                  return last.get().statusCode() == 200;
                });
      } catch (ConditionTimeoutException e) {
        throw new LakeException(
            ErrorCode.INTERNAL_ERROR,
            "The metrics API did not answer 200 within 3 minutes of Trino's restart; its last"
                + " answer was "
                + last.get().statusCode()
                + ": "
                + last.get().body()
                + " (scenario run "
                + run.name()
                + ")",
            e);
      }
      after = get(http, series, key).body();
      System.err.printf(
          "chaos: %s answers while Trino was down %s; first after it was back %d%n",
          name(), whileDown, back.statusCode());
    }
    if (whileDown.keySet().stream().anyMatch(status -> status != 503)
        || !whileDown.containsKey(503)) {
      throw new LakeException(
          ErrorCode.INTERNAL_ERROR,
          "While Trino was stopped the metrics API answered (status=count) "
              + whileDown
              + ": expected 503 and nothing else (scenario run "
              + run.name()
              + ")");
    }
    long expected =
        run.spark()
            .read()
            .format("delta")
            .load(LakeTable.RAW_EVENTS.location(run.config().storage()))
            .filter(col("tracking_id").equalTo(TRACKING_ID).and(not(col("is_bot"))))
            .count();
    long diverged = (total(before) == expected ? 0 : 1) + (after.equals(before) ? 0 : 1);
    return ledger
        .checkRaw()
        .plus(
            ledger.checkEventsHourly(
                LakeTable.SPEED_EVENTS_HOURLY,
                now.minus(Duration.ofHours(2)),
                now.plus(Duration.ofHours(1))))
        .plus(new Tally(0, 0, diverged));
  }

  /** The run's configuration with an API key of its own for {@link #TRACKING_ID}, in UTC. */
  private static LakeConfig apiConfig(ChaosRun run, String key, Map<String, String> overrides)
      throws Exception {
    Path keys = run.logs().resolve(run.name() + "-api-keys.conf");
    Files.writeString(
        keys,
        "lake.api.keys = [ { key-hash = \""
            + ApiKeys.hash(key)
            + "\", merchant = \"chaos-1\", tracking-ids = [\""
            + TRACKING_ID
            + "\"], time-zone = \"UTC\" } ]\n");
    Map<String, String> environment = new HashMap<>(System.getenv());
    environment.put(LakeConfigLoader.CONFIG_FILE_VARIABLE, keys.toString());
    Map<String, String> all = new HashMap<>(run.overrides());
    all.putAll(overrides);
    return LakeConfigLoader.load(environment, all);
  }

  private static HttpResponse<String> get(HttpClient http, URI uri, String key) throws Exception {
    return http.send(
        HttpRequest.newBuilder(uri)
            .timeout(Duration.ofSeconds(60))
            .header("Authorization", "Bearer " + key)
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** The sum of a series answer's values. */
  private static long total(String body) throws Exception {
    long total = 0;
    for (JsonNode point : JSON.readTree(body).path("series")) {
      total += point.path("value").asLong();
    }
    return total;
  }
}
