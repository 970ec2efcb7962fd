package io.lambdalake.ingestion.collector.internal;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import io.lambdalake.common.config.CollectorConfig;
import io.lambdalake.common.config.TopicsConfig;
import io.lambdalake.common.event.CollectedEvent;
import io.lambdalake.common.event.EventField;
import io.lambdalake.common.event.QuarantinedInput;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The collector's decisions, free of HTTP and Kafka: reads a request's events, checks them, applies
 * rate limits, routes the accepted ones, quarantines the rejected ones and says what to answer once
 * Kafka acknowledged (or failed) the records. Thread-safe.
 */
public final class RequestProcessor {
  private static final Logger LOG = LoggerFactory.getLogger(RequestProcessor.class);
  private static final String SOURCE = "collector";
  private static final long QUARANTINE_WARNING_INTERVAL_NANOS = Duration.ofSeconds(10).toNanos();

  /** The 1x1 transparent GIF a tracking pixel answers with. */
  static final byte[] PIXEL = {
    'G',
    'I',
    'F',
    '8',
    '9',
    'a',
    1,
    0,
    1,
    0,
    (byte) 0x80,
    0,
    0,
    0,
    0,
    0,
    (byte) 0xff,
    (byte) 0xff,
    (byte) 0xff,
    '!',
    (byte) 0xf9,
    4,
    1,
    0,
    0,
    0,
    0,
    ',',
    0,
    0,
    0,
    0,
    1,
    0,
    1,
    0,
    0,
    2,
    2,
    'D',
    1,
    0,
    ';'
  };

  private final CollectorConfig.Limits limits;
  private final String quarantineTopic;
  private final JsonFactory json;
  private final EventReader reader;
  private final EventEncoder encoder;
  private final EventRouter router;
  private final RateLimiter rateLimiter;
  private final QuarantineBudget quarantineBudget;
  private final BooleanSupplier kafkaReady;
  private final CollectorMetrics metrics;
  private final long retryAfterSeconds;
  private volatile long lastQuarantineWarning =
      System.nanoTime() - QUARANTINE_WARNING_INTERVAL_NANOS;

  public RequestProcessor(
      CollectorConfig config,
      TopicsConfig topics,
      JsonFactory json,
      RateLimiter rateLimiter,
      BooleanSupplier kafkaReady,
      CollectorMetrics metrics) {
    requireNonNull(config, "config is null");
    this.limits = config.limits();
    this.quarantineTopic = topics.eventsQuarantine();
    this.json = requireNonNull(json, "json is null");
    this.reader = new EventReader(config);
    this.encoder = new EventEncoder(json);
    this.router = new EventRouter(config.routes(), topics.eventsOther());
    this.rateLimiter = requireNonNull(rateLimiter, "rateLimiter is null");
    this.quarantineBudget = new QuarantineBudget(config.quarantineBudget(), System::nanoTime);
    this.kafkaReady = requireNonNull(kafkaReady, "kafkaReady is null");
    this.metrics = requireNonNull(metrics, "metrics is null");
    this.retryAfterSeconds = Math.max(1, (config.retryAfter().toMillis() + 999) / 1000);
  }

  /** A JSON factory with the limits hostile input calls for. */
  public static JsonFactory jsonFactory(CollectorConfig.Limits limits) {
    return JsonFactory.builder()
        .streamReadConstraints(
            StreamReadConstraints.builder()
                .maxNestingDepth(8)
                .maxNumberLength(100)
                .maxStringLength(limits.maxRequestBytes())
                .maxNameLength(limits.maxEventBytes())
                .build())
        .build();
  }

  /** Every topic a collector with this configuration writes to. */
  public static List<String> topics(CollectorConfig config, TopicsConfig topics) {
    List<String> all =
        new ArrayList<>(new EventRouter(config.routes(), topics.eventsOther()).topics());
    all.add(topics.eventsQuarantine());
    return all.stream().distinct().sorted().toList();
  }

