package io.lambdalake.common.config;

import static io.lambdalake.common.config.Checks.checkNotBlank;
import static io.lambdalake.common.config.Checks.checkPort;
import static io.lambdalake.common.config.Checks.checkPositive;
import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The event collector ({@code lake collector}): where it listens, what it accepts, which merchants'
 * tracking IDs it knows, how event names route to topics and how its Kafka producer fails fast.
 *
 * @param host the address to bind
 * @param ioThreads event-loop threads; 0 means one per core
 * @param trustForwardedFor whether the client IP comes from {@code X-Forwarded-For} (set behind a
 *     load balancer that sets it; never when clients reach the collector directly)
 * @param corsAllowedOrigins origins browsers may send events from; {@code *} allows any
 * @param rateLimit the rate limit of a tracking ID that sets none of its own
 * @param clientRateLimit the rate limit of one client address (as kept: IPv4 /24, IPv6 /48), over
 *     every tracking ID it sends for, since tracking IDs are public in pages
 * @param quarantineBudget how many quarantine records rejected input may write
 * @param trackingIds the registry: tracking ID to its merchant (and optional own rate limit)
 * @param routes event name to topic; every other name goes to {@code lake.topics.events-other}
 * @param retryAfter what a 503 answer tells clients to wait before retrying
 * @param idleTimeout how long an idle connection stays open
 * @param drainTimeout how long a graceful shutdown waits for requests in flight
 * @param readinessInterval how often the collector checks that Kafka answers
 * @param createTopics whether the collector creates its topics when they are missing
 */
