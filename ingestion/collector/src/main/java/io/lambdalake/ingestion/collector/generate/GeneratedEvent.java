package io.lambdalake.ingestion.collector.generate;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.lambdalake.common.event.CollectedEvent;
import io.lambdalake.common.event.EventField;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.Optional;

/**
 * A synthetic event as the collector would have put it on Kafka, and what the views should make of
 * it, so tests and benchmarks can compute the expected answer independently.
 */
public record GeneratedEvent(
    String eventId,
    String trackingId,
    String eventName,
    Instant eventTime,
    String clientId,
    Optional<String> userId,
    String sessionId,
    String pageUrl,
    Optional<String> referrer,
    String userAgent,
    boolean bot,
    Map<String, String> params,
    Optional<BigDecimal> value,
    Optional<String> currency) {
  private static final JsonFactory JSON = new JsonFactory();

  public GeneratedEvent {
    requireNonNull(eventId, "eventId is null");
    params = Map.copyOf(params);
  }

  /** The user the views count: the site's user id when known, else the client id. */
  public String countedUser() {
    return userId.orElse(clientId);
  }

  /** The page the views count: the URL without query and fragment. */
  public String page() {
    return pageUrl.replaceFirst("[?#].*$", "");
  }

  /** The event as a website or app sends it to the collector (which adds the rest). */
  public String toClientJson() {
    return toJson(Optional.empty());
  }

  /** The record value in the collector's wire format. */
  public String toJson(Instant receivedAt) {
    return toJson(Optional.of(receivedAt));
  }

  private String toJson(Optional<Instant> receivedAt) {
    StringWriter out = new StringWriter(512);
    try (JsonGenerator generator = JSON.createGenerator(out)) {
      generator.writeStartObject();
      if (receivedAt.isPresent()) {
        generator.writeNumberField(
            EventField.SCHEMA_VERSION.wireName(), CollectedEvent.SCHEMA_VERSION);
      }
      generator.writeStringField(EventField.EVENT_ID.wireName(), eventId);
      generator.writeStringField(EventField.TRACKING_ID.wireName(), trackingId);
      generator.writeStringField(EventField.EVENT_NAME.wireName(), eventName);
      generator.writeStringField(EventField.EVENT_TIME.wireName(), format(eventTime));
      if (receivedAt.isPresent()) {
        generator.writeStringField(EventField.RECEIVED_AT.wireName(), format(receivedAt.get()));
      }
      generator.writeStringField(EventField.CLIENT_ID.wireName(), clientId);
      if (userId.isPresent()) {
        generator.writeStringField(EventField.USER_ID.wireName(), userId.get());
      }
      generator.writeStringField(EventField.SESSION_ID.wireName(), sessionId);
      generator.writeStringField(EventField.PAGE_URL.wireName(), pageUrl);
      if (referrer.isPresent()) {
        generator.writeStringField(EventField.REFERRER.wireName(), referrer.get());
      }
      if (receivedAt.isPresent()) {
        generator.writeStringField(EventField.USER_AGENT.wireName(), userAgent);
        generator.writeStringField(EventField.CLIENT_IP.wireName(), "203.0.113.0");
      }
      generator.writeObjectFieldStart(EventField.PARAMS.wireName());
      for (Map.Entry<String, String> param : params.entrySet()) {
        generator.writeStringField(param.getKey(), param.getValue());
      }
      generator.writeEndObject();
      if (value.isPresent()) {
        generator.writeNumberField(EventField.VALUE.wireName(), value.get());
      }
      if (currency.isPresent()) {
        generator.writeStringField(EventField.CURRENCY.wireName(), currency.get());
      }
      generator.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toString();
  }

  private static String format(Instant instant) {
    return DateTimeFormatter.ISO_INSTANT.format(instant.truncatedTo(ChronoUnit.MILLIS));
  }
}
