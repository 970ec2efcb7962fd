package io.lambdalake.serving.api;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.config.LakeConfigLoader;
import io.lambdalake.common.config.StorageConfig;
import io.lambdalake.stack.testing.SharedStack;
import io.lambdalake.stack.testing.TrinoSql;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The metrics API on the real stack: its answers equal what Trino computes straight from the raw
 * events, for several metrics, granularities and time zones; a key reads only its own tracking IDs
 * whatever the parameters say; bad parameters get a 400 naming them; the cache and the rate limit
 * behave.
 *
 * <p>The fixture writes its own tables through Trino in a schema of its own (raw events, batch and
 * speed hourly tables split at a watermark in a coverage table, daily sessions and traffic) and
 * creates over them the serving views of the serving contract; the API reads them through {@code
 * lake.api.views}, as it reads {@code serving.*} in production.
 */
class MetricsApiIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String WATERMARK = "2026-11-20 00:00:00 UTC";
  private static final long FIRST_SECOND = Instant.parse("2026-11-18T00:00:00Z").getEpochSecond();
  private static final String KEY_A = ApiKeys.generate();
  private static final String KEY_B = ApiKeys.generate();
  private static final List<String> TABLES =
      List.of(
          "raw_events",
          "batch_events_hourly",
          "speed_events_hourly",
          "batch_pages_hourly",
          "speed_pages_hourly",
          "coverage",
          "events_daily_t",
          "traffic_daily_t");
  private static final List<String> VIEWS =
      List.of("events_hourly", "pages_hourly", "sessions_daily", "traffic_daily");

  private static String schema;
  private static TrinoSql trino;
  private static final AtomicLong clockOffset = new AtomicLong();
  private static ApiServer server;
  private static ApiServer limitedServer;
  private static final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

  @BeforeAll
  static void start(@TempDir Path directory) throws IOException {
    LakeConfig stack = SharedStack.config();
    trino = new TrinoSql(stack);
    schema = "api_it_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    trino.createSchema(schema);
    createFixture();

    Path conf = directory.resolve("api-it.conf");
    Files.writeString(
        conf,
        "lake.api.keys = [\n"
            + key(KEY_A, "merchant-a", "\"LL-A1\", \"LL-A2\"", "Europe/Berlin")
            + key(KEY_B, "merchant-b", "\"LL-B1\"", "Asia/Kolkata")
            + "]\n");
    Map<String, String> environment = new HashMap<>(System.getenv());
    environment.put(LakeConfigLoader.CONFIG_FILE_VARIABLE, conf.toString());
    Map<String, String> overrides = new HashMap<>();
    overrides.put("lake.api.port", "0");
    overrides.put("lake.api.views.events-hourly", schema + ".events_hourly");
    overrides.put("lake.api.views.pages-hourly", schema + ".pages_hourly");
    overrides.put("lake.api.views.sessions-daily", schema + ".sessions_daily");
    overrides.put("lake.api.views.traffic-daily", schema + ".traffic_daily");
    overrides.put("lake.api.cache.ttl", "30s");
    overrides.put("lake.api.rate-limit.burst", "100000");
    overrides.put("lake.api.rate-limit.requests-per-second", "100000");
    LakeConfig config = LakeConfigLoader.load(environment, overrides);
    server =
        ApiServer.start(
            config.api(),
            new MetricsApi(
                config.api(),
                new TrinoMetricsSource(config),
                () -> System.nanoTime() + clockOffset.get()));
    overrides.put("lake.api.rate-limit.burst", "3");
    overrides.put("lake.api.rate-limit.requests-per-second", "0.01");
    LakeConfig limited = LakeConfigLoader.load(environment, overrides);
    limitedServer =
        ApiServer.start(
            limited.api(),
            new MetricsApi(limited.api(), new TrinoMetricsSource(limited), System::nanoTime));
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.close();
    }
    if (limitedServer != null) {
      limitedServer.close();
    }
    if (trino != null && schema != null) {
      VIEWS.forEach(view -> trino.execute("DROP VIEW IF EXISTS " + schema + "." + view));
      TABLES.forEach(table -> trino.execute("DROP TABLE IF EXISTS " + schema + "." + table));
      trino.execute("DROP SCHEMA IF EXISTS " + schema);
    }
  }

  @Test
  void seriesMatchTrinoOverRawEventsForMetricsGranularitiesAndZones() {
    // Merchant A's own zone (Europe/Berlin), days: batch days and speed days alike.
    assertSeries(
        KEY_A,
        "metric=events&from=2026-11-18&to=2026-11-20",
        "day",
        "Europe/Berlin",
        "count(*)",
        "tracking_id IN ('LL-A1', 'LL-A2')",
        "");
    // Hours in UTC, one event name, one tracking ID.
    assertSeries(
        KEY_A,
        "metric=events&granularity=hour&event_name=purchase&tracking_id=LL-A2"
            + "&from=2026-11-19T12:00:00Z&to=2026-11-20T12:00:00Z",
        "hour",
        "Europe/Berlin",
        "count(*)",
        "tracking_id = 'LL-A2' AND event_name = 'purchase'",
        "");
    // Page views per week in New York (an explicit tz).
    assertSeries(
        KEY_A,
        "metric=pageviews&granularity=week&tz=America/New_York&from=2026-11-16&to=2026-11-22",
        "week",
        "America/New_York",
        "count(*)",
        "tracking_id IN ('LL-A1', 'LL-A2') AND event_name = 'page_view'",
        "");
    // Merchant B in Asia/Kolkata (+05:30): an hour counts for the day in which it starts.
    JsonNode kolkata =
        assertSeries(
            KEY_B,
            "metric=events&granularity=day&from=2026-11-18&to=2026-11-21",
            "day",
            "Asia/Kolkata",
            "count(*)",
            "tracking_id = 'LL-B1'",
            "");
    assertThat(kolkata.get("hour_alignment").asText()).isEqualTo("hour_start");
    assertThat(kolkata.get("series").get(0).get("start").asText())
        .isEqualTo("2026-11-18T00:00+05:30");
  }

  @Test
  void uniqueUsersMergeAcrossHoursAndLayersAsOneSketch() {
    JsonNode answer =
        get(KEY_A, "/v1/metrics?metric=users&granularity=month&from=2026-11-01&to=2026-11-30")
            .json();
    Map<Instant, Long> expected =
        expectedSeries(
            "month",
            "Europe/Berlin",
            "cardinality(approx_set(user_id))",
            "tracking_id IN ('LL-A1', 'LL-A2')",
            "2026-10-31T23:00:00Z",
            "2026-11-30T23:00:00Z");
    Map<Instant, Long> actual = series(answer);
    assertThat(actual.keySet()).containsExactlyElementsOf(expected.keySet());
    expected.forEach(
        (period, users) ->
            assertThat((double) actual.get(period)).isCloseTo(users, within(users * 0.02 + 1)));
    // The sketches estimate the exact distinct count closely.
    long distinct =
        ((Number)
                trino.scalar(
                    "SELECT count(DISTINCT user_id) FROM "
                        + schema
                        + ".raw_events WHERE tracking_id IN ('LL-A1', 'LL-A2')"))
            .longValue();
    assertThat((double) actual.values().iterator().next())
        .isCloseTo(distinct, within(distinct * 0.05));
  }

  @Test
  void sessionsAndRevenueComeFromTheDailyViewPerUtcDay() {
    JsonNode sessions =
        get(KEY_A, "/v1/metrics?metric=sessions&from=2026-11-18&to=2026-11-19").json();
    assertThat(sessions.get("time_zone").asText()).isEqualTo("Z");
    Map<Instant, Long> expected = new TreeMap<>();
    for (List<Object> row :
        trino.query(
            "SELECT CAST(event_date AS varchar), sum(sessions) FROM "
                + schema
                + ".events_daily_t WHERE tracking_id IN ('LL-A1', 'LL-A2')"
                + " AND event_date BETWEEN DATE '2026-11-18' AND DATE '2026-11-19' GROUP BY 1")) {
      expected.put(Instant.parse(row.get(0) + "T00:00:00Z"), ((Number) row.get(1)).longValue());
    }
    assertThat(series(sessions)).isEqualTo(expected).hasSize(2);

    JsonNode revenue =
        get(KEY_B, "/v1/metrics?metric=revenue&granularity=week&from=2026-11-16&to=2026-11-22")
            .json();
    Map<String, Double> expectedRevenue = new TreeMap<>();
    for (List<Object> row :
        trino.query(
            "SELECT r.currency, CAST(sum(r.amount) AS double) FROM "
                + schema
                + ".events_daily_t CROSS JOIN UNNEST(revenue) AS r(currency, amount)"
                + " WHERE tracking_id = 'LL-B1' GROUP BY 1")) {
      expectedRevenue.put((String) row.get(0), ((Number) row.get(1)).doubleValue());
    }
    JsonNode week = revenue.get("series").get(0);
    assertThat(revenue.get("series")).hasSize(1);
    assertThat(week.get("start").asText()).isEqualTo("2026-11-16T00:00Z");
    Map<String, Double> actualRevenue = new TreeMap<>();
    week.get("value")
        .fields()
        .forEachRemaining(e -> actualRevenue.put(e.getKey(), e.getValue().asDouble()));
    assertThat(actualRevenue).isEqualTo(expectedRevenue).containsKeys("EUR", "USD");

    assertBadParameter(
        KEY_A,
        "/v1/metrics?metric=sessions&granularity=hour&from=2026-11-18&to=2026-11-19",
        "granularity");
    assertBadParameter(
        KEY_A, "/v1/metrics?metric=revenue&tz=Europe/Berlin&from=2026-11-18&to=2026-11-19", "tz");
    assertBadParameter(
        KEY_A, "/v1/metrics?metric=sessions&from=2026-11-18T05:00:00Z&to=2026-11-19", "from");
  }

  @Test
  void topPagesAndBreakdownsMatchTrino() {
    JsonNode pages =
        get(KEY_A, "/v1/top-pages?from=2026-11-18&to=2026-11-20&tz=UTC&limit=3").json();
    List<String> expectedPages = new ArrayList<>();
    for (List<Object> row :
        trino.query(
            "SELECT page_url, count(*) FROM "
                + schema
                + ".raw_events WHERE tracking_id IN ('LL-A1', 'LL-A2') AND event_name = 'page_view'"
                + " AND event_time < TIMESTAMP '2026-11-21 00:00:00 UTC'"
                + " GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 3")) {
      expectedPages.add(row.get(0) + "=" + row.get(1));
    }
    List<String> actualPages = new ArrayList<>();
    pages
        .get("pages")
        .forEach(
            page ->
                actualPages.add(
                    page.get("page_url").asText() + "=" + page.get("pageviews").asLong()));
    assertThat(actualPages).hasSize(3).isEqualTo(expectedPages);

    JsonNode devices =
        get(KEY_A, "/v1/breakdowns?dimension=device&from=2026-11-18&to=2026-11-20").json();
    Map<String, Long> expectedDevices = new LinkedHashMap<>();
    for (List<Object> row :
        trino.query(
            "SELECT device_class, sum(sessions) FROM "
                + schema
                + ".traffic_daily_t WHERE tracking_id IN ('LL-A1', 'LL-A2') GROUP BY 1 ORDER BY 2 DESC, 1")) {
      expectedDevices.put((String) row.get(0), ((Number) row.get(1)).longValue());
    }
    Map<String, Long> actualDevices = new LinkedHashMap<>();
    devices
        .get("rows")
        .forEach(row -> actualDevices.put(row.get("value").asText(), row.get("sessions").asLong()));
    assertThat(actualDevices).containsExactlyEntriesOf(expectedDevices);
  }

  @Test
  void aKeyReadsOnlyItsOwnTrackingIdsWhateverTheParametersSay() {
    // Without tracking_id, a key reads all of its own and nothing else.
    long ownTotal =
        total(get(KEY_A, "/v1/metrics?metric=events&tz=UTC&from=2026-11-18&to=2026-11-20").json());
    assertThat(ownTotal).isEqualTo(rawCount("tracking_id IN ('LL-A1', 'LL-A2')"));
    long otherTotal =
        total(get(KEY_B, "/v1/metrics?metric=events&tz=UTC&from=2026-11-18&to=2026-11-20").json());
    assertThat(otherTotal).isEqualTo(rawCount("tracking_id = 'LL-B1'"));

    String range = "&tz=UTC&from=2026-11-18&to=2026-11-20";
    // Naming another merchant's tracking ID, in any form, is refused.
    for (String trackingId :
        List.of(
            "LL-B1",
            "LL-A1,LL-B1",
            "LL-A1&tracking_id=LL-B1",
            "ll-b1",
            "LL-B1%20",
            "%4C%4C-B1",
            "LL-B1%00",
            "*",
            "%25")) {
      Response response = get(KEY_A, "/v1/metrics?metric=events&tracking_id=" + trackingId + range);
      assertThat(response.status()).as(trackingId).isEqualTo(403);
      assertThat(response.json().get("error").get("parameter").asText()).isEqualTo("tracking_id");
      assertThat(get(KEY_A, "/v1/top-pages?tracking_id=" + trackingId + range).status())
          .isEqualTo(403);
      assertThat(
              get(KEY_A, "/v1/breakdowns?dimension=source&tracking_id=" + trackingId + range)
                  .status())
          .isEqualTo(403);
    }
    // SQL in any other parameter is a bad parameter, never a query.
    String injection = encode("x' OR tracking_id = 'LL-B1' --");
    assertBadParameter(
        KEY_A, "/v1/metrics?metric=events&event_name=" + injection + range, "event_name");
    assertBadParameter(KEY_A, "/v1/metrics?metric=events&tz=" + injection + range, "tz");
    assertBadParameter(
        KEY_A, "/v1/metrics?metric=events&granularity=" + injection + range, "granularity");
    assertBadParameter(KEY_A, "/v1/metrics?metric=" + injection + range, "metric");
    assertBadParameter(KEY_A, "/v1/metrics?metric=events&to=2026-11-20&from=" + injection, "from");
    assertBadParameter(KEY_A, "/v1/metrics?metric=events&from=2026-11-18&to=" + injection, "to");
    assertBadParameter(KEY_A, "/v1/top-pages?limit=" + injection + range, "limit");
    assertBadParameter(KEY_A, "/v1/breakdowns?dimension=" + injection + range, "dimension");
    assertBadParameter(KEY_A, "/v1/metrics?metric=events&merchant=merchant-b" + range, "merchant");
    // A key of one merchant with the same question as another gets its own numbers (no cache mix).
    assertThat(total(get(KEY_B, "/v1/metrics?metric=events" + range).json()))
        .isEqualTo(otherTotal)
        .isNotEqualTo(ownTotal);
    // No key, or a wrong one: 401.
    assertThat(send(HttpRequest.newBuilder(uri("/v1/metrics?metric=events" + range))).status())
        .isEqualTo(401);
    assertThat(get("llk_not_a_key", "/v1/metrics?metric=events" + range).status()).isEqualTo(401);
    assertThat(get(ApiKeys.hash(KEY_A), "/v1/metrics?metric=events" + range).status())
        .isEqualTo(401);
    // The key also works as X-Api-Key.
    assertThat(
            send(HttpRequest.newBuilder(uri("/v1/metrics?metric=events" + range))
                    .header("X-Api-Key", KEY_A))
                .status())
        .isEqualTo(200);
  }

  @Test
  void badParametersAreA400NamingTheParameter() {
    String range = "&from=2026-11-18&to=2026-11-20";
    assertBadParameter(KEY_A, "/v1/metrics?from=2026-11-18&to=2026-11-20", "metric");
    assertBadParameter(KEY_A, "/v1/metrics?metric=events&to=2026-11-20", "from");
    assertBadParameter(KEY_A, "/v1/metrics?metric=events&from=2026-11-20&to=2026-11-18", "to");
    assertBadParameter(KEY_A, "/v1/metrics?metric=events&from=2026-11-18&to=2028-11-18", "to");
    assertBadParameter(
        KEY_A, "/v1/metrics?metric=events&granularity=minute" + range, "granularity");
    assertBadParameter(
        KEY_A,
        "/v1/metrics?metric=events&granularity=hour&from=2026-09-01&to=2026-11-18",
        "granularity");
    assertBadParameter(KEY_A, "/v1/metrics?metric=events&tz=Mars/Olympus" + range, "tz");
    // Zones Java takes and Trino refuses are a 400 at the edge, not Trino's 503.
    assertBadParameter(KEY_A, "/v1/metrics?metric=events&tz=%2B01:00:30" + range, "tz");
    assertBadParameter(KEY_A, "/v1/metrics?metric=events&tz=%2B15:00" + range, "tz");
    // What Trino takes: offsets of whole minutes, and GMT+1 passed on as +01:00.
    for (String zone : List.of("%2B05:30", "-03:00", "GMT%2B01:00")) {
      assertThat(get(KEY_A, "/v1/metrics?metric=events&tz=" + zone + range).status())
          .as(zone)
          .isEqualTo(200);
    }
    assertBadParameter(
        KEY_A, "/v1/metrics?metric=events&from=2026-11-18T00:00:00.5Z&to=2026-11-20", "from");
    assertBadParameter(
        KEY_A, "/v1/metrics?metric=pageviews&event_name=page_view" + range, "event_name");
    assertBadParameter(KEY_A, "/v1/metrics?metric=events&metric=users" + range, "metric");
    assertBadParameter(KEY_A, "/v1/metrics?metric=events&event_name=%E0%A4" + range, "event_name");
    assertBadParameter(KEY_A, "/v1/top-pages?limit=1000" + range, "limit");
    assertBadParameter(KEY_A, "/v1/breakdowns?dimension=country" + range, "dimension");
    assertBadParameter(
        KEY_A, "/v1/breakdowns?dimension=source&from=2026-11-18T00:00:00Z&to=2026-11-20", "from");
    assertThat(get(KEY_A, "/v1/nothing-here").status()).isEqualTo(404);
    assertThat(
            send(HttpRequest.newBuilder(uri("/v1/metrics"))
                    .header("Authorization", "Bearer " + KEY_A)
                    .POST(HttpRequest.BodyPublishers.ofString("{}")))
                .status())
        .isEqualTo(405);
  }

  @Test
  void repeatedQuestionsComeFromTheCacheUntilItsTtlPasses() {
    String path =
        "/v1/metrics?metric=events&granularity=hour&tracking_id=LL-A1"
            + "&from=2026-11-25T12:00:00Z&to=2026-11-25T13:00:00Z";
    Response first = get(KEY_A, path);
    assertThat(first.header("X-Cache")).isEqualTo("miss");
    long before = total(first.json());
    Response second = get(KEY_A, path);
    assertThat(second.header("X-Cache")).isEqualTo("hit");
    assertThat(second.body()).isEqualTo(first.body());
    // The same question of another merchant is not answered from merchant A's entry.
    assertThat(get(KEY_B, path.replace("LL-A1", "LL-B1")).header("X-Cache")).isEqualTo("miss");

    // New speed data (in an hour no other test reads): the cached answer stands until the TTL has
    // passed, then the new one shows.
    trino.execute(
        "INSERT INTO "
            + schema
            + ".speed_events_hourly SELECT 'LL-A1', DATE '2026-11-25',"
            + " TIMESTAMP '2026-11-25 12:00:00.000 UTC', 'late_event', 5,"
            + " CAST(approx_set(user_id) AS varbinary), NULL, 0, 'it', current_timestamp"
            + " FROM (VALUES 'late-user') AS t(user_id)");
    assertThat(total(get(KEY_A, path).json())).isEqualTo(before);
    clockOffset.addAndGet(Duration.ofSeconds(31).toNanos());
    Response fresh = get(KEY_A, path);
    assertThat(fresh.header("X-Cache")).isEqualTo("miss");
    assertThat(total(fresh.json())).isEqualTo(before + 5);
  }

  @Test
  void theRateLimitPerKeyAnswers429WithRetryAfter() {
    String path = "/v1/metrics?metric=events&from=2026-11-18&to=2026-11-19";
    for (int request = 0; request < 3; request++) {
      assertThat(get(limitedServer, KEY_A, path).status()).isEqualTo(200);
    }
    Response limited = get(limitedServer, KEY_A, path);
    assertThat(limited.status()).isEqualTo(429);
    assertThat(limited.json().get("error").get("code").asText()).isEqualTo("rate_limited");
    assertThat(Long.parseLong(limited.header("Retry-After"))).isPositive();
    // Another key has its own budget.
    assertThat(get(limitedServer, KEY_B, path).status()).isEqualTo(200);
  }

  @Test
  void servesItsOpenApiDocumentAndHealth() {
    Response openApi = send(HttpRequest.newBuilder(uri("/v1/openapi.json")));
    assertThat(openApi.status()).isEqualTo(200);
    assertThat(openApi.json().get("openapi").asText()).startsWith("3.");
    assertThat(openApi.json().get("paths").fieldNames())
        .toIterable()
        .contains("/v1/metrics", "/v1/top-pages", "/v1/breakdowns", "/health");
    assertThat(send(HttpRequest.newBuilder(uri("/health"))).status()).isEqualTo(200);
  }

  private static JsonNode assertSeries(
      String key,
      String query,
      String granularity,
      String zone,
      String value,
      String filter,
      String ignored) {
    Response response = get(key, "/v1/metrics?" + query);
    assertThat(response.status()).as(response.text()).isEqualTo(200);
    JsonNode answer = response.json();
    assertThat(answer.get("time_zone").asText()).isEqualTo(zone);
    String from = OffsetDateTime.parse(answer.get("from").asText()).toInstant().toString();
    String to = OffsetDateTime.parse(answer.get("to").asText()).toInstant().toString();
    Map<Instant, Long> expected = expectedSeries(granularity, zone, value, filter, from, to);
    Map<Instant, Long> actual = series(answer);
    assertThat(actual).containsAllEntriesOf(expected);
    // Every other period of the range is there with 0.
    actual.forEach(
        (period, count) -> {
          if (!expected.containsKey(period)) {
            assertThat(count).as(period.toString()).isZero();
          }
        });
    assertThat(expected).isNotEmpty();
    return answer;
  }

  /**
   * The series straight from the raw events: each event in its UTC hour, each hour in the period of
   * the zone in which it starts.
   */
  private static Map<Instant, Long> expectedSeries(
      String granularity, String zone, String value, String filter, String from, String to) {
    String period =
        granularity.equals("hour")
            ? "date_trunc('hour', event_time)"
            : "date_trunc('"
                + granularity
                + "', at_timezone(date_trunc('hour', event_time), '"
                + zone
                + "'))";
    Map<Instant, Long> expected = new TreeMap<>();
    for (List<Object> row :
        trino.query(
            "SELECT to_unixtime("
                + period
                + "), "
                + value
                + " FROM "
                + schema
                + ".raw_events WHERE "
                + filter
                + " AND event_time >= from_iso8601_timestamp('"
                + from
                + "') AND event_time < from_iso8601_timestamp('"
                + to
                + "') GROUP BY 1")) {
      expected.put(
          Instant.ofEpochMilli(Math.round(((Number) row.get(0)).doubleValue() * 1000)),
          ((Number) row.get(1)).longValue());
    }
    return expected;
  }

  private static long rawCount(String filter) {
    return ((Number)
            trino.scalar(
                "SELECT count(*) FROM "
                    + schema
                    + ".raw_events WHERE "
                    + filter
                    + " AND event_time >= TIMESTAMP '2026-11-17 12:00:00 UTC'"))
        .longValue();
  }

  private static Map<Instant, Long> series(JsonNode answer) {
    Map<Instant, Long> series = new TreeMap<>();
    answer
        .get("series")
        .forEach(
            point ->
                series.put(
                    OffsetDateTime.parse(point.get("start").asText()).toInstant(),
                    point.get("value").asLong()));
    return series;
  }

  private static long total(JsonNode answer) {
    return series(answer).values().stream().mapToLong(Long::longValue).sum();
  }

  private static void assertBadParameter(String key, String path, String parameter) {
    Response response = get(key, path);
    assertThat(response.status()).as(path + " -> " + response.text()).isEqualTo(400);
    JsonNode error = response.json().get("error");
    assertThat(error.get("parameter").asText()).as(path).isEqualTo(parameter);
    assertThat(error.get("message").asText()).as(path).isNotBlank();
  }

  private record Response(int status, Map<String, List<String>> headers, byte[] body) {
    String text() {
      return new String(body, UTF_8);
    }

    JsonNode json() {
      try {
        return JSON.readTree(body);
      } catch (IOException e) {
        throw new AssertionError("Not JSON: " + text(), e);
      }
    }

    String header(String name) {
      return headers.entrySet().stream()
          .filter(entry -> entry.getKey().equalsIgnoreCase(name))
          .map(entry -> entry.getValue().get(0))
          .findFirst()
          .orElse(null);
    }
  }

  private static Response get(String key, String path) {
    return get(server, key, path);
  }

  private static Response get(ApiServer target, String key, String path) {
    return send(
        HttpRequest.newBuilder(URI.create(target.baseUrl() + path))
            .header("Authorization", "Bearer " + key));
  }

  private static URI uri(String path) {
    return URI.create(server.baseUrl() + path);
  }

  private static Response send(HttpRequest.Builder request) {
    try {
      HttpResponse<byte[]> response =
          http.send(
              request.timeout(Duration.ofSeconds(60)).build(),
              HttpResponse.BodyHandlers.ofByteArray());
      return new Response(response.statusCode(), response.headers().map(), response.body());
    } catch (IOException e) {
      throw new AssertionError(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  private static String encode(String text) {
    return URLEncoder.encode(text, UTF_8);
  }

  private static String key(String key, String merchant, String trackingIds, String zone) {
    return "  { key-hash = \""
        + ApiKeys.hash(key)
        + "\", merchant = \""
        + merchant
        + "\", tracking-ids = ["
        + trackingIds
        + "], time-zone = \""
        + zone
        + "\" }\n";
  }

  /** A table of the fixture, in its schema's folder (the file metastore wants the location). */
  private static void createTable(String table, String select) {
    trino.execute(
        "CREATE TABLE "
            + schema
            + "."
            + table
            + " WITH (location = '"
            + StorageConfig.trinoLocation(
                SharedStack.config().storage().tableLocation(schema, table))
            + "') AS"
            + select);
  }

  /**
   * 9,000 events over three UTC days for three tracking IDs (two of merchant A, one of B); hourly
   * tables split at the watermark, speed rows before it deliberately wrong so that a view that read
   * them would fail the comparison; daily sessions and traffic.
   */
  private static void createFixture() {
    String s = schema + ".";
    createTable(
        "raw_events",
        " SELECT"
            + " element_at(ARRAY['LL-A1', 'LL-A2', 'LL-B1'], CAST(i % 3 AS integer) + 1) AS tracking_id,"
            + " element_at(ARRAY['page_view', 'page_view', 'add_to_cart', 'purchase'], CAST(i % 4 AS integer) + 1) AS event_name,"
            + " from_unixtime("
            + FIRST_SECOND
            + " + (i * 7919) % (3 * 86400), 'UTC') AS event_time,"
            + " 'u' || CAST((i * 31) % 700 AS varchar) AS user_id,"
            + " '/p/' || CAST(i % 7 AS varchar) AS page_url,"
            + " CAST((i % 50) + 0.25 AS decimal(18, 4)) AS value,"
            + " element_at(ARRAY['EUR', 'USD'], CAST((i / 4) % 2 AS integer) + 1) AS currency,"
            + " element_at(ARRAY['desktop', 'phone', 'tablet'], CAST(i % 5 AS integer) % 3 + 1) AS device_class"
            + " FROM UNNEST(sequence(0, 8999)) AS t(i)");
    String hourly =
        " SELECT tracking_id, CAST(at_timezone(date_trunc('hour', event_time), 'UTC') AS date) AS event_date,"
            + " date_trunc('hour', event_time) AS hour, event_name, count(*) %s AS events,"
            + " CAST(approx_set(user_id) AS varbinary) AS users_sketch,"
            + " CAST(sum(CASE WHEN event_name = 'purchase' THEN value END) AS decimal(28, 4)) AS value_sum,"
            + " count(CASE WHEN event_name = 'purchase' THEN value END) AS valued_events,"
            + " 'it' AS logic_version, current_timestamp AS computed_at FROM "
            + s
            + "raw_events %s GROUP BY 1, 2, 3, 4";
    String pages =
        " SELECT tracking_id, CAST(at_timezone(date_trunc('hour', event_time), 'UTC') AS date) AS event_date,"
            + " date_trunc('hour', event_time) AS hour, page_url, count(*) %s AS pageviews,"
            + " CAST(approx_set(user_id) AS varbinary) AS users_sketch,"
            + " 'it' AS logic_version, current_timestamp AS computed_at FROM "
            + s
            + "raw_events WHERE event_name = 'page_view' %s GROUP BY 1, 2, 3, 4";
    String beforeWatermark = "event_time < TIMESTAMP '" + WATERMARK + "'";
    createTable("batch_events_hourly", String.format(hourly, "", "WHERE " + beforeWatermark));
    // Speed has every hour; those before the watermark are off by 1000 and must never be read.
    createTable(
        "speed_events_hourly",
        String.format(
            hourly,
            "+ CASE WHEN date_trunc('hour', event_time) < TIMESTAMP '"
                + WATERMARK
                + "' THEN 1000 ELSE 0 END",
            ""));
    createTable("batch_pages_hourly", String.format(pages, "", "AND " + beforeWatermark));
    createTable(
        "speed_pages_hourly",
        String.format(
            pages,
            "+ CASE WHEN date_trunc('hour', event_time) < TIMESTAMP '"
                + WATERMARK
                + "' THEN 1000 ELSE 0 END",
            ""));
    createTable(
        "coverage",
        " SELECT * FROM (VALUES ('events_hourly'), ('pages_hourly')) AS v(view)"
            + " CROSS JOIN (SELECT CAST(TIMESTAMP '"
            + WATERMARK
            + "' AS timestamp(3) with time zone) AS covered_until, 'run-1' AS run_id, 'it' AS logic_version, current_timestamp AS updated_at)");
    createTable(
        "events_daily_t",
        " SELECT d.tracking_id, d.event_date, d.sessions, r.revenue FROM"
            + " (SELECT tracking_id, CAST(at_timezone(event_time, 'UTC') AS date) AS event_date,"
            + " count(DISTINCT user_id) AS sessions FROM "
            + s
            + "raw_events GROUP BY 1, 2) d"
            + " JOIN (SELECT tracking_id, event_date, map_agg(currency, amount) AS revenue FROM"
            + " (SELECT tracking_id, CAST(at_timezone(event_time, 'UTC') AS date) AS event_date, currency,"
            + " CAST(sum(value) AS decimal(28, 4)) AS amount FROM "
            + s
            + "raw_events"
            + " WHERE event_name = 'purchase' GROUP BY 1, 2, 3) GROUP BY 1, 2) r"
            + " ON d.tracking_id = r.tracking_id AND d.event_date = r.event_date"
            + " WHERE d.event_date < DATE '2026-11-20'");
    createTable(
        "traffic_daily_t",
        " SELECT tracking_id, CAST(at_timezone(event_time, 'UTC') AS date) AS event_date,"
            + " '(direct)' AS traffic_source, '(none)' AS traffic_medium, '(none)' AS traffic_campaign,"
            + " device_class, 'Chrome' AS browser, count(DISTINCT user_id) AS sessions,"
            + " count(DISTINCT user_id) / 3 AS bounced_sessions, count(*) AS events,"
            + " CAST(approx_set(user_id) AS varbinary) AS users_sketch FROM "
            + s
            + "raw_events WHERE event_time < TIMESTAMP '"
            + WATERMARK
            + "' GROUP BY 1, 2, 6");
    for (String view : List.of("events_hourly", "pages_hourly")) {
      String coveredUntil =
          "coalesce((SELECT max(covered_until) FROM "
              + s
              + "coverage WHERE view = '"
              + view
              + "'), TIMESTAMP '1970-01-01 00:00:00 UTC')";
      trino.execute(
          "CREATE VIEW "
              + s
              + view
              + " AS"
              + " SELECT b.*, 'batch' AS layer FROM "
              + s
              + "batch_"
              + view
              + " b WHERE b.hour < "
              + coveredUntil
              + " UNION ALL SELECT p.*, 'speed' AS layer FROM "
              + s
              + "speed_"
              + view
              + " p WHERE p.hour >= "
              + coveredUntil);
    }
    trino.execute("CREATE VIEW " + s + "sessions_daily AS SELECT * FROM " + s + "events_daily_t");
    trino.execute("CREATE VIEW " + s + "traffic_daily AS SELECT * FROM " + s + "traffic_daily_t");
  }
}
