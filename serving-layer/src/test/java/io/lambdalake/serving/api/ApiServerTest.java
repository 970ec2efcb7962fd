package io.lambdalake.serving.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.lambdalake.common.config.ApiConfig;
import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** The HTTP server in front of the API: real sockets, a fake source of numbers. */
class ApiServerTest {
  static final String KEY = "llk_unit_test_key";

  static ApiConfig config() {
    return new ApiConfig(
        "127.0.0.1",
        0,
        4,
        Duration.ofSeconds(5),
        100,
        new ApiConfig.RateLimit(1000, 1000),
        1000,
        Duration.ofDays(400),
        100,
        new ApiConfig.Views(
            "s.events_hourly", "s.pages_hourly", "s.sessions_daily", "s.traffic_daily"),
        List.of(
            new ApiConfig.Key(
                ApiKeys.hash(KEY), "shop", List.of("LL-1", "LL-2"), ZoneId.of("Europe/Berlin"))));
  }

  /** Answers every count with 7 at the first period; counts its calls. */
  static final class FakeSource implements MetricsSource {
    int calls;

    @Override
    public SortedMap<Instant, Long> counts(MetricsQuery query) {
      calls++;
      SortedMap<Instant, Long> counts = new TreeMap<>();
      counts.put(query.granularity().periodOf(query.from(), query.zone()), 7L);
      return counts;
    }

    @Override
    public SortedMap<Instant, Map<String, BigDecimal>> revenue(MetricsQuery query) {
      calls++;
      return new TreeMap<>(Map.of(query.from(), Map.of("EUR", new BigDecimal("1.50"))));
    }

    @Override
    public List<PageRow> topPages(TopPagesQuery query) {
      calls++;
      return List.of(new PageRow("/", 3, 2));
    }

    @Override
    public List<BreakdownRow> breakdown(BreakdownQuery query) {
      calls++;
      return List.of(new BreakdownRow("google", 4, 1, 9, 3));
    }
  }

  @Test
  void answersOverHttpWithKeepAlive() throws Exception {
    FakeSource source = new FakeSource();
    try (ApiServer server =
        ApiServer.start(config(), new MetricsApi(config(), source, System::nanoTime))) {
      HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      HttpResponse<String> health =
          client.send(
              HttpRequest.newBuilder(URI.create(server.baseUrl() + "/health"))
                  .timeout(Duration.ofSeconds(10))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(health.statusCode()).isEqualTo(200);
      assertThat(health.body()).isEqualTo("{\"status\":\"ok\"}");

      HttpResponse<String> metrics =
          client.send(
              HttpRequest.newBuilder(
                      URI.create(
                          server.baseUrl()
                              + "/v1/metrics?metric=events&from=2026-11-01&to=2026-11-02"))
                  .header("Authorization", "Bearer " + KEY)
                  .timeout(Duration.ofSeconds(10))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(metrics.statusCode()).isEqualTo(200);
      assertThat(metrics.headers().firstValue("Content-Type"))
          .contains("application/json; charset=utf-8");
      assertThat(metrics.body())
          .contains(
              "\"series\":[{\"start\":\"2026-11-01T00:00+01:00\",\"value\":7},"
                  + "{\"start\":\"2026-11-02T00:00+01:00\",\"value\":0}]");
    }
  }
}
