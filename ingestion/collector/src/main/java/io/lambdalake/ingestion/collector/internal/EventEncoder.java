package io.lambdalake.ingestion.collector.internal;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.lambdalake.common.event.CollectedEvent;
import io.lambdalake.common.event.EventField;
import io.lambdalake.common.event.QuarantineField;
import io.lambdalake.common.event.QuarantinedInput;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.Map;

/**
 * Writes events and quarantine records as the JSON values of Kafka records, with the wire names of
 * {@link EventField} and {@link QuarantineField}. Times are UTC ISO-8601 with milliseconds; absent
 * optional fields are left out.
 */
public final class EventEncoder {
  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

  private final JsonFactory json;

  public EventEncoder(JsonFactory json) {
    this.json = json;
  }

  public static String formatTime(Instant instant) {
    return TIME.format(instant.truncatedTo(ChronoUnit.MILLIS));
  }

  public byte[] encode(CollectedEvent event) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(512);
    try (JsonGenerator generator = json.createGenerator(out, JsonEncoding.UTF8)) {
      generator.writeStartObject();
      generator.writeNumberField(
          EventField.SCHEMA_VERSION.wireName(), CollectedEvent.SCHEMA_VERSION);
      generator.writeStringField(EventField.EVENT_ID.wireName(), event.eventId());
      generator.writeStringField(EventField.TRACKING_ID.wireName(), event.trackingId());
      generator.writeStringField(EventField.EVENT_NAME.wireName(), event.eventName());
      generator.writeStringField(EventField.EVENT_TIME.wireName(), formatTime(event.eventTime()));
      generator.writeStringField(EventField.RECEIVED_AT.wireName(), formatTime(event.receivedAt()));
      generator.writeStringField(EventField.CLIENT_ID.wireName(), event.clientId());
      writeOptional(generator, EventField.USER_ID, event.userId().orElse(null));
      writeOptional(generator, EventField.SESSION_ID, event.sessionId().orElse(null));
      writeOptional(generator, EventField.PAGE_URL, event.pageUrl().orElse(null));
      writeOptional(generator, EventField.REFERRER, event.referrer().orElse(null));
      writeOptional(generator, EventField.USER_AGENT, event.userAgent().orElse(null));
      writeOptional(generator, EventField.CLIENT_IP, event.clientIp().orElse(null));
      generator.writeObjectFieldStart(EventField.PARAMS.wireName());
      for (Map.Entry<String, String> param : event.params().entrySet()) {
        generator.writeStringField(param.getKey(), param.getValue());
      }
      generator.writeEndObject();
      if (event.value().isPresent()) {
        generator.writeNumberField(EventField.VALUE.wireName(), event.value().get());
      }
      writeOptional(generator, EventField.CURRENCY, event.currency().orElse(null));
      generator.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException("writing JSON to memory failed", e);
    }
    return out.toByteArray();
  }

  public byte[] encode(QuarantinedInput input) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(256 + input.payload().text().length());
    try (JsonGenerator generator = json.createGenerator(out, JsonEncoding.UTF8)) {
      generator.writeStartObject();
      generator.writeStringField(QuarantineField.SOURCE.wireName(), input.source());
      generator.writeStringField(QuarantineField.REASON.wireName(), input.reason());
      if (input.field().isPresent()) {
        generator.writeStringField(QuarantineField.FIELD.wireName(), input.field().get());
      }
      generator.writeStringField(QuarantineField.MESSAGE.wireName(), input.message());
      generator.writeStringField(
          QuarantineField.RECEIVED_AT.wireName(), formatTime(input.receivedAt()));
      generator.writeStringField(QuarantineField.ENDPOINT.wireName(), input.endpoint());
      if (input.index().isPresent()) {
        generator.writeNumberField(QuarantineField.INDEX.wireName(), input.index().get());
      }
      if (input.trackingId().isPresent()) {
        generator.writeStringField(
            QuarantineField.TRACKING_ID.wireName(), input.trackingId().get());
      }
      if (input.clientIp().isPresent()) {
        generator.writeStringField(QuarantineField.CLIENT_IP.wireName(), input.clientIp().get());
      }
      if (input.userAgent().isPresent()) {
        generator.writeStringField(QuarantineField.USER_AGENT.wireName(), input.userAgent().get());
      }
      generator.writeStringField(QuarantineField.PAYLOAD.wireName(), input.payload().text());
      generator.writeStringField(
          QuarantineField.PAYLOAD_ENCODING.wireName(), input.payload().encoding().wireName());
      generator.writeNumberField(QuarantineField.PAYLOAD_SIZE.wireName(), input.payloadSize());
      generator.writeBooleanField(
          QuarantineField.PAYLOAD_TRUNCATED.wireName(), input.payload().truncated());
      generator.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException("writing JSON to memory failed", e);
    }
    return out.toByteArray();
  }

  private static void writeOptional(JsonGenerator generator, EventField field, String value)
      throws IOException {
    if (value != null) {
      generator.writeStringField(field.wireName(), value);
    }
  }
}
