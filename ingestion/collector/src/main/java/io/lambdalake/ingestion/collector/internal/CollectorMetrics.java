package io.lambdalake.ingestion.collector.internal;

import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.DoubleSupplier;

/**
 * The collector's metrics, written in the Prometheus text exposition format (version 0.0.4). Every
 * label takes values from a fixed set (endpoints, status codes, reason codes, configured topics and
 * tracking IDs), so no input can grow the number of series.
 */
public final class CollectorMetrics {
  private static final double[] LATENCY_BUCKETS = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10
  };

  private final Map<String, LongAdder> requests = new ConcurrentHashMap<>();
  private final Map<String, LongAdder> acceptedByTopic = new ConcurrentHashMap<>();
  private final Map<RejectionReason, LongAdder> rejected = new EnumMap<>(RejectionReason.class);
  private final Map<String, LongAdder> rateLimited = new ConcurrentHashMap<>();
  private final Map<Limit, LongAdder> limitHits = new EnumMap<>(Limit.class);
  private final LongAdder quarantined = new LongAdder();
  private final LongAdder quarantineFailures = new LongAdder();
  private final LongAdder unacknowledgedEvents = new LongAdder();
  private final Histogram produceLatency = new Histogram();
  private final Histogram requestDuration = new Histogram();
  private final Map<String, Gauge> gauges = new TreeMap<>();

  public CollectorMetrics() {
    for (RejectionReason reason : RejectionReason.values()) {
      rejected.put(reason, new LongAdder());
    }
    for (Limit limit : Limit.values()) {
      limitHits.put(limit, new LongAdder());
    }
  }

  /** Registers a gauge read when metrics are scraped. */
  public synchronized void gauge(String name, String help, DoubleSupplier value) {
    gauges.put(name, new Gauge(help, value));
  }

  public void request(Endpoint endpoint, int status, long durationNanos) {
    requests.computeIfAbsent(endpoint.path() + ' ' + status, key -> new LongAdder()).increment();
    requestDuration.observe(durationNanos);
  }

  public void accepted(String topic, int events) {
    acceptedByTopic.computeIfAbsent(topic, key -> new LongAdder()).add(events);
  }

  public void rejected(RejectionReason reason) {
    rejected.get(reason).increment();
  }

  public void rateLimited(String trackingId, int events) {
    rateLimited.computeIfAbsent(trackingId, key -> new LongAdder()).add(events);
  }

  /** A connection or request was refused because it hit a limit that protects the collector. */
  public void limitHit(Limit limit) {
    limitHits.get(limit).increment();
  }

  public void quarantined(int records) {
    quarantined.add(records);
  }

  public void quarantineFailed(int records) {
    quarantineFailures.add(records);
  }

  public void unacknowledged(int events) {
    unacknowledgedEvents.add(events);
  }

  public void produced(long latencyNanos) {
    produceLatency.observe(latencyNanos);
  }

  public long acceptedEvents() {
    return acceptedByTopic.values().stream().mapToLong(LongAdder::sum).sum();
  }

  public long rejectedEvents(RejectionReason reason) {
    return rejected.get(reason).sum();
  }

  public String scrape() {
    StringBuilder out = new StringBuilder(4096);
    header(
        out, "collector_http_requests_total", "HTTP requests by endpoint and status.", "counter");
    new TreeMap<>(requests)
        .forEach(
            (key, count) -> {
              int space = key.lastIndexOf(' ');
              out.append("collector_http_requests_total{endpoint=\"")
                  .append(key, 0, space)
                  .append("\",status=\"")
                  .append(key, space + 1, key.length())
                  .append("\"} ")
                  .append(count.sum())
                  .append('\n');
            });
    header(
        out, "collector_events_accepted_total", "Events Kafka acknowledged, by topic.", "counter");
    new TreeMap<>(acceptedByTopic)
        .forEach(
            (topic, count) ->
                sample(out, "collector_events_accepted_total", "topic", topic, count.sum()));
    header(
        out,
        "collector_events_rejected_total",
        "Events and requests refused, by reason.",
        "counter");
    rejected.forEach(
        (reason, count) ->
            sample(out, "collector_events_rejected_total", "reason", reason.code(), count.sum()));
    header(
        out,
        "collector_events_rate_limited_total",
        "Events answered 429, by tracking ID.",
        "counter");
    new TreeMap<>(rateLimited)
        .forEach(
            (trackingId, count) ->
                sample(
                    out,
                    "collector_events_rate_limited_total",
                    "tracking_id",
                    trackingId,
                    count.sum()));
    header(
        out,
        "collector_limit_hits_total",
        "Connections and requests refused by a limit that protects the collector, by limit.",
        "counter");
    limitHits.forEach(
        (limit, count) ->
            sample(out, "collector_limit_hits_total", "limit", limit.label(), count.sum()));
    counter(
        out,
        "collector_events_unacknowledged_total",
        "Accepted events Kafka did not acknowledge (their requests got 503).",
        unacknowledgedEvents.sum());
    counter(
        out,
        "collector_quarantined_total",
        "Records Kafka acknowledged in the quarantine topic.",
        quarantined.sum());
    counter(
        out,
        "collector_quarantine_failures_total",
        "Quarantine records Kafka did not acknowledge.",
        quarantineFailures.sum());
    produceLatency.write(
        out,
        "collector_produce_latency_seconds",
        "Time from handing a request's records to the producer until Kafka acknowledged all.");
    requestDuration.write(
        out,
        "collector_request_duration_seconds",
        "Time from a complete request to its answer being written.");
    synchronized (this) {
      gauges.forEach(
          (name, gauge) -> {
            header(out, name, gauge.help(), "gauge");
            out.append(name).append(' ').append(format(gauge.value().getAsDouble())).append('\n');
          });
    }
    return out.toString();
  }

  private static void header(StringBuilder out, String name, String help, String type) {
    out.append("# HELP ").append(name).append(' ').append(help).append('\n');
    out.append("# TYPE ").append(name).append(' ').append(type).append('\n');
  }

  private static void counter(StringBuilder out, String name, String help, long value) {
    header(out, name, help, "counter");
    out.append(name).append(' ').append(value).append('\n');
  }

  private static void sample(
      StringBuilder out, String name, String label, String value, long count) {
    out.append(name)
        .append('{')
        .append(label)
        .append("=\"")
        .append(escape(value))
        .append("\"} ")
        .append(count)
        .append('\n');
  }

  private static String escape(String labelValue) {
    return labelValue.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
  }

  private static String format(double value) {
    if (value == Math.rint(value) && !Double.isInfinite(value) && Math.abs(value) < 1e15) {
      return Long.toString((long) value);
    }
    return String.format(Locale.ROOT, "%s", value);
  }

  /** The endpoints, as the label of request counts. */
  /**
   * The limits that protect the collector under load, as {@code collector_limit_hits_total} names
   * them.
   */
  public enum Limit {
    /** lake.collector.limits.max-connections: the connection got 503 and was closed. */
    CONNECTIONS("connections"),
    /** lake.collector.limits.request-timeout: the request did not arrive in time, 408. */
    REQUEST_TIMEOUT("request_timeout"),
    /** lake.collector.limits.max-buffered-bodies: the request got 503. */
    BUFFERED_BODIES("buffered_bodies"),
    /** lake.collector.client-rate-limit: the request got 429. */
    CLIENT_RATE("client_rate"),
    /** lake.collector.quarantine-budget: a quarantine record was not written. */
    QUARANTINE_BUDGET("quarantine_budget");

    private final String label;

    Limit(String label) {
      this.label = label;
    }

    public String label() {
      return label;
    }
  }

  public enum Endpoint {
    COLLECT("/v1/collect"),
    BATCH("/v1/batch"),
    PIXEL("/v1/p.gif"),
    TRACKER("/v1/t.js"),
    HEALTH("/healthz"),
    READY("/readyz"),
    METRICS("/metrics"),
    OTHER("other");

    private final String path;

    Endpoint(String path) {
      this.path = path;
    }

    public String path() {
      return path;
    }
  }

  private record Gauge(String help, DoubleSupplier value) {}

  private static final class Histogram {
    private final LongAdder[] buckets = new LongAdder[LATENCY_BUCKETS.length];
    private final LongAdder count = new LongAdder();
    private final DoubleAdder sum = new DoubleAdder();

    Histogram() {
      for (int index = 0; index < buckets.length; index++) {
        buckets[index] = new LongAdder();
      }
    }

    void observe(long nanos) {
      double seconds = nanos / 1e9;
      for (int index = 0; index < LATENCY_BUCKETS.length; index++) {
        if (seconds <= LATENCY_BUCKETS[index]) {
          buckets[index].increment();
          break;
        }
      }
      count.increment();
      sum.add(seconds);
    }

    void write(StringBuilder out, String name, String help) {
      header(out, name, help, "histogram");
      long cumulative = 0;
      for (int index = 0; index < LATENCY_BUCKETS.length; index++) {
        cumulative += buckets[index].sum();
        out.append(name)
            .append("_bucket{le=\"")
            .append(LATENCY_BUCKETS[index])
            .append("\"} ")
            .append(cumulative)
            .append('\n');
      }
      long total = Math.max(count.sum(), cumulative);
      out.append(name).append("_bucket{le=\"+Inf\"} ").append(total).append('\n');
      out.append(name).append("_sum ").append(sum.sum()).append('\n');
      out.append(name).append("_count ").append(total).append('\n');
    }
  }
}