  /** {@code POST /v1/collect}: one JSON event. */
  public Plan collect(EventRequest request) {
    Optional<Rejection> unreadable = checkBody(request);
    if (unreadable.isPresent()) {
      return rejectRequest(request, unreadable.get());
    }
    byte[] body = request.body();
    if (body.length > limits.maxEventBytes()) {
      return rejectRequest(
          request,
          Rejection.of(
              RejectionReason.EVENT_TOO_LARGE,
              "the event has "
                  + body.length
                  + " bytes, more than lake.collector.limits.max-event-size ("
                  + limits.maxEventBytes()
                  + ")"));
    }
    if (!Utf8.isWellFormed(body)) {
      return rejectRequest(request, malformedUtf8());
    }
    try (JsonParser parser = json.createParser(body)) {
      JsonToken token = parser.nextToken();
      if (token != JsonToken.START_OBJECT) {
        return rejectRequest(
            request,
            Rejection.of(
                RejectionReason.NOT_AN_OBJECT,
                token == JsonToken.START_ARRAY
                    ? "/v1/collect takes one event as a JSON object; send arrays to /v1/batch"
                    : "an event must be a JSON object"));
      }
      Decoded decoded = reader.readObject(parser, request.context());
      if (parser.nextToken() != null) {
        return rejectRequest(request, trailingContent());
      }
      return plan(request, List.of(new Item(0, decoded, 0, body.length)), Style.SINGLE);
    } catch (JsonProcessingException e) {
      return rejectRequest(request, malformedJson(e));
    } catch (IOException e) {
      throw new UncheckedIOException("reading JSON from memory failed", e);
    }
  }

  /** {@code POST /v1/batch}: a JSON array of events, or NDJSON (one event per line). */
  public Plan batch(EventRequest request) {
    Optional<Rejection> unreadable = checkBody(request);
    if (unreadable.isPresent()) {
      return rejectRequest(request, unreadable.get());
    }
    byte[] body = request.body();
    int start = skipWhitespace(body, 0);
    Batch batch =
        body[start] == '['
            ? readArray(body, request.context())
            : readLines(body, request.context());
    if (batch.rejection().isPresent()) {
      return rejectRequest(request, batch.rejection().get());
    }
    return plan(request, batch.items(), Style.BATCH);
  }

  /** {@code GET /v1/p.gif?...}: one event as query parameters. */
  public Plan pixel(EventRequest pixelRequest) {
    // The query string is the pixel's payload, as quarantine keeps it.
    EventRequest request =
        new EventRequest(
            pixelRequest.endpoint(),
            pixelRequest.contentType(),
            pixelRequest.contentEncoding(),
            pixelRequest.rawQuery(),
            pixelRequest.rawQuery().getBytes(UTF_8),
            pixelRequest.context());
    QueryString.Result parsed =
        QueryString.parse(request.rawQuery(), limits.maxParams() + EventField.values().length);
    if (parsed instanceof QueryString.Malformed malformed) {
      return rejectRequest(request, malformed.rejection());
    }
    List<QueryString.Parameter> parameters = ((QueryString.Parsed) parsed).parameters();
    if (parameters.isEmpty()) {
      return rejectRequest(
          request,
          Rejection.of(
              RejectionReason.EMPTY_REQUEST,
              "the pixel takes the event as query parameters, e.g."
                  + " ?tracking_id=...&event_name=page_view&client_id=..."));
    }
    Decoded decoded = reader.readQuery(parameters, request.context());
    return plan(request, List.of(new Item(0, decoded, 0, request.body().length)), Style.PIXEL);
  }

