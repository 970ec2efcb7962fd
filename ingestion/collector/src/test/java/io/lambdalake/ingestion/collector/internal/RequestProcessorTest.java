package io.lambdalake.ingestion.collector.internal;

import static io.lambdalake.ingestion.collector.internal.TestConfigs.SLOW_TRACKING_ID;
import static io.lambdalake.ingestion.collector.internal.TestConfigs.TRACKING_ID;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lambdalake.common.config.LakeConfig;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.LongSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class RequestProcessorTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Instant NOW = Instant.parse("2026-11-22T10:00:00.123Z");
  private static final RequestContext CONTEXT =
      new RequestContext(
          NOW, Optional.of("Mozilla/5.0 (Test)"), Optional.of("203.0.113.0"), Optional.empty());
  private static final String CLIENT = "client-1";

  private final LakeConfig lake = TestConfigs.lake();
  private final CollectorMetrics metrics = new CollectorMetrics();
  private final FakeNanoTime nanoTime = new FakeNanoTime();
  private boolean kafkaReady = true;
  private final RequestProcessor processor =
      new RequestProcessor(
          lake.collector(),
          lake.topics(),
          RequestProcessor.jsonFactory(lake.collector().limits()),
          new RateLimiter(lake.collector(), nanoTime),
          () -> kafkaReady,
          metrics);

  @Test
  void acceptedEventCarriesEveryField() throws IOException {
    Outcome outcome =
        post(
            CollectorMetrics.Endpoint.COLLECT,
            """
            {"event_id": "e-1", "tracking_id": "%s", "event_name": "purchase",
             "client_id": "client-1", "user_id": "user-9", "session_id": "s-3",
             "event_time": "2026-11-22T09:59:00.5+01:00",
             "page_url": "https://shop.example/checkout?step=3",
             "referrer": "https://search.example/?q=shoes",
             "params": {"order_id": "o-77", "items": 3, "coupon": null, "gift": true},
             "value": 59.90, "currency": "EUR"}
            """
                .formatted(TRACKING_ID));

    assertThat(outcome.reply().status()).isEqualTo(202);
    assertThat(json(outcome.reply().body()))
        .isEqualTo(JSON.readTree("{\"accepted\":1,\"event_id\":\"e-1\"}"));
    assertThat(outcome.records()).hasSize(1);
    OutgoingRecord record = outcome.records().get(0);
    assertThat(record.kind()).isEqualTo(OutgoingRecord.Kind.EVENT);
    assertThat(record.topic()).isEqualTo("events.purchase");
    assertThat(new String(record.key(), UTF_8)).isEqualTo("client-1");
    assertThat(json(record.value()))
        .isEqualTo(
            JSON.readTree(
                """
                {"schema_version": 1, "event_id": "e-1", "tracking_id": "%s",
                 "event_name": "purchase", "event_time": "2026-11-22T08:59:00.500Z",
                 "received_at": "2026-11-22T10:00:00.123Z", "client_id": "client-1",
                 "user_id": "user-9", "session_id": "s-3",
                 "page_url": "https://shop.example/checkout?step=3",
                 "referrer": "https://search.example/?q=shoes",
                 "user_agent": "Mozilla/5.0 (Test)", "client_ip": "203.0.113.0",
                 "params": {"order_id": "o-77", "items": "3", "gift": "true"},
                 "value": 59.9, "currency": "EUR"}
                """
                    .formatted(TRACKING_ID)));
  }

  @Test
  void collectorMakesTheEventIdAndTimeWhenTheClientGaveNone() throws IOException {
    Outcome outcome = post(CollectorMetrics.Endpoint.COLLECT, event("page_view"));

    JsonNode value = json(outcome.records().get(0).value());
    assertThat(value.get("event_id").asText())
        .matches("[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
    assertThat(json(outcome.reply().body()).get("event_id").asText())
        .isEqualTo(value.get("event_id").asText());
    assertThat(value.get("event_time").asText()).isEqualTo("2026-11-22T10:00:00.123Z");
    assertThat(value.has("user_id")).isFalse();
    assertThat(value.get("params").size()).isZero();
  }

  @Test
  void routesByTheRulesInConfAndNothingElse() {
    assertThat(topicOf("page_view")).isEqualTo("events.page_view");
    assertThat(topicOf("purchase")).isEqualTo("events.purchase");
    assertThat(topicOf("add_to_cart")).isEqualTo("events.add_to_cart");
    // Names without a rule go to the other topic, even when they look like a topic.
    assertThat(topicOf("sign_up")).isEqualTo("events.other");
    assertThat(topicOf("events_quarantine")).isEqualTo("events.other");
    assertThat(topicOf("Page_View")).isEqualTo("events.other");
    assertThat(RequestProcessor.topics(lake.collector(), lake.topics()))
        .containsExactly(
            "events.add_to_cart",
            "events.other",
            "events.page_view",
            "events.purchase",
            "events.quarantine",
            "events.screen_view");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("hostileInputs")
  void hostileInputGetsA4xxNamingTheProblemAndLandsInQuarantine(
      String description,
      CollectorMetrics.Endpoint endpoint,
      String contentType,
      byte[] body,
      int status,
      String reason,
      String field)
      throws IOException {
    Outcome outcome = post(endpoint, Optional.ofNullable(contentType), body, "");

    assertThat(outcome.reply().status()).as(description).isEqualTo(status);
    JsonNode answer = json(outcome.reply().body());
    JsonNode error =
        endpoint == CollectorMetrics.Endpoint.BATCH && answer.has("rejected")
            ? answer.get("rejected").get(0)
            : answer;
    assertThat(error.get("error").asText()).as(description).isEqualTo(reason);
    if (field != null) {
      assertThat(error.get("field").asText()).as(description).isEqualTo(field);
    }
    assertThat(error.get("message").asText()).isNotBlank();
    assertThat(outcome.records(OutgoingRecord.Kind.EVENT)).isEmpty();
    List<OutgoingRecord> quarantined = outcome.records(OutgoingRecord.Kind.QUARANTINE);
    assertThat(quarantined).as(description).hasSize(1);
    assertThat(quarantined.get(0).topic()).isEqualTo("events.quarantine");
    JsonNode record = json(quarantined.get(0).value());
    assertThat(record.get("reason").asText()).isEqualTo(reason);
    assertThat(record.get("source").asText()).isEqualTo("collector");
    assertThat(record.get("endpoint").asText()).isEqualTo(endpoint.path());
    assertThat(record.get("payload_size").asLong())
        .isBetween(Math.min(1L, body.length), (long) body.length);
    if (field != null) {
      assertThat(record.get("field").asText()).isEqualTo(field);
    }
  }

  static Stream<Arguments> hostileInputs() {
    CollectorMetrics.Endpoint collect = CollectorMetrics.Endpoint.COLLECT;
    CollectorMetrics.Endpoint batch = CollectorMetrics.Endpoint.BATCH;
    String json = "application/json";
    return Stream.of(
        hostile("not JSON", collect, json, "hello", 400, "malformed_json", null),
        hostile("truncated JSON", collect, json, "{\"tracking_id\":", 400, "malformed_json", null),
        hostile(
            "trailing garbage",
            collect,
            json,
            event("page_view") + "}",
            400,
            "malformed_json",
            null),
        hostile("NaN token", collect, json, withField("value", "NaN"), 400, "malformed_json", null),
        hostile(
            "invalid UTF-8 byte",
            collect,
            json,
            bytes(event("page_view").replace("client-1", "client-\u00ff"), 0xff),
            400,
            "malformed_utf8",
            null),
        hostile(
            "overlong UTF-8",
            collect,
            json,
            concat("{\"tracking_id\":\"", new byte[] {(byte) 0xc0, (byte) 0xaf}, "\"}"),
            400,
            "malformed_utf8",
            null),
        hostile(
            "UTF-8 encoded surrogate",
            collect,
            json,
            concat("{\"user_id\":\"", new byte[] {(byte) 0xed, (byte) 0xa0, (byte) 0x80}, "\"}"),
            400,
            "malformed_utf8",
            null),
        hostile(
            "escaped lone surrogate",
            collect,
            json,
            withField("user_id", "\"\\ud800x\""),
            400,
            "invalid_field",
            "user_id"),
        hostile("empty body", collect, json, "", 400, "empty_request", null),
        hostile("whitespace body", collect, json, " \n ", 400, "empty_request", null),
        hostile(
            "array to /v1/collect",
            collect,
            json,
            "[" + event("page_view") + "]",
            400,
            "not_an_object",
            null),
        hostile("number", collect, json, "42", 400, "not_an_object", null),
        hostile("null", collect, json, "null", 400, "not_an_object", null),
        hostile(
            "missing tracking_id",
            collect,
            json,
            without("tracking_id"),
            400,
            "missing_field",
            "tracking_id"),
        hostile(
            "null tracking_id",
            collect,
            json,
            withField("tracking_id", "null"),
            400,
            "missing_field",
            "tracking_id"),
        hostile(
            "unknown tracking_id",
            collect,
            json,
            withField("tracking_id", "\"LL-NOPE\""),
            400,
            "unknown_tracking_id",
            "tracking_id"),
        hostile(
            "numeric tracking_id",
            collect,
            json,
            withField("tracking_id", "12345"),
            400,
            "invalid_field",
            "tracking_id"),
        hostile(
            "tracking_id with slash",
            collect,
            json,
            withField("tracking_id", "\"LL/../1\""),
            400,
            "invalid_field",
            "tracking_id"),
        hostile(
            "missing event_name",
            collect,
            json,
            without("event_name"),
            400,
            "missing_field",
            "event_name"),
        hostile(
            "event_name with spaces",
            collect,
            json,
            withField("event_name", "\"Page View\""),
            400,
            "invalid_field",
            "event_name"),
        hostile(
            "event_name naming a topic",
            collect,
            json,
            withField("event_name", "\"events.quarantine\""),
            400,
            "invalid_field",
            "event_name"),
        hostile(
            "event_name starting with _",
            collect,
            json,
            withField("event_name", "\"__consumer_offsets\""),
            400,
            "invalid_field",
            "event_name"),
        hostile(
            "event_name too long",
            collect,
            json,
            withField("event_name", "\"" + "a".repeat(65) + "\""),
            400,
            "invalid_field",
            "event_name"),
        hostile(
            "event_name an object",
            collect,
            json,
            withField("event_name", "{\"topic\": \"x\"}"),
            400,
            "invalid_field",
            "event_name"),
        hostile(
            "missing client_id",
            collect,
            json,
            without("client_id"),
            400,
            "missing_field",
            "client_id"),
        hostile(
            "client_id too long",
            collect,
            json,
            withField("client_id", "\"" + "c".repeat(129) + "\""),
            400,
            "invalid_field",
            "client_id"),
        hostile(
            "client_id with NUL",
            collect,
            json,
            withField("client_id", "\"a\\u0000b\""),
            400,
            "invalid_field",
            "client_id"),
        hostile(
            "empty client_id",
            collect,
            json,
            withField("client_id", "\"\""),
            400,
            "invalid_field",
            "client_id"),
        hostile(
            "event_time in 1970",
            collect,
            json,
            withField("event_time", "\"1970-01-01T00:00:00Z\""),
            400,
            "event_time_out_of_range",
            "event_time"),
        hostile(
            "event_time in year 3000",
            collect,
            json,
            withField("event_time", "\"3000-01-01T00:00:00Z\""),
            400,
            "event_time_out_of_range",
            "event_time"),
        hostile(
            "event_time as huge number",
            collect,
            json,
            withField("event_time", "1e300"),
            400,
            "invalid_field",
            "event_time"),
        hostile(
            "event_time as big integer",
            collect,
            json,
            withField("event_time", "99999999999999999999999"),
            400,
            "invalid_field",
            "event_time"),
        hostile(
            "event_time not a time",
            collect,
            json,
            withField("event_time", "\"yesterday\""),
            400,
            "invalid_field",
            "event_time"),
        hostile(
            "event_time without offset",
            collect,
            json,
            withField("event_time", "\"2026-11-22T10:00:00\""),
            400,
            "invalid_field",
            "event_time"),
        hostile(
            "params an array",
            collect,
            json,
            withField("params", "[1, 2]"),
            400,
            "invalid_field",
            "params"),
        hostile(
            "params nested",
            collect,
            json,
            withField("params", "{\"a\": {\"b\": 1}}"),
            400,
            "invalid_field",
            "params.a"),
        hostile(
            "too many params",
            collect,
            json,
            withField("params", manyParams(51)),
            400,
            "invalid_field",
            "params"),
        hostile(
            "param value too long",
            collect,
            json,
            withField("params", "{\"a\": \"" + "v".repeat(1025) + "\"}"),
            400,
            "invalid_field",
            "params.a"),
        hostile(
            "param key with space",
            collect,
            json,
            withField("params", "{\"a b\": \"1\"}"),
            400,
            "invalid_field",
            "params.a b"),
        hostile(
            "duplicate param key",
            collect,
            json,
            withField("params", "{\"a\": \"1\", \"a\": \"2\"}"),
            400,
            "duplicate_field",
            "params.a"),
        hostile(
            "value not a number",
            collect,
            json,
            withField("value", "\"abc\""),
            400,
            "invalid_field",
            "value"),
        hostile(
            "value absurd",
            collect,
            json,
            withField("value", "1e400"),
            400,
            "invalid_field",
            "value"),
        hostile(
            "value too precise",
            collect,
            json,
            withField("value", "0.0000000001"),
            400,
            "invalid_field",
            "value"),
        hostile(
            "currency not ISO",
            collect,
            json,
            withField("currency", "\"dollars\""),
            400,
            "invalid_field",
            "currency"),
        hostile(
            "page_url without scheme",
            collect,
            json,
            withField("page_url", "\"shop.example/cart\""),
            400,
            "invalid_field",
            "page_url"),
        hostile(
            "page_url too long",
            collect,
            json,
            withField("page_url", "\"https://x.example/" + "p".repeat(5000) + "\""),
            400,
            "invalid_field",
            "page_url"),
        hostile(
            "event_id with spaces",
            collect,
            json,
            withField("event_id", "\"a b\""),
            400,
            "invalid_field",
            "event_id"),
        hostile(
            "unknown field topic",
            collect,
            json,
            withField("topic", "\"events.page_view\""),
            400,
            "unknown_field",
            "topic"),
        hostile(
            "collector field received_at",
            collect,
            json,
            withField("received_at", "\"2026-01-01T00:00:00Z\""),
            400,
            "unknown_field",
            "received_at"),
        hostile(
            "collector field client_ip",
            collect,
            json,
            withField("client_ip", "\"1.2.3.4\""),
            400,
            "unknown_field",
            "client_ip"),
        hostile(
            "duplicate field",
            collect,
            json,
            event("page_view").replace("{", "{\"event_name\": \"purchase\", "),
            400,
            "duplicate_field",
            "event_name"),
        hostile(
            "deep nesting",
            collect,
            json,
            "{\"params\":" + "[".repeat(5000) + "]".repeat(5000) + "}",
            400,
            "malformed_json",
            null),
        hostile(
            "event too large",
            collect,
            json,
            withField("user_id", "\"" + "u".repeat(40_000) + "\""),
            413,
            "event_too_large",
            null),
        hostile(
            "XML content type",
            collect,
            "application/xml",
            event("page_view"),
            415,
            "unsupported_media_type",
            null),
        hostile(
            "form content type",
            collect,
            "application/x-www-form-urlencoded",
            "a=b",
            415,
            "unsupported_media_type",
            null),
        hostile(
            "Latin-1 charset",
            collect,
            "application/json; charset=ISO-8859-1",
            event("page_view"),
            415,
            "unsupported_media_type",
            null),
        hostile("batch not JSON", batch, json, "[{]", 400, "malformed_json", null),
        hostile(
            "batch unclosed array",
            batch,
            json,
            "[" + event("page_view"),
            400,
            "malformed_json",
            null),
        hostile("empty batch", batch, json, "[]", 400, "empty_request", null),
        hostile("batch of numbers", batch, json, "[1]", 400, "not_an_object", null),
        hostile(
            "batch with too many events",
            batch,
            json,
            "[" + String.join(",", Collections.nCopies(501, event("page_view"))) + "]",
            413,
            "too_many_events",
            null),
        hostile(
            "NDJSON line of garbage",
            batch,
            "application/x-ndjson",
            "{nope}\n",
            400,
            "malformed_json",
            null),
        hostile(
            "NDJSON line with invalid UTF-8",
            batch,
            "text/plain",
            bytes("{\"user_id\":\"\u00ff\"}\n", 0xff),
            400,
            "malformed_utf8",
            null));
  }

  @Test
  void contentEncodingIsRefused() throws IOException {
    EventRequest request =
        new EventRequest(
            CollectorMetrics.Endpoint.COLLECT,
            Optional.of("application/json"),
            Optional.of("gzip"),
            "",
            event("page_view").getBytes(UTF_8),
            CONTEXT);
    Outcome outcome = run(processor.collect(request));

    assertThat(outcome.reply().status()).isEqualTo(415);
    assertThat(json(outcome.reply().body()).get("message").asText()).contains("gzip");
    assertThat(outcome.records(OutgoingRecord.Kind.QUARANTINE)).hasSize(1);
  }

  @Test
  void batchKeepsValidEventsAndListsTheRejectedOnes() throws IOException {
    String body =
        "["
            + String.join(
                ",",
                event("page_view"),
                withField("event_name", "\"bad name\""),
                event("purchase"),
                withField("tracking_id", "\"LL-NOPE\""),
                "\"not an object\"",
                event("sign_up"))
            + "]";

    Outcome outcome = post(CollectorMetrics.Endpoint.BATCH, body);

    assertThat(outcome.reply().status()).isEqualTo(202);
    JsonNode answer = json(outcome.reply().body());
    assertThat(answer.get("accepted").asInt()).isEqualTo(3);
    assertThat(answer.get("rejected").findValuesAsText("index")).containsExactly("1", "3", "4");
    assertThat(answer.get("rejected").get(0).get("field").asText()).isEqualTo("event_name");
    assertThat(answer.get("rejected").get(1).get("error").asText())
        .isEqualTo("unknown_tracking_id");
    assertThat(outcome.records(OutgoingRecord.Kind.EVENT))
        .extracting(OutgoingRecord::topic)
        .containsExactly("events.page_view", "events.purchase", "events.other");
    List<OutgoingRecord> quarantined = outcome.records(OutgoingRecord.Kind.QUARANTINE);
    assertThat(quarantined).hasSize(3);
    JsonNode first = json(quarantined.get(0).value());
    assertThat(first.get("index").asInt()).isEqualTo(1);
    assertThat(first.get("reason").asText()).isEqualTo("invalid_field");
    assertThat(first.get("tracking_id").asText()).isEqualTo(TRACKING_ID);
    // The quarantine keeps exactly the rejected event's bytes.
    assertThat(first.get("payload").asText()).isEqualTo(withField("event_name", "\"bad name\""));
    assertThat(json(quarantined.get(2).value()).get("payload").asText())
        .isEqualTo("\"not an object\"");
  }

  @Test
  void ndjsonLinesAreIndependent() throws IOException {
    String body =
        event("page_view") + "\n\n{broken\r\n" + event("purchase") + "\r\n" + event("add_to_cart");

    Outcome outcome =
        post(CollectorMetrics.Endpoint.BATCH, Optional.of("text/plain"), body.getBytes(UTF_8), "");

    assertThat(outcome.reply().status()).isEqualTo(202);
    JsonNode answer = json(outcome.reply().body());
    assertThat(answer.get("accepted").asInt()).isEqualTo(3);
    assertThat(answer.get("rejected").get(0).get("index").asInt()).isEqualTo(1);
    assertThat(answer.get("rejected").get(0).get("error").asText()).isEqualTo("malformed_json");
    assertThat(
            json(outcome.records(OutgoingRecord.Kind.QUARANTINE).get(0).value())
                .get("payload")
                .asText())
        .isEqualTo("{broken");
  }

  @Test
  void batchWhoseEventsAreAllRejectedIsA400() throws IOException {
    Outcome outcome =
        post(
            CollectorMetrics.Endpoint.BATCH,
            "[" + without("client_id") + "," + withField("event_name", "\"x y\"") + "]");

    assertThat(outcome.reply().status()).isEqualTo(400);
    JsonNode answer = json(outcome.reply().body());
    assertThat(answer.get("error").asText()).isEqualTo("invalid_events");
    assertThat(answer.get("accepted").asInt()).isZero();
    assertThat(answer.get("rejected")).hasSize(2);
    assertThat(outcome.records(OutgoingRecord.Kind.QUARANTINE)).hasSize(2);
  }

  @Test
  void oneEventLargerThanTheLimitIsRejectedInABatch() throws IOException {
    String large = withField("user_id", "\"" + "u".repeat(33_000) + "\"");
    Outcome outcome =
        post(CollectorMetrics.Endpoint.BATCH, "[" + event("page_view") + "," + large + "]");

    assertThat(outcome.reply().status()).isEqualTo(202);
    JsonNode rejected = json(outcome.reply().body()).get("rejected").get(0);
    assertThat(rejected.get("error").asText()).isEqualTo("event_too_large");
    JsonNode quarantined = json(outcome.records(OutgoingRecord.Kind.QUARANTINE).get(0).value());
    assertThat(quarantined.get("payload_truncated").asBoolean()).isTrue();
    assertThat(quarantined.get("payload").asText()).hasSize(32 * 1024);
  }

  @Test
  void eventTimesWithinTheSkewAreAccepted() {
    assertThat(
            post(
                    CollectorMetrics.Endpoint.COLLECT,
                    withField("event_time", "\"2026-11-22T10:09:00Z\""))
                .reply()
                .status())
        .isEqualTo(202);
    assertThat(
            post(
                    CollectorMetrics.Endpoint.COLLECT,
                    withField(
                        "event_time", Long.toString(NOW.minusSeconds(71 * 3600).toEpochMilli())))
                .reply()
                .status())
        .isEqualTo(202);
  }

  @Test
  void aTrackingIdOverItsRateLimitGets429WithRetryAfter() throws IOException {
    String slow = withField("tracking_id", "\"" + SLOW_TRACKING_ID + "\"");
    String three = "[" + slow + "," + slow + "," + slow + "]";

    assertThat(post(CollectorMetrics.Endpoint.BATCH, three).reply().status()).isEqualTo(202);
    Outcome limited = post(CollectorMetrics.Endpoint.BATCH, "[" + slow + "]");

    assertThat(limited.reply().status()).isEqualTo(429);
    assertThat(limited.reply().headers()).containsEntry("Retry-After", "1");
    assertThat(json(limited.reply().body()).get("error").asText()).isEqualTo("rate_limited");
    // Deferred, not refused: nothing is sent, nothing quarantined.
    assertThat(limited.records()).isEmpty();
    // Other tracking IDs are not affected.
    assertThat(post(CollectorMetrics.Endpoint.COLLECT, event("page_view")).reply().status())
        .isEqualTo(202);
    nanoTime.advanceSeconds(1);
    assertThat(post(CollectorMetrics.Endpoint.COLLECT, slow).reply().status()).isEqualTo(202);
    assertThat(metrics.scrape())
        .contains("collector_events_rate_limited_total{tracking_id=\"LL-TEST-SLOW\"} 1");
  }

  @Test
  void whileKafkaIsUnreachableEventsGet503AtOnce() throws IOException {
    kafkaReady = false;

    Outcome outcome = post(CollectorMetrics.Endpoint.COLLECT, event("page_view"));

    assertThat(outcome.reply().status()).isEqualTo(503);
    assertThat(outcome.reply().headers()).containsEntry("Retry-After", "5");
    assertThat(json(outcome.reply().body()).get("error").asText()).isEqualTo("unavailable");
    assertThat(outcome.records()).isEmpty();
  }

  @Test
  void eventsKafkaDidNotAcknowledgeGet503NeverA202() throws IOException {
    Plan plan =
        processor.batch(
            request(
                CollectorMetrics.Endpoint.BATCH,
                Optional.of("application/json"),
                ("[" + event("page_view") + "," + without("client_id") + "]").getBytes(UTF_8),
                ""));

    Reply reply =
        plan.reply().apply(new Delivery(1, 0, Optional.of(new IllegalStateException("down"))));

    assertThat(reply.status()).isEqualTo(503);
    assertThat(reply.headers()).containsKey("Retry-After");
    assertThat(metrics.acceptedEvents()).isZero();
    assertThat(metrics.scrape()).contains("collector_events_unacknowledged_total 1");
  }

  @Test
  void rejectionsStillGetTheir4xxWhenTheQuarantineWriteFails() {
    Plan plan =
        processor.collect(
            request(
                CollectorMetrics.Endpoint.COLLECT,
                Optional.of("application/json"),
                without("client_id").getBytes(UTF_8),
                ""));

    Reply reply =
        plan.reply().apply(new Delivery(0, 1, Optional.of(new IllegalStateException("down"))));

    assertThat(reply.status()).isEqualTo(400);
    assertThat(metrics.scrape()).contains("collector_quarantine_failures_total 1");
  }

  @Test
  void pixelTakesTheEventAsQueryParameters() throws IOException {
    RequestContext withReferer =
        new RequestContext(
            NOW, CONTEXT.userAgent(), CONTEXT.clientIp(), Optional.of("https://shop.example/p/1"));
    Outcome outcome =
        run(
            processor.pixel(
                new EventRequest(
                    CollectorMetrics.Endpoint.PIXEL,
                    Optional.empty(),
                    Optional.empty(),
                    "tracking_id="
                        + TRACKING_ID
                        + "&event_name=page_view&client_id=c%2D9&params.title=Caf%C3%A9+Noir&_=123",
                    new byte[0],
                    withReferer)));

    assertThat(outcome.reply().status()).isEqualTo(200);
    assertThat(outcome.reply().contentType()).isEqualTo("image/gif");
    assertThat(outcome.reply().body()).startsWith("GIF89a".getBytes(UTF_8));
    JsonNode value = json(outcome.records().get(0).value());
    assertThat(value.get("client_id").asText()).isEqualTo("c-9");
    assertThat(value.get("page_url").asText()).isEqualTo("https://shop.example/p/1");
    assertThat(value.get("params").get("title").asText()).isEqualTo("Café Noir");
  }

  @ParameterizedTest(name = "pixel query {0}")
  @MethodSource("hostilePixelQueries")
  void hostilePixelQueriesGet4xxAndLandInQuarantine(String query, int status, String reason)
      throws IOException {
    Outcome outcome = post(CollectorMetrics.Endpoint.PIXEL, Optional.empty(), new byte[0], query);

    assertThat(outcome.reply().status()).isEqualTo(status);
    assertThat(json(outcome.reply().body()).get("error").asText()).isEqualTo(reason);
    assertThat(outcome.records(OutgoingRecord.Kind.EVENT)).isEmpty();
    assertThat(outcome.records(OutgoingRecord.Kind.QUARANTINE)).hasSize(1);
    assertThat(json(outcome.records().get(0).value()).get("payload").asText()).isEqualTo(query);
  }

  static Stream<Arguments> hostilePixelQueries() {
    String base = "tracking_id=" + TRACKING_ID + "&event_name=page_view&client_id=c";
    return Stream.of(
        Arguments.of("", 400, "empty_request"),
        Arguments.of(base + "&x=%ZZ", 400, "malformed_request"),
        Arguments.of(base + "&x=%4", 400, "malformed_request"),
        Arguments.of(base + "&user_id=%FF%FE", 400, "malformed_utf8"),
        Arguments.of(base + "&topic=events.other", 400, "unknown_field"),
        Arguments.of(base + "&params=1", 400, "unknown_field"),
        Arguments.of(base + "&client_id=d", 400, "duplicate_field"),
        Arguments.of(base + "&params.a=1".repeat(70), 400, "malformed_request"),
        Arguments.of("event_name=page_view&client_id=c", 400, "missing_field"));
  }

  @Test
  void metricsCountRequestsEventsAndRejections() {
    post(CollectorMetrics.Endpoint.COLLECT, event("page_view"));
    post(CollectorMetrics.Endpoint.COLLECT, without("client_id"));

    assertThat(metrics.scrape())
        .contains("collector_events_accepted_total{topic=\"events.page_view\"} 1")
        .contains("collector_events_rejected_total{reason=\"missing_field\"} 1")
        .contains("collector_quarantined_total 1");
  }

  private String topicOf(String eventName) {
    return post(CollectorMetrics.Endpoint.COLLECT, event(eventName)).records().get(0).topic();
  }

  static String event(String eventName) {
    return "{\"tracking_id\": \"%s\", \"event_name\": \"%s\", \"client_id\": \"%s\"}"
        .formatted(TRACKING_ID, eventName, CLIENT);
  }

  /** A page view with one field set (or replaced) to the given raw JSON. */
  static String withField(String field, String rawJson) {
    Map<String, String> fields = pageView();
    fields.put(field, rawJson);
    return toJson(fields);
  }

  /** A page view without the given field. */
  static String without(String field) {
    Map<String, String> fields = pageView();
    fields.remove(field);
    return toJson(fields);
  }

  private static Map<String, String> pageView() {
    Map<String, String> fields = new LinkedHashMap<>();
    fields.put("tracking_id", "\"" + TRACKING_ID + "\"");
    fields.put("event_name", "\"page_view\"");
    fields.put("client_id", "\"" + CLIENT + "\"");
    return fields;
  }

  private static String toJson(Map<String, String> rawFields) {
    StringBuilder json = new StringBuilder("{");
    rawFields.forEach(
        (name, value) ->
            json.append(json.length() > 1 ? ", " : "")
                .append('"')
                .append(name)
                .append("\": ")
                .append(value));
    return json.append('}').toString();
  }

  private static String manyParams(int count) {
    StringBuilder params = new StringBuilder("{");
    for (int index = 0; index < count; index++) {
      params.append(index > 0 ? "," : "").append("\"p").append(index).append("\":\"v\"");
    }
    return params.append('}').toString();
  }

  private static Arguments hostile(
      String description,
      CollectorMetrics.Endpoint endpoint,
      String contentType,
      Object body,
      int status,
      String reason,
      String field) {
    byte[] bytes = body instanceof byte[] raw ? raw : ((String) body).getBytes(UTF_8);
    return Arguments.of(description, endpoint, contentType, bytes, status, reason, field);
  }

  /** The text as UTF-8, with every U+00FF replaced by the raw byte given (to break UTF-8). */
  private static byte[] bytes(String text, int rawByte) {
    byte[] utf8 = text.getBytes(UTF_8);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (int index = 0; index < utf8.length; index++) {
      if ((utf8[index] & 0xff) == 0xc3
          && index + 1 < utf8.length
          && (utf8[index + 1] & 0xff) == 0xbf) {
        out.write(rawByte);
        index++;
      } else {
        out.write(utf8[index]);
      }
    }
    return out.toByteArray();
  }

  private static byte[] concat(String before, byte[] middle, String after) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(before.getBytes(UTF_8));
    out.writeBytes(middle);
    out.writeBytes(after.getBytes(UTF_8));
    return out.toByteArray();
  }

  private Outcome post(CollectorMetrics.Endpoint endpoint, String body) {
    return post(endpoint, Optional.of("application/json"), body.getBytes(UTF_8), "");
  }

  private Outcome post(
      CollectorMetrics.Endpoint endpoint, Optional<String> contentType, byte[] body, String query) {
    EventRequest request = request(endpoint, contentType, body, query);
    return run(
        switch (endpoint) {
          case COLLECT -> processor.collect(request);
          case BATCH -> processor.batch(request);
          case PIXEL -> processor.pixel(request);
          default -> throw new IllegalArgumentException(endpoint.toString());
        });
  }

  private static EventRequest request(
      CollectorMetrics.Endpoint endpoint, Optional<String> contentType, byte[] body, String query) {
    return new EventRequest(endpoint, contentType, Optional.empty(), query, body, CONTEXT);
  }

  private static Outcome run(Plan plan) {
    return new Outcome(plan.records(), plan.reply().apply(Delivery.complete()));
  }

  private static JsonNode json(byte[] bytes) throws IOException {
    return JSON.readTree(bytes);
  }

  private record Outcome(List<OutgoingRecord> records, Reply reply) {
    List<OutgoingRecord> records(OutgoingRecord.Kind kind) {
      return records.stream().filter(record -> record.kind() == kind).toList();
    }
  }

  /** A clock for the rate limiter that moves only when told. */
  private static final class FakeNanoTime implements LongSupplier {
    private long nanos = 1_000_000_000L;

    void advanceSeconds(long seconds) {
      nanos += seconds * 1_000_000_000L;
    }

    @Override
    public long getAsLong() {
      return nanos;
    }
  }
}
