package io.lambdalake.speed.bench;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.lambdalake.ingestion.collector.generate.EventGenerator;
import io.lambdalake.ingestion.collector.generate.GeneratedEvent;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;

/**
 * The freshness benchmark's driver: while a steady load of generated events goes to the collector,
 * it sends a probe event every few seconds (an event name of its own) and measures, from the
 * collector's 202 for it, how long until Trino reads it counted in the speed view. Prints one line
 * {@code freshness: p50_s=X p95_s=Y load_events_per_s=N}.
 *
 * <p>Arguments: collector base URL, Trino JDBC URL, Trino table (catalog.schema.table), tracking
 * ID, load in events per second, seconds to measure, seconds between probes, and optionally seconds
 * of warm-up: the load runs and probes go out, but only probes sent after it count (the job's first
 * micro-batches after its start carry the backlog of its start-up and run on a cold JIT; that is
 * start-up time, not freshness).
 */
public final class FreshnessBenchmark {
  private FreshnessBenchmark() {}

  public static void main(String[] arguments) throws Exception {
    String collector = arguments[0];
    String trinoUrl = arguments[1];
    String table = arguments[2];
    String trackingId = arguments[3];
    int loadPerSecond = Integer.parseInt(arguments[4]);
    int seconds = Integer.parseInt(arguments[5]);
    int probeEverySeconds = Integer.parseInt(arguments[6]);
    int warmUpSeconds = arguments.length > 7 ? Integer.parseInt(arguments[7]) : 0;
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    URI batchEndpoint = URI.create(collector + "/v1/batch");
    Map<String, Instant> acknowledged = new ConcurrentHashMap<>();
    Map<String, Double> latencies = new ConcurrentHashMap<>();
    AtomicLong loadSent = new AtomicLong();

    Thread load =
        new Thread(
            () ->
                sendLoad(
                    http,
                    batchEndpoint,
                    trackingId,
                    loadPerSecond,
                    warmUpSeconds + seconds,
                    loadSent));
    load.setDaemon(true);
    load.start();
    Thread checker =
        new Thread(() -> check(trinoUrl, table, trackingId, acknowledged, latencies, 250));
    checker.setDaemon(true);
    checker.start();

    Instant measuring = Instant.now().plusSeconds(warmUpSeconds);
    Instant end = measuring.plusSeconds(seconds);
    int probe = 0;
    while (Instant.now().isBefore(end)) {
      String name = (Instant.now().isBefore(measuring) ? "warmup_" : "probe_") + probe++;
      sendProbe(http, batchEndpoint, trackingId, name, acknowledged);
      Thread.sleep(probeEverySeconds * 1000L);
    }
    acknowledged.keySet().removeIf(name -> name.startsWith("warmup_"));
    // Give the last probes up to a minute to arrive.
    Instant deadline = Instant.now().plusSeconds(60);
    while (!latencies.keySet().containsAll(acknowledged.keySet())
        && Instant.now().isBefore(deadline)) {
      Thread.sleep(250);
    }
    List<Double> sorted =
        latencies.entrySet().stream()
            .filter(counted -> counted.getKey().startsWith("probe_"))
            .map(Map.Entry::getValue)
            .sorted()
            .collect(Collectors.toList());
    if (sorted.isEmpty()) {
      System.out.println("freshness: no probe reached the speed view within a minute");
      System.exit(1);
    }
    System.out.printf(
        "probes=%d counted=%d max_s=%.1f%n",
        acknowledged.size(), sorted.size(), sorted.get(sorted.size() - 1));
    System.out.printf(
        "freshness: p50_s=%.1f p95_s=%.1f load_events_per_s=%.0f%n",
        percentile(sorted, 0.50),
        percentile(sorted, 0.95),
        loadSent.get() / (double) (warmUpSeconds + seconds));
    System.exit(sorted.size() == acknowledged.size() ? 0 : 1);
  }