  /**
   * The quarantine record of a request refused before its body was read (too large, malformed
   * HTTP): kept with its reason and as much of it as there is, when the quarantine budget allows.
   */
  public Optional<OutgoingRecord> quarantineRequest(
      CollectorMetrics.Endpoint endpoint,
      Rejection rejection,
      RequestContext context,
      String summary,
      long size) {
    metrics.rejected(rejection.reason());
    return quarantineRecord(
        new QuarantinedInput(
            SOURCE,
            rejection.reason().code(),
            rejection.field(),
            rejection.message(),
            context.receivedAt(),
            endpoint.path(),
            Optional.empty(),
            Optional.empty(),
            context.clientIp(),
            context.userAgent(),
            Payloads.ofText(summary, limits.maxEventBytes()),
            size));
  }

  /** The JSON error answer for a rejection that is the whole story of a request. */
  public Reply errorReply(Rejection rejection) {
    return Reply.json(
        rejection.reason().httpStatus(),
        write(
            generator -> {
              generator.writeStartObject();
              writeRejection(generator, rejection);
              generator.writeEndObject();
            }));
  }

  /** The answer when Kafka cannot take events now. */
  public Reply unavailable(String why) {
    return Reply.json(
            503,
            write(
                generator -> {
                  generator.writeStartObject();
                  generator.writeStringField("error", "unavailable");
                  generator.writeStringField(
                      "message",
                      why
                          + "; nothing of this request was accepted, retry after "
                          + retryAfterSeconds
                          + " s");
                  generator.writeEndObject();
                }))
        .withHeader("Retry-After", Long.toString(retryAfterSeconds));
  }

  private Plan plan(EventRequest request, List<Item> items, Style style) {
    RequestContext context = request.context();
    List<Item> accepted = new ArrayList<>(items.size());
    List<Item> rejected = new ArrayList<>();
    for (Item item : items) {
      if (item.decoded() instanceof Decoded.Accepted) {
        accepted.add(item);
      } else {
        rejected.add(item);
      }
    }
    Map<String, Integer> eventsByTopic = new HashMap<>();
    if (!accepted.isEmpty()) {
      if (!kafkaReady.getAsBoolean()) {
        return Plan.immediate(unavailable("Kafka is not reachable"));
      }
      Map<String, Integer> eventsByTrackingId = new HashMap<>();
      for (Item item : accepted) {
        eventsByTrackingId.merge(item.event().trackingId(), 1, Integer::sum);
      }
      if (context.clientIp().isPresent()) {
        Optional<Duration> clientWait =
            rateLimiter.tryAcquireForClient(context.clientIp().get(), accepted.size());
        if (clientWait.isPresent()) {
          metrics.limitHit(CollectorMetrics.Limit.CLIENT_RATE);
          return Plan.immediate(
              rateLimited(
                  clientWait.get(),
                  "the client address sends more events than lake.collector.client-rate-limit"
                      + " allows"));
        }
      }
      Optional<Duration> wait = rateLimiter.tryAcquire(eventsByTrackingId);
      if (wait.isPresent()) {
        eventsByTrackingId.forEach(metrics::rateLimited);
        return Plan.immediate(
            rateLimited(wait.get(), "the tracking ID sends more events than its rate limit"));
      }
    }
    List<OutgoingRecord> records = new ArrayList<>(items.size());
    for (Item item : accepted) {
      CollectedEvent event = item.event();
      String topic = router.topicOf(event.eventName());
      eventsByTopic.merge(topic, 1, Integer::sum);
      records.add(
          new OutgoingRecord(
              OutgoingRecord.Kind.EVENT,
              topic,
              event.clientId().getBytes(UTF_8),
              encoder.encode(event)));
    }
    int quarantined = 0;
    for (Item item : rejected) {
      Decoded.Rejected rejection = (Decoded.Rejected) item.decoded();
      metrics.rejected(rejection.rejection().reason());
      Optional<OutgoingRecord> record =
          quarantineRecord(
              new QuarantinedInput(
                  SOURCE,
                  rejection.rejection().reason().code(),
                  rejection.rejection().field(),
                  rejection.rejection().message(),
                  context.receivedAt(),
                  request.endpoint().path(),
                  style == Style.BATCH ? Optional.of(item.index()) : Optional.empty(),
                  rejection.trackingId(),
                  context.clientIp(),
                  context.userAgent(),
                  Payloads.of(request.body(), item.offset(), item.length(), limits.maxEventBytes()),
                  item.length()));
      if (record.isPresent()) {
        records.add(record.get());
        quarantined++;
      }
    }
    int written = quarantined;
    return new Plan(
        records,
        delivery -> {
          account(delivery, written, eventsByTopic);
          if (!accepted.isEmpty() && !delivery.allEventsAcknowledged()) {
            return unavailable("Kafka did not acknowledge the events in time");
          }
          return reply(style, accepted, rejected);
        });
  }