public record CollectorConfig(
    String host,
    int port,
    int ioThreads,
    boolean trustForwardedFor,
    List<String> corsAllowedOrigins,
    Limits limits,
    RateLimit rateLimit,
    RateLimit clientRateLimit,
    QuarantineBudget quarantineBudget,
    Map<String, TrackingId> trackingIds,
    Map<String, String> routes,
    Producer producer,
    Duration retryAfter,
    Duration idleTimeout,
    Duration drainTimeout,
    Duration readinessInterval,
    boolean createTopics) {

  private static final Pattern TRACKING_ID = Pattern.compile("[A-Za-z0-9_-]{1,64}");
  private static final Pattern EVENT_NAME = Pattern.compile("[A-Za-z][A-Za-z0-9_]{0,63}");
  private static final Pattern TOPIC = Pattern.compile("[A-Za-z0-9._-]{1,249}");

  public CollectorConfig {
    checkNotBlank(host, "lake.collector.host");
    if (port != 0) {
      checkPort(port, "lake.collector.port"); // 0 picks a free port, as tests do
    }
    if (ioThreads < 0) {
      throw Checks.invalid("lake.collector.io-threads", ioThreads, "0 (one per core) or more");
    }
    corsAllowedOrigins = List.copyOf(corsAllowedOrigins);
    requireNonNull(limits, "limits is null");
    requireNonNull(rateLimit, "rateLimit is null");
    requireNonNull(clientRateLimit, "clientRateLimit is null");
    requireNonNull(quarantineBudget, "quarantineBudget is null");
    trackingIds.keySet().forEach(CollectorConfig::checkTrackingId);
    trackingIds = Map.copyOf(trackingIds);
    routes.forEach(CollectorConfig::checkRoute);
    routes = Map.copyOf(routes);
    requireNonNull(producer, "producer is null");
    checkPositiveDuration(retryAfter, "lake.collector.retry-after");
    checkPositiveDuration(idleTimeout, "lake.collector.idle-timeout");
    checkPositiveDuration(drainTimeout, "lake.collector.drain-timeout");
    checkPositiveDuration(readinessInterval, "lake.collector.readiness-interval");
  }

  /** The registration of a tracking ID, if it is registered. */
  public Optional<TrackingId> trackingId(String trackingId) {
    return Optional.ofNullable(trackingIds.get(trackingId));
  }

  /** The rate limit that applies to a registered tracking ID. */
  public RateLimit rateLimitOf(TrackingId registration) {
    return registration.rateLimit().orElse(rateLimit);
  }

  /** Routes in a stable order, for printing. */
  public Map<String, String> sortedRoutes() {
    Map<String, String> sorted = new LinkedHashMap<>();
    routes.keySet().stream().sorted().forEach(name -> sorted.put(name, routes.get(name)));
    return sorted;
  }

  private static void checkTrackingId(String trackingId) {
    if (!TRACKING_ID.matcher(trackingId).matches()) {
      throw Checks.invalid(
          "lake.collector.tracking-ids",
          "\"" + trackingId + "\"",
          "made of 1 to 64 letters, digits, '-' and '_'");
    }
  }

  private static void checkRoute(String eventName, String topic) {
    if (!EVENT_NAME.matcher(eventName).matches()) {
      throw Checks.invalid(
          "lake.collector.routes",
          "\"" + eventName + "\"",
          "an event name: a letter, then up to 63 letters, digits and '_'");
    }
    if (topic == null || !TOPIC.matcher(topic).matches()) {
      throw Checks.invalid(
          "lake.collector.routes." + eventName,
          "\"" + topic + "\"",
          "a Kafka topic name: 1 to 249 letters, digits, '.', '_' and '-'");
    }
  }

  private static void checkPositiveDuration(Duration duration, String key) {
    requireNonNull(duration, key + " is null");
    if (duration.isNegative() || duration.isZero()) {
      throw Checks.invalid(key, duration, "a positive duration");
    }
  }

  /**
   * What the collector accepts.
   *
   * @param maxRequestBytes the largest request body
   * @param maxEventBytes the largest single event (a JSON object or an NDJSON line)
   * @param maxBatchEvents the most events in one batch request
   * @param maxParams the most entries in an event's params
   * @param maxParamKeyLength the longest params key, in characters
   * @param maxParamValueLength the longest params value, in characters
   * @param maxIdLength the longest client, user, session or event ID
   * @param maxTextLength the longest page URL, referrer or user agent (a longer user agent is cut)
   * @param maxHeaderBytes the largest request line or header block
   * @param maxInFlightRequests requests in flight beyond which the collector answers 503
   * @param maxEventAge how far in the past an event time may be
   * @param maxClockSkew how far in the future an event time may be
   * @param maxConnections open connections beyond which a new one gets 503 and is closed
   * @param requestTimeout how long a request may take to arrive, from its first byte to its last (a
   *     client sending a byte at a time is cut off with 408, whatever the idle timeout)
   * @param maxBufferedBodyBytes request body bytes held in memory over all connections, beyond
   *     which a request gets 503
   */
  public record Limits(
      int maxRequestBytes,
      int maxEventBytes,
      int maxBatchEvents,
      int maxParams,
      int maxParamKeyLength,
      int maxParamValueLength,
      int maxIdLength,
      int maxTextLength,
      int maxHeaderBytes,
      int maxInFlightRequests,
      Duration maxEventAge,
      Duration maxClockSkew,
      int maxConnections,
      Duration requestTimeout,
      long maxBufferedBodyBytes) {
    public Limits {
      checkPositive(maxRequestBytes, "lake.collector.limits.max-request-size");
      checkPositive(maxEventBytes, "lake.collector.limits.max-event-size");
      if (maxEventBytes > maxRequestBytes) {
        throw Checks.invalid(
            "lake.collector.limits.max-event-size",
            maxEventBytes,
            "at most lake.collector.limits.max-request-size (" + maxRequestBytes + ")");
      }
      checkPositive(maxBatchEvents, "lake.collector.limits.max-batch-events");
      checkPositive(maxParams, "lake.collector.limits.max-params");
      checkPositive(maxParamKeyLength, "lake.collector.limits.max-param-key-length");
      checkPositive(maxParamValueLength, "lake.collector.limits.max-param-value-length");
      checkPositive(maxIdLength, "lake.collector.limits.max-id-length");
      checkPositive(maxTextLength, "lake.collector.limits.max-text-length");
      checkPositive(maxHeaderBytes, "lake.collector.limits.max-header-size");
      checkPositive(maxInFlightRequests, "lake.collector.limits.max-in-flight-requests");
      checkPositiveDuration(maxEventAge, "lake.collector.limits.max-event-age");
      checkPositiveDuration(maxClockSkew, "lake.collector.limits.max-clock-skew");
      checkPositive(maxConnections, "lake.collector.limits.max-connections");
      checkPositiveDuration(requestTimeout, "lake.collector.limits.request-timeout");
      if (maxBufferedBodyBytes < maxRequestBytes) {
        throw Checks.invalid(
            "lake.collector.limits.max-buffered-bodies",
            maxBufferedBodyBytes,
            "at least lake.collector.limits.max-request-size (" + maxRequestBytes + ")");
      }
    }
  }

  /** A token bucket: a sustained rate of events per second and a burst it may reach at once. */
  public record RateLimit(double eventsPerSecond, int burst) {
    public RateLimit {
      if (!(eventsPerSecond > 0) || Double.isInfinite(eventsPerSecond)) {
        throw Checks.invalid(
            "lake.collector.rate-limit.events-per-second", eventsPerSecond, "a positive number");
      }
      checkPositive(burst, "lake.collector.rate-limit.burst");
    }
  }

  /**
   * What rejected input may write to the quarantine topic, as token buckets of records: per client
   * address and over all. Beyond them a rejected request is still answered as always; only its
   * quarantine record is not written (and counted).
   */
  public record QuarantineBudget(RateLimit perClient, RateLimit total) {
    public QuarantineBudget {
      requireNonNull(perClient, "perClient is null");
      requireNonNull(total, "total is null");
    }
  }

  /** A registered tracking ID: the merchant it belongs to and, optionally, its own rate limit. */
  public record TrackingId(String merchant, Optional<RateLimit> rateLimit) {
    public TrackingId {
      checkNotBlank(merchant, "lake.collector.tracking-ids.<id>.merchant");
      requireNonNull(rateLimit, "rateLimit is null");
    }
  }

  /**
   * How the collector's producer fails fast. The producer stays idempotent with acks=all; these
   * only bound how long a request waits for Kafka before the collector answers 503.
   *
   * @param deliveryTimeout how long a record may take to be acknowledged, retries included
   * @param requestTimeout how long one produce request may take
   * @param maxBlock how long a send may wait for metadata or buffer space
   * @param linger how long the producer waits to fill a batch
   * @param batchBytes the size of a producer batch
   * @param bufferBytes the producer's buffer for records not yet acknowledged
   */
  public record Producer(
      Duration deliveryTimeout,
      Duration requestTimeout,
      Duration maxBlock,
      Duration linger,
      int batchBytes,
      long bufferBytes) {
    public Producer {
      checkPositiveDuration(deliveryTimeout, "lake.collector.producer.delivery-timeout");
      checkPositiveDuration(requestTimeout, "lake.collector.producer.request-timeout");
      checkPositiveDuration(maxBlock, "lake.collector.producer.max-block");
      requireNonNull(linger, "linger is null");
      if (linger.isNegative()) {
        throw Checks.invalid("lake.collector.producer.linger", linger, "zero or more");
      }
      // Kafka refuses to start a producer that breaks this.
      if (deliveryTimeout.compareTo(requestTimeout.plus(linger)) < 0) {
        throw Checks.invalid(
            "lake.collector.producer.delivery-timeout",
            deliveryTimeout,
            "at least request-timeout + linger (" + requestTimeout.plus(linger) + ")");
      }
      checkPositive(batchBytes, "lake.collector.producer.batch-size");
      if (bufferBytes < batchBytes) {
        throw Checks.invalid(
            "lake.collector.producer.buffer-memory", bufferBytes, "at least batch-size");
      }
    }

    /** Producer properties, to lay over the ones KafkaClientProperties builds. */
    public Map<String, String> kafkaProperties() {
      Map<String, String> properties = new LinkedHashMap<>();
      properties.put("delivery.timeout.ms", Long.toString(deliveryTimeout.toMillis()));
      properties.put("request.timeout.ms", Long.toString(requestTimeout.toMillis()));
      properties.put("max.block.ms", Long.toString(maxBlock.toMillis()));
      properties.put("linger.ms", Long.toString(linger.toMillis()));
      properties.put("batch.size", Integer.toString(batchBytes));
      properties.put("buffer.memory", Long.toString(bufferBytes));
      return properties;
    }
  }
}
