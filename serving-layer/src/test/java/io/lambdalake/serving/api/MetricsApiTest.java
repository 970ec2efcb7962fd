package io.lambdalake.serving.api;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lambdalake.common.config.ApiConfig;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The API's rules without a server: keys, parameters, periods, cache and rate limit. */
class MetricsApiTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final AtomicLong now = new AtomicLong(1_000_000_000L);
  private final ApiServerTest.FakeSource source = new ApiServerTest.FakeSource();
  private final MetricsApi api = new MetricsApi(ApiServerTest.config(), source, now::get);

  @Test
  void anHourCountsInThePeriodOfTheZoneInWhichItStarts() {
    ZoneId kolkata = ZoneId.of("Asia/Kolkata");
    // 18:00-19:00 UTC is 23:30-00:30 in Kolkata: it counts for the day it starts in.
    assertThat(Granularity.DAY.periodOf(Instant.parse("2026-11-19T18:00:00Z"), kolkata))
        .isEqualTo(Instant.parse("2026-11-18T18:30:00Z"));
    assertThat(Granularity.DAY.periodOf(Instant.parse("2026-11-19T19:00:00Z"), kolkata))
        .isEqualTo(Instant.parse("2026-11-19T18:30:00Z"));
    // Weeks start on Monday; months on the 1st, in the zone.
    ZoneId berlin = ZoneId.of("Europe/Berlin");
    assertThat(Granularity.WEEK.periodOf(Instant.parse("2026-11-22T22:00:00Z"), berlin))
        .isEqualTo(Instant.parse("2026-11-22T23:00:00Z").minus(Duration.ofDays(7)));
    assertThat(Granularity.MONTH.periodOf(Instant.parse("2026-10-31T23:30:00Z"), berlin))
        .isEqualTo(Instant.parse("2026-10-31T23:00:00Z"));
  }

  @Test
  void aDaylightSavingDayHas23Hours() {
    ZoneId berlin = ZoneId.of("Europe/Berlin");
    List<Instant> days =
        MetricsApi.periods(
            Granularity.DAY,
            Instant.parse("2026-03-28T23:00:00Z"),
            Instant.parse("2026-03-30T22:00:00Z"),
            berlin,
            100);
    assertThat(days)
        .containsExactly(
            Instant.parse("2026-03-28T23:00:00Z"), Instant.parse("2026-03-29T22:00:00Z"));
    assertThat(
            MetricsApi.periods(
                Granularity.HOUR,
                Instant.parse("2026-03-28T23:00:00Z"),
                Instant.parse("2026-03-29T22:00:00Z"),
                berlin,
                100))
        .hasSize(23);
  }

  @Test
  void answersComeFromTheCacheUntilTheTtlPasses() {
    String query = "metric=events&from=2026-11-01&to=2026-11-02";
    assertThat(get(query).headers()).containsEntry("X-Cache", "miss");
    assertThat(get(query).headers()).containsEntry("X-Cache", "hit");
    assertThat(source.calls).isEqualTo(1);
    // The same question in other words is the same query.
    assertThat(get("from=2026-11-01&metric=events&to=2026-11-02&tracking_id=LL-2,LL-1").headers())
        .containsEntry("X-Cache", "hit");
    now.addAndGet(Duration.ofSeconds(6).toNanos());
    assertThat(get(query).headers()).containsEntry("X-Cache", "miss");
    assertThat(source.calls).isEqualTo(2);
  }

  @Test
  void withoutAValidKeyNothingIsRead() {
    MetricsApi.Answer none =
        api.handle("GET", "/v1/metrics", "metric=events", name -> Optional.empty());
    assertThat(none.status()).isEqualTo(401);
    assertThat(none.headers()).containsEntry("WWW-Authenticate", "Bearer");
    MetricsApi.Answer wrong =
        api.handle(
            "GET",
            "/v1/metrics",
            "metric=events",
            name ->
                name.equals("Authorization") ? Optional.of("Bearer llk_wrong") : Optional.empty());
    assertThat(wrong.status()).isEqualTo(401);
    assertThat(source.calls).isZero();
  }

  @Test
  void theRateLimitRefillsOverTime() {
    MetricsApi limited =
        new MetricsApi(withRateLimit(new ApiConfig.RateLimit(1, 2)), source, now::get);
    String query = "metric=events&from=2026-11-01&to=2026-11-02";
    assertThat(get(limited, query).status()).isEqualTo(200);
    assertThat(get(limited, query).status()).isEqualTo(200);
    MetricsApi.Answer refused = get(limited, query);
    assertThat(refused.status()).isEqualTo(429);
    assertThat(refused.headers()).containsEntry("Retry-After", "1");
    now.addAndGet(Duration.ofSeconds(1).toNanos());
    assertThat(get(limited, query).status()).isEqualTo(200);
  }

  @Test
  void timeZonesTrinoRefusesAre400AtTheEdge() {
    for (String refused : List.of("%2B01:00:30", "-00:00:01", "%2B15:00", "UTC%2B01:00:30")) {
      MetricsApi.Answer answer = get("metric=events&from=2026-11-01&to=2026-11-02&tz=" + refused);
      assertThat(answer.status()).as(refused).isEqualTo(400);
      assertThat(text(answer)).contains("tz").contains("+hh:mm");
    }
    assertThat(source.calls).isZero();
    for (String accepted : List.of("%2B05:30", "-03:00", "Europe/Berlin", "UTC", "GMT%2B01:00")) {
      assertThat(get("metric=events&from=2026-11-01&to=2026-11-02&tz=" + accepted).status())
          .as(accepted)
          .isEqualTo(200);
    }
  }

  @Test
  void eachKindOfQueryIsAnsweredWithItsOwnFields() throws IOException {
    JsonNode metrics = JSON.readTree(get("metric=events&from=2026-11-01&to=2026-11-02").body());
    assertThat(metrics.fieldNames().next()).isEqualTo("merchant");
    assertThat(metrics.get("merchant").asText()).isEqualTo("shop");
    assertThat(metrics.get("metric").asText()).isEqualTo("events");
    assertThat(metrics.get("series").get(0).get("value").asLong()).isEqualTo(7);

    JsonNode topPages = JSON.readTree(get("/v1/top-pages", "from=2026-11-01&to=2026-11-02").body());
    assertThat(topPages.fieldNames().next()).isEqualTo("merchant");
    assertThat(topPages.get("merchant").asText()).isEqualTo("shop");
    JsonNode page = topPages.get("pages").get(0);
    assertThat(page.get("page_url").asText()).isEqualTo("/");
    assertThat(page.get("pageviews").asLong()).isEqualTo(3);
    assertThat(page.get("users").asLong()).isEqualTo(2);

    JsonNode breakdown =
        JSON.readTree(
            get("/v1/breakdowns", "dimension=source&from=2026-11-01&to=2026-11-02").body());
    assertThat(breakdown.fieldNames().next()).isEqualTo("merchant");
    assertThat(breakdown.get("dimension").asText()).isEqualTo("source");
    JsonNode row = breakdown.get("rows").get(0);
    assertThat(row.get("value").asText()).isEqualTo("google");
    assertThat(row.get("sessions").asLong()).isEqualTo(4);
    assertThat(row.get("bounce_rate").asDouble()).isEqualTo(0.25);
    assertThat(row.get("users").asLong()).isEqualTo(3);
  }

  @Test
  void forbiddenTrackingIdsAreNamedButNotEchoedRaw() throws IOException {
    MetricsApi.Answer answer =
        get("metric=events&from=2026-11-01&to=2026-11-02&tracking_id=LL-%0AOTHER");
    assertThat(answer.status()).isEqualTo(403);
    JsonNode error = JSON.readTree(answer.body()).get("error");
    assertThat(error.get("parameter").asText()).isEqualTo("tracking_id");
    assertThat(error.get("message").asText())
        .isEqualTo("This API key may not read tracking ID 'LL-?OTHER'");
  }

  @Test
  void theOpenApiDocumentDescribesEveryEndpointAndParameter() throws IOException {
    JsonNode document;
    try (InputStream in =
        getClass().getClassLoader().getResourceAsStream("io/lambdalake/serving/api/openapi.json")) {
      document = JSON.readTree(in);
    }
    assertThat(document.get("openapi").asText()).isEqualTo("3.0.3");
    Map<String, Set<String>> expected =
        Map.of(
            "/v1/metrics",
            Set.of("metric", "from", "to", "granularity", "event_name", "tz", "tracking_id"),
            "/v1/top-pages",
            Set.of("from", "to", "tz", "tracking_id", "limit"),
            "/v1/breakdowns",
            Set.of("dimension", "from", "to", "tz", "tracking_id", "limit"));
    expected.forEach(
        (path, parameters) -> {
          Set<String> documented = new HashSet<>();
          document
              .get("paths")
              .get(path)
              .get("get")
              .get("parameters")
              .forEach(parameter -> documented.add(parameter.get("name").asText()));
          assertThat(documented).as(path).isEqualTo(parameters);
          // Every documented parameter is one the API takes: an unknown one would be a 400.
          assertThat(get(path, "").status()).isNotEqualTo(404);
        });
    assertThat(document.get("paths").fieldNames())
        .toIterable()
        .containsExactlyInAnyOrder(
            "/v1/metrics", "/v1/top-pages", "/v1/breakdowns", "/v1/openapi.json", "/health");
    MetricsApi.Answer served =
        api.handle("GET", "/v1/openapi.json", null, name -> Optional.empty());
    assertThat(JSON.readTree(served.body())).isEqualTo(document);
  }

  private MetricsApi.Answer get(String query) {
    return get(api, query);
  }

  private MetricsApi.Answer get(String path, String query) {
    return api.handle("GET", path, query, MetricsApiTest::bearer);
  }

  private static MetricsApi.Answer get(MetricsApi target, String query) {
    return target.handle("GET", "/v1/metrics", query, MetricsApiTest::bearer);
  }

  private static Optional<String> bearer(String name) {
    return name.equals("Authorization")
        ? Optional.of("Bearer " + ApiServerTest.KEY)
        : Optional.empty();
  }

  private static ApiConfig withRateLimit(ApiConfig.RateLimit rateLimit) {
    ApiConfig base = ApiServerTest.config();
    return new ApiConfig(
        base.host(),
        base.port(),
        base.threads(),
        base.cacheTtl(),
        base.cacheMaxEntries(),
        rateLimit,
        base.maxPoints(),
        base.maxRange(),
        base.maxRows(),
        base.views(),
        base.keys(),
        base.idleTimeout(),
        base.maxQueuedQueries(),
        base.queryTimeout(),
        base.source(),
        base.store());
  }

  static String text(MetricsApi.Answer answer) {
    return new String(answer.body(), UTF_8);
  }
}