  private void account(Delivery delivery, int quarantined, Map<String, Integer> eventsByTopic) {
    if (delivery.allEventsAcknowledged()) {
      eventsByTopic.forEach(metrics::accepted);
    } else {
      metrics.unacknowledged(eventsByTopic.values().stream().mapToInt(Integer::intValue).sum());
    }
    metrics.quarantined(quarantined - delivery.failedQuarantine());
    if (delivery.failedQuarantine() > 0) {
      metrics.quarantineFailed(delivery.failedQuarantine());
      long now = System.nanoTime();
      if (now - lastQuarantineWarning >= QUARANTINE_WARNING_INTERVAL_NANOS) {
        lastQuarantineWarning = now;
        LOG.warn(
            "Kafka did not take {} quarantine record(s) for topic {}: {} (see"
                + " collector_quarantine_failures_total)",
            delivery.failedQuarantine(),
            quarantineTopic,
            delivery.failure().map(Throwable::toString).orElse("unknown failure"));
      }
    }
  }

  private Reply reply(Style style, List<Item> accepted, List<Item> rejected) {
    return switch (style) {
      case SINGLE ->
          accepted.isEmpty()
              ? errorReply(((Decoded.Rejected) rejected.get(0).decoded()).rejection())
              : Reply.json(
                  202,
                  write(
                      generator -> {
                        generator.writeStartObject();
                        generator.writeNumberField("accepted", 1);
                        generator.writeStringField("event_id", accepted.get(0).event().eventId());
                        generator.writeEndObject();
                      }));
      case PIXEL ->
          accepted.isEmpty()
              ? errorReply(((Decoded.Rejected) rejected.get(0).decoded()).rejection())
              : new Reply(200, "image/gif", PIXEL, Map.of("Cache-Control", "no-store"));
      case BATCH -> batchReply(accepted.size(), rejected);
    };
  }

  private Reply batchReply(int acceptedCount, List<Item> rejected) {
    int status = 202;
    String error = null;
    if (acceptedCount == 0) {
      RejectionReason first = ((Decoded.Rejected) rejected.get(0).decoded()).rejection().reason();
      boolean sameReason =
          rejected.stream()
              .allMatch(item -> ((Decoded.Rejected) item.decoded()).rejection().reason() == first);
      status = sameReason ? first.httpStatus() : 400;
      error = sameReason ? first.code() : "invalid_events";
    }
    String errorCode = error;
    return Reply.json(
        status,
        write(
            generator -> {
              generator.writeStartObject();
              if (errorCode != null) {
                generator.writeStringField("error", errorCode);
                generator.writeStringField("message", "every event of the batch was rejected");
              }
              generator.writeNumberField("accepted", acceptedCount);
              generator.writeArrayFieldStart("rejected");
              for (Item item : rejected) {
                generator.writeStartObject();
                generator.writeNumberField("index", item.index());
                writeRejection(generator, ((Decoded.Rejected) item.decoded()).rejection());
                generator.writeEndObject();
              }
              generator.writeEndArray();
              generator.writeEndObject();
            }));
  }

