package io.lambdalake.serving.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.lambdalake.common.config.ApiConfig;
import java.math.BigDecimal;
import java.net.Socket;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The HTTP server in front of the API: real sockets, a fake source of numbers. */
class ApiServerTest {
  static final String KEY = "llk_unit_test_key";

  static ApiConfig config() {
    return config(4, Duration.ofSeconds(60), 100, Duration.ofSeconds(30));
  }

  static ApiConfig config(
      int threads, Duration idleTimeout, int maxQueuedQueries, Duration queryTimeout) {
    return new ApiConfig(
        "127.0.0.1",
        0,
        threads,
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
                ApiKeys.hash(KEY), "shop", List.of("LL-1", "LL-2"), ZoneId.of("Europe/Berlin"))),
        idleTimeout,
        maxQueuedQueries,
        queryTimeout,
        ApiConfig.Source.TRINO,
        new ApiConfig.Store(
            "127.0.0.1", 3306, "lake_serving", "lake", "", 4, Duration.ofSeconds(2), 100, false));
  }

  /** Answers every count with 7 at the first period; counts its calls. */
  static class FakeSource implements MetricsSource {
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

  /** A source whose counts wait until released, as a slow Trino would. */
  static final class StalledSource extends FakeSource {
    final CountDownLatch release = new CountDownLatch(1);
    final AtomicInteger started = new AtomicInteger();

    @Override
    public SortedMap<Instant, Long> counts(MetricsQuery query) {
      started.incrementAndGet();
      try {
        release.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return super.counts(query);
    }
  }

  @Test
  void anIdleConnectionIsClosed() throws Exception {
    ApiConfig config = config(4, Duration.ofSeconds(1), 100, Duration.ofSeconds(30));
    try (ApiServer server =
            ApiServer.start(config, new MetricsApi(config, new FakeSource(), System::nanoTime));
        Socket socket = new Socket("127.0.0.1", server.port())) {
      socket.setSoTimeout(20_000);
      long started = System.nanoTime();
      assertThat(socket.getInputStream().read()).isEqualTo(-1);
      assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(10));
    }
  }

  @Test
  void queriesBeyondTheQueueAreAnswered503WithRetryAfter() throws Exception {
    ApiConfig config = config(1, Duration.ofSeconds(60), 1, Duration.ofSeconds(60));
    StalledSource source = new StalledSource();
    try (ApiServer server =
        ApiServer.start(config, new MetricsApi(config, source, System::nanoTime))) {
      HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      CompletableFuture<HttpResponse<String>> running =
          client.sendAsync(metrics(server, "2026-11-01"), HttpResponse.BodyHandlers.ofString());
      await().atMost(Duration.ofSeconds(10)).until(() -> source.started.get() == 1);
      CompletableFuture<HttpResponse<String>> queued =
          client.sendAsync(metrics(server, "2026-11-02"), HttpResponse.BodyHandlers.ofString());
      // Once the second waits in the queue (of one), the next finds it full.
      AtomicReference<HttpResponse<String>> refused = new AtomicReference<>();
      await()
          .atMost(Duration.ofSeconds(20))
          .ignoreExceptions()
          .until(
              () -> {
                refused.set(
                    client
                        .sendAsync(
                            metrics(server, "2026-11-03"), HttpResponse.BodyHandlers.ofString())
                        .get(5, TimeUnit.SECONDS));
                return refused.get().statusCode() == 503;
              });
      assertThat(refused.get().headers().firstValue("Retry-After")).isPresent();
      assertThat(refused.get().body()).contains("lake.api.max-queued-queries");
      source.release.countDown();
      assertThat(running.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
      assertThat(queued.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
    }
  }

  @Test
  void aQueryOverTheTimeoutIsAnswered504() throws Exception {
    ApiConfig config = config(2, Duration.ofSeconds(60), 10, Duration.ofSeconds(1));
    StalledSource source = new StalledSource();
    try (ApiServer server =
        ApiServer.start(config, new MetricsApi(config, source, System::nanoTime))) {
      HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      HttpResponse<String> timedOut =
          client
              .sendAsync(metrics(server, "2026-11-01"), HttpResponse.BodyHandlers.ofString())
              .get(15, TimeUnit.SECONDS);
      assertThat(timedOut.statusCode()).isEqualTo(504);
      assertThat(timedOut.body()).contains("query_timeout").contains("lake.api.query-timeout");
    } finally {
      source.release.countDown();
    }
  }

  private static HttpRequest metrics(ApiServer server, String day) {
    return HttpRequest.newBuilder(
            URI.create(server.baseUrl() + "/v1/metrics?metric=events&from=" + day + "&to=" + day))
        .header("Authorization", "Bearer " + KEY)
        .timeout(Duration.ofSeconds(30))
        .build();
  }
}