  /**
   * Sends one probe event (its own event name) and, once the collector answered 202, records when
   * in {@code acknowledged}.
   */
  static void sendProbe(
      HttpClient http,
      URI endpoint,
      String trackingId,
      String name,
      Map<String, Instant> acknowledged)
      throws IOException, InterruptedException {
    String body =
        "[{\"tracking_id\":\""
            + trackingId
            + "\",\"event_name\":\""
            + name
            + "\",\"client_id\":\"probe\",\"page_url\":\"https://bench.example/\"}]";
    HttpResponse<Void> response =
        http.send(
            HttpRequest.newBuilder(endpoint)
                .header("Content-Type", "application/json")
                .header(
                    "User-Agent",
                    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0")
                .POST(HttpRequest.BodyPublishers.ofString(body, UTF_8))
                .build(),
            HttpResponse.BodyHandlers.discarding());
    if (response.statusCode() == 202) {
      acknowledged.put(name, Instant.now());
    }
  }

  static double percentile(List<Double> sorted, double quantile) {
    int index = (int) Math.ceil(quantile * sorted.size()) - 1;
    return sorted.get(Math.max(0, Math.min(sorted.size() - 1, index)));
  }

  static void sendLoad(
      HttpClient http,
      URI endpoint,
      String trackingId,
      int perSecond,
      int seconds,
      AtomicLong sent) {
    EventGenerator generator =
        new EventGenerator(
            3, List.of(trackingId), Instant.now().minusSeconds(60), Duration.ofMinutes(1), 0);
    long started = System.nanoTime();
    long end = started + Duration.ofSeconds(seconds).toNanos();
    while (System.nanoTime() < end) {
      List<GeneratedEvent> batch = new ArrayList<>();
      while (batch.size() < 20) {
        batch.addAll(generator.session());
      }
      String body =
          batch.subList(0, 20).stream()
              .map(GeneratedEvent::toClientJson)
              .map(json -> json.replaceFirst("\"event_time\":\"[^\"]*\",", ""))
              .collect(Collectors.joining(",", "[", "]"));
      try {
        HttpResponse<Void> response =
            http.send(
                HttpRequest.newBuilder(endpoint)
                    .header("Content-Type", "application/json")
                    .header("User-Agent", batch.get(0).userAgent())
                    .POST(HttpRequest.BodyPublishers.ofString(body, UTF_8))
                    .build(),
                HttpResponse.BodyHandlers.discarding());
        if (response.statusCode() == 202) {
          sent.addAndGet(20);
        }
      } catch (Exception e) {
        return;
      }
      // Paced: the load stays at the asked rate instead of bursting.
      long due = started + (long) (sent.get() / (double) perSecond * 1e9);
      long wait = due - System.nanoTime();
      if (wait > 0) {
        try {
          Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
        } catch (InterruptedException e) {
          return;
        }
      }
    }
  }

  static void check(
      String trinoUrl,
      String table,
      String trackingId,
      Map<String, Instant> acknowledged,
      Map<String, Double> latencies,
      long pollMillis) {
    Properties properties = new Properties();
    properties.setProperty("user", "lake-bench");
    while (true) {
      try (Connection connection = DriverManager.getConnection(trinoUrl, properties);
          Statement statement = connection.createStatement()) {
        while (true) {
          try (ResultSet result =
              statement.executeQuery(
                  "SELECT DISTINCT event_name FROM "
                      + table
                      + " WHERE tracking_id = '"
                      + trackingId
                      + "' AND event_name LIKE 'probe_%'")) {
            Instant now = Instant.now();
            while (result.next()) {
              String name = result.getString(1);
              Instant sentAt = acknowledged.get(name);
              if (sentAt != null) {
                latencies.putIfAbsent(name, Duration.between(sentAt, now).toMillis() / 1000.0);
              }
            }
          }
          Thread.sleep(pollMillis);
        }
      } catch (Exception e) {
        try {
          Thread.sleep(1000);
        } catch (InterruptedException interrupted) {
          return;
        }
      }
    }
  }
}