  private Reply rateLimited(Duration wait, String why) {
    long seconds = Math.max(1, (wait.toMillis() + 999) / 1000);
    return Reply.json(
            429,
            write(
                generator -> {
                  generator.writeStartObject();
                  generator.writeStringField("error", "rate_limited");
                  generator.writeStringField(
                      "message",
                      why
                          + "; nothing of this request was accepted, retry after "
                          + seconds
                          + " s");
                  generator.writeEndObject();
                }))
        .withHeader("Retry-After", Long.toString(seconds));
  }

  /** Rejects a whole request: quarantines its body with the reason and answers with the error. */
  private Plan rejectRequest(EventRequest request, Rejection rejection) {
    metrics.rejected(rejection.reason());
    RequestContext context = request.context();
    byte[] body = request.body();
    Optional<OutgoingRecord> record =
        quarantineRecord(
            new QuarantinedInput(
                SOURCE,
                rejection.reason().code(),
                rejection.field(),
                rejection.message(),
                context.receivedAt(),
                request.endpoint().path(),
                Optional.empty(),
                Optional.empty(),
                context.clientIp(),
                context.userAgent(),
                Payloads.of(body, 0, body.length, limits.maxEventBytes()),
                body.length));
    Reply reply = errorReply(rejection);
    return new Plan(
        record.stream().toList(),
        delivery -> {
          account(delivery, record.isPresent() ? 1 : 0, Map.of());
          return reply;
        });
  }

  /** The quarantine record of rejected input; empty, and counted, beyond the quarantine budget. */
  private Optional<OutgoingRecord> quarantineRecord(QuarantinedInput input) {
    if (!quarantineBudget.tryWrite(input.clientIp())) {
      metrics.limitHit(CollectorMetrics.Limit.QUARANTINE_BUDGET);
      return Optional.empty();
    }
    return Optional.of(
        new OutgoingRecord(
            OutgoingRecord.Kind.QUARANTINE,
            quarantineTopic,
            input.trackingId().orElse("").getBytes(UTF_8),
            encoder.encode(input)));
  }

  /** The checks every POST body passes before it is read: encoding, type, emptiness. */
  private Optional<Rejection> checkBody(EventRequest request) {
    Optional<String> encoding =
        request.contentEncoding().map(value -> value.strip().toLowerCase(Locale.ROOT));
    if (encoding.isPresent() && !encoding.get().isEmpty() && !encoding.get().equals("identity")) {
      return Optional.of(
          Rejection.of(
              RejectionReason.UNSUPPORTED_MEDIA_TYPE,
              "Content-Encoding "
                  + Rejection.quote(encoding.get())
                  + " is not supported; send"
                  + " the body uncompressed"));
    }
    if (request.contentType().isPresent()) {
      String contentType = request.contentType().get().toLowerCase(Locale.ROOT);
      int semicolon = contentType.indexOf(';');
      String mediaType =
          (semicolon < 0 ? contentType : contentType.substring(0, semicolon)).strip();
      if (!ACCEPTED_MEDIA_TYPES.contains(mediaType)) {
        return Optional.of(
            Rejection.of(
                RejectionReason.UNSUPPORTED_MEDIA_TYPE,
                "Content-Type "
                    + Rejection.quote(mediaType)
                    + " is not supported; send application/json, application/x-ndjson or"
                    + " text/plain"));
      }
      int charset = contentType.indexOf("charset=");
      if (charset >= 0) {
        String name = contentType.substring(charset + "charset=".length()).strip();
        int end = name.indexOf(';');
        name = (end < 0 ? name : name.substring(0, end)).strip().replace("\"", "");
        if (!name.equals("utf-8") && !name.equals("utf8")) {
          return Optional.of(
              Rejection.of(
                  RejectionReason.UNSUPPORTED_MEDIA_TYPE,
                  "charset " + Rejection.quote(name) + " is not supported; send UTF-8"));
        }
      }
    }
    if (skipWhitespace(request.body(), 0) == request.body().length) {
      return Optional.of(Rejection.of(RejectionReason.EMPTY_REQUEST, "the request has no body"));
    }
    return Optional.empty();
  }

