package io.lambdalake.common.event;

import static java.util.Objects.requireNonNull;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/**
 * One analytics event as the collector accepted it: what the client sent, plus what the collector
 * adds (event ID when the client gave none, receive time, user agent, truncated client IP). It is
 * the value of a record in an {@code events.*} topic, written as one JSON object whose keys are the
 * {@link EventField} wire names, and the source of a {@code raw.events} row (which adds enrichment
 * and lineage).
 *
 * <p>All times are UTC instants. The event ID is the client's when it sent one, so a retried event
 * keeps its ID and can be deduplicated downstream.
 */
public record CollectedEvent(
    String eventId,
    String trackingId,
    String eventName,
    Instant eventTime,
    Instant receivedAt,
    String clientId,
    Optional<String> userId,
    Optional<String> sessionId,
    Optional<String> pageUrl,
    Optional<String> referrer,
    Optional<String> userAgent,
    Optional<String> clientIp,
    Map<String, String> params,
    Optional<BigDecimal> value,
    Optional<String> currency) {

  /** The version of this envelope's wire format, written as {@code schema_version}. */
  public static final int SCHEMA_VERSION = 1;

  public CollectedEvent {
    requireNonBlank(eventId, "eventId");
    requireNonBlank(trackingId, "trackingId");
    requireNonBlank(eventName, "eventName");
    requireNonNull(eventTime, "eventTime is null");
    requireNonNull(receivedAt, "receivedAt is null");
    requireNonBlank(clientId, "clientId");
    requireNonNull(userId, "userId is null");
    requireNonNull(sessionId, "sessionId is null");
    requireNonNull(pageUrl, "pageUrl is null");
    requireNonNull(referrer, "referrer is null");
    requireNonNull(userAgent, "userAgent is null");
    requireNonNull(clientIp, "clientIp is null");
    params = Map.copyOf(requireNonNull(params, "params is null"));
    requireNonNull(value, "value is null");
    requireNonNull(currency, "currency is null");
  }

  private static void requireNonBlank(String value, String name) {
    requireNonNull(value, name + " is null");
    if (value.isBlank()) {
      throw new IllegalArgumentException(name + " is blank");
    }
  }
}