  private Batch readArray(byte[] body, RequestContext context) {
    if (!Utf8.isWellFormed(body)) {
      return Batch.rejected(malformedUtf8());
    }
    List<Item> items = new ArrayList<>();
    try (JsonParser parser = json.createParser(body)) {
      parser.nextToken();
      JsonToken token;
      while ((token = parser.nextToken()) != JsonToken.END_ARRAY) {
        if (token == null) {
          return Batch.rejected(
              Rejection.of(RejectionReason.MALFORMED_JSON, "the array is not closed"));
        }
        if (items.size() == limits.maxBatchEvents()) {
          return Batch.rejected(tooManyEvents());
        }
        int index = items.size();
        int offset = (int) parser.currentTokenLocation().getByteOffset();
        Decoded decoded;
        if (token == JsonToken.START_OBJECT) {
          decoded = reader.readObject(parser, context);
        } else {
          if (token == JsonToken.START_ARRAY) {
            parser.skipChildren();
          } else {
            parser.finishToken(); // so that the location is past the whole scalar
          }
          decoded =
              new Decoded.Rejected(
                  Rejection.of(RejectionReason.NOT_AN_OBJECT, "an event must be a JSON object"),
                  Optional.empty());
        }
        int length = (int) parser.currentLocation().getByteOffset() - offset;
        items.add(new Item(index, checkSize(decoded, length), offset, length));
      }
      if (parser.nextToken() != null) {
        return Batch.rejected(trailingContent());
      }
    } catch (JsonProcessingException e) {
      return Batch.rejected(malformedJson(e));
    } catch (IOException e) {
      throw new UncheckedIOException("reading JSON from memory failed", e);
    }
    if (items.isEmpty()) {
      return Batch.rejected(Rejection.of(RejectionReason.EMPTY_REQUEST, "the array is empty"));
    }
    return new Batch(items, Optional.empty());
  }

  private Batch readLines(byte[] body, RequestContext context) {
    List<Item> items = new ArrayList<>();
    int position = 0;
    while (position < body.length) {
      int newline = indexOf(body, (byte) '\n', position);
      int end = newline < 0 ? body.length : newline;
      int start = skipWhitespace(body, position);
      position = end + 1;
      if (start >= end) {
        continue;
      }
      int last = end;
      while (last > start && isWhitespace(body[last - 1])) {
        last--;
      }
      if (items.size() == limits.maxBatchEvents()) {
        return Batch.rejected(tooManyEvents());
      }
      items.add(
          new Item(
              items.size(), readLine(body, start, last - start, context), start, last - start));
    }
    if (items.isEmpty()) {
      return Batch.rejected(
          Rejection.of(RejectionReason.EMPTY_REQUEST, "the request has no events"));
    }
    return new Batch(items, Optional.empty());
  }

  private Decoded readLine(byte[] body, int offset, int length, RequestContext context) {
    if (length > limits.maxEventBytes()) {
      return checkSize(null, length);
    }
    if (!Utf8.isWellFormed(body, offset, length)) {
      return new Decoded.Rejected(malformedUtf8(), Optional.empty());
    }
    try (JsonParser parser = json.createParser(body, offset, length)) {
      JsonToken token = parser.nextToken();
      if (token != JsonToken.START_OBJECT) {
        return new Decoded.Rejected(
            Rejection.of(
                RejectionReason.NOT_AN_OBJECT, "an NDJSON line must be one event as a JSON object"),
            Optional.empty());
      }
      Decoded decoded = reader.readObject(parser, context);
      if (parser.nextToken() != null) {
        return new Decoded.Rejected(trailingContent(), Optional.empty());
      }
      return decoded;
    } catch (JsonProcessingException e) {
      return new Decoded.Rejected(malformedJson(e), Optional.empty());
    } catch (IOException e) {
      throw new UncheckedIOException("reading JSON from memory failed", e);
    }
  }

  private Decoded checkSize(Decoded decoded, int length) {
    if (length <= limits.maxEventBytes()) {
      return decoded;
    }
    Optional<String> trackingId =
        decoded instanceof Decoded.Accepted accepted
            ? Optional.of(accepted.event().trackingId())
            : decoded instanceof Decoded.Rejected rejected
                ? rejected.trackingId()
                : Optional.empty();
    return new Decoded.Rejected(
        Rejection.of(
            RejectionReason.EVENT_TOO_LARGE,
            "the event has "
                + length
                + " bytes, more than lake.collector.limits.max-event-size ("
                + limits.maxEventBytes()
                + ")"),
        trackingId);
  }

  private Rejection tooManyEvents() {
    return Rejection.of(
        RejectionReason.TOO_MANY_EVENTS,
        "the batch has more than lake.collector.limits.max-batch-events ("
            + limits.maxBatchEvents()
            + ") events; split it");
  }

  private static Rejection malformedUtf8() {
    return Rejection.of(RejectionReason.MALFORMED_UTF8, "the body is not well-formed UTF-8");
  }

  private static Rejection trailingContent() {
    return Rejection.of(RejectionReason.MALFORMED_JSON, "there is content after the JSON value");
  }

  private static Rejection malformedJson(JsonProcessingException e) {
    String detail = e.getOriginalMessage();
    detail = detail == null ? "" : detail.lines().findFirst().orElse("");
    if (detail.length() > 200) {
      detail = detail.substring(0, 200) + "...";
    }
    int line = e.getLocation() == null ? -1 : e.getLocation().getLineNr();
    int column = e.getLocation() == null ? -1 : e.getLocation().getColumnNr();
    return Rejection.of(
        RejectionReason.MALFORMED_JSON,
        "the body is not well-formed JSON"
            + (line > 0 ? " at line " + line + ", column " + column : "")
            + ": "
            + detail);
  }

  private static void writeRejection(JsonGenerator generator, Rejection rejection)
      throws IOException {
    generator.writeStringField("error", rejection.reason().code());
    if (rejection.field().isPresent()) {
      generator.writeStringField("field", rejection.field().get());
    }
    generator.writeStringField(
        "message", rejection.field().map(field -> field + " ").orElse("") + rejection.message());
  }

  private byte[] write(JsonWriting writing) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(128);
    try (JsonGenerator generator = json.createGenerator(out, JsonEncoding.UTF8)) {
      writing.write(generator);
    } catch (IOException e) {
      throw new UncheckedIOException("writing JSON to memory failed", e);
    }
    return out.toByteArray();
  }

  private static int skipWhitespace(byte[] bytes, int from) {
    int index = from;
    while (index < bytes.length && isWhitespace(bytes[index])) {
      index++;
    }
    return index;
  }

  private static boolean isWhitespace(byte b) {
    return b == ' ' || b == '\t' || b == '\r' || b == '\n';
  }

  private static int indexOf(byte[] bytes, byte wanted, int from) {
    for (int index = from; index < bytes.length; index++) {
      if (bytes[index] == wanted) {
        return index;
      }
    }
    return -1;
  }

  private static final Set<String> ACCEPTED_MEDIA_TYPES =
      Set.of("application/json", "text/plain", "application/x-ndjson", "application/ndjson");

  /** How a request wants its answer. */
  private enum Style {
    SINGLE,
    BATCH,
    PIXEL
  }

  /** One event of a request and where its bytes are. */
  private record Item(int index, Decoded decoded, int offset, int length) {
    CollectedEvent event() {
      return ((Decoded.Accepted) decoded).event();
    }
  }

  private record Batch(List<Item> items, Optional<Rejection> rejection) {
    static Batch rejected(Rejection rejection) {
      return new Batch(List.of(), Optional.of(rejection));
    }
  }

  @FunctionalInterface
  private interface JsonWriting {
    void write(JsonGenerator generator) throws IOException;
  }
}
