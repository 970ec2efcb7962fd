package io.lambdalake.ingestion.collector;

import static io.lambdalake.ingestion.collector.CollectorFixture.TRACKING_ID;
import static io.lambdalake.ingestion.collector.CollectorFixture.event;
import static io.lambdalake.ingestion.collector.CollectorFixture.json;
import static io.lambdalake.ingestion.collector.CollectorFixture.values;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The collector over real HTTP against the local stack's Kafka broker. */
class CollectorIT {
  private static CollectorFixture collector;

  @BeforeAll
  static void startCollector() {
    collector = new CollectorFixture();
  }

  @AfterAll
  static void stopCollector() {
    if (collector != null) {
      collector.close();
    }
  }

  @Test
  void acceptedEventsArriveInTheirRoutedTopicsWithEveryField() {
    String run = UUID.randomUUID().toString();
    String purchase =
        """
        {"event_id": "purchase-%1$s", "tracking_id": "%2$s", "event_name": "purchase",
         "client_id": "client-%1$s", "user_id": "user-7", "session_id": "session-3",
         "event_time": "%3$s", "page_url": "https://shop.example/checkout",
         "referrer": "https://search.example/?q=tea", "params": {"order_id": "o-1", "items": 2},
         "value": 42.5, "currency": "EUR"}
        """
            .formatted(run, TRACKING_ID, Instant.now().minusSeconds(30));
    HttpResponse<String> single =
        collector.post("/v1/collect", "application/json", purchase.getBytes(UTF_8));
    String batch =
        "["
            + event("page_view", "client-" + run)
                .replace("{", "{\"event_id\":\"view-" + run + "\",")
            + ","
            + event("sign_up", "client-" + run)
                .replace("{", "{\"event_id\":\"signup-" + run + "\",")
            + "]";
    HttpResponse<String> batched =
        collector.post("/v1/batch", "text/plain;charset=UTF-8", batch.getBytes(UTF_8));
    HttpResponse<String> pixel =
        collector.get(
            "/v1/p.gif?tracking_id="
                + TRACKING_ID
                + "&event_name=page_view&client_id=pixel-"
                + run
                + "&event_id=pixel-"
                + run
                + "&params.title=Caf%C3%A9");

    assertThat(single.statusCode()).isEqualTo(202);
    assertThat(json(single.body()).get("event_id").asText()).isEqualTo("purchase-" + run);
    assertThat(batched.statusCode()).isEqualTo(202);
    assertThat(json(batched.body()).get("accepted").asInt()).isEqualTo(2);
    assertThat(pixel.statusCode()).isEqualTo(200);
    assertThat(pixel.headers().firstValue("Content-Type")).contains("image/gif");

    JsonNode purchaseValue = findEvent(collector.topic("purchase"), "purchase-" + run);
    assertThat(purchaseValue.get("tracking_id").asText()).isEqualTo(TRACKING_ID);
    assertThat(purchaseValue.get("event_name").asText()).isEqualTo("purchase");
    assertThat(purchaseValue.get("client_id").asText()).isEqualTo("client-" + run);
    assertThat(purchaseValue.get("user_id").asText()).isEqualTo("user-7");
    assertThat(purchaseValue.get("session_id").asText()).isEqualTo("session-3");
    assertThat(purchaseValue.get("page_url").asText()).isEqualTo("https://shop.example/checkout");
    assertThat(purchaseValue.get("referrer").asText()).isEqualTo("https://search.example/?q=tea");
    assertThat(purchaseValue.get("params").get("items").asText()).isEqualTo("2");
    assertThat(purchaseValue.get("value").decimalValue()).isEqualByComparingTo("42.5");
    assertThat(purchaseValue.get("currency").asText()).isEqualTo("EUR");
    assertThat(purchaseValue.get("user_agent").asText()).isEqualTo("lake-it");
    assertThat(purchaseValue.get("client_ip").asText()).isEqualTo("127.0.0.0");
    assertThat(Instant.parse(purchaseValue.get("received_at").asText()))
        .isAfter(Instant.parse(purchaseValue.get("event_time").asText()));
    assertThat(purchaseValue.get("schema_version").asInt()).isEqualTo(1);

    assertThat(findEvent(collector.topic("page_view"), "view-" + run).get("client_id").asText())
        .isEqualTo("client-" + run);
    assertThat(findEvent(collector.topic("other"), "signup-" + run).get("event_name").asText())
        .isEqualTo("sign_up");
    JsonNode pixelValue = findEvent(collector.topic("page_view"), "pixel-" + run);
    assertThat(pixelValue.get("page_url").asText()).isEqualTo("https://shop.example/from-pixel");
    assertThat(pixelValue.get("params").get("title").asText()).isEqualTo("Café");
  }

  @Test
  void oneClientsEventsShareAPartitionInOrder() {
    String client = "ordered-" + UUID.randomUUID();
    List<String> ids = new ArrayList<>();
    for (int request = 0; request < 10; request++) {
      StringBuilder batch = new StringBuilder("[");
      for (int index = 0; index < 5; index++) {
        String id = client + "-" + ids.size();
        ids.add(id);
        batch
            .append(index > 0 ? "," : "")
            .append(event("page_view", client).replace("{", "{\"event_id\":\"" + id + "\","));
      }
      assertThat(
              collector
                  .post(
                      "/v1/batch", "application/json", batch.append(']').toString().getBytes(UTF_8))
                  .statusCode())
          .isEqualTo(202);
    }

    List<ConsumerRecord<byte[], byte[]>> records =
        collector.readUntil(
            collector.topic("page_view"),
            Duration.ofSeconds(60),
            read -> ofClient(read, client).size() == ids.size());

    List<ConsumerRecord<byte[], byte[]>> mine = ofClient(records, client);
    assertThat(mine).extracting(ConsumerRecord::partition).containsOnly(mine.get(0).partition());
    assertThat(mine)
        .allSatisfy(record -> assertThat(new String(record.key(), UTF_8)).isEqualTo(client));
    assertThat(values(mine))
        .extracting(value -> value.get("event_id").asText())
        .containsExactlyElementsOf(ids);
  }

  @Test
  void hostileInputGets4xxAndLandsInQuarantine() throws IOException {
    String run = UUID.randomUUID().toString().substring(0, 8);
    Map<String, Hostile> cases = new LinkedHashMap<>();
    String valid = event("page_view", "c");
    add(
        cases,
        "not JSON",
        "/v1/collect",
        "application/json",
        "hello".getBytes(UTF_8),
        "malformed_json");
    add(
        cases,
        "truncated JSON",
        "/v1/collect",
        "application/json",
        "{\"a\":".getBytes(UTF_8),
        "malformed_json");
    add(
        cases,
        "invalid UTF-8",
        "/v1/collect",
        "application/json",
        new byte[] {'{', '"', (byte) 0xff, '"', ':', '1', '}'},
        "malformed_utf8");
    add(
        cases,
        "overlong UTF-8",
        "/v1/batch",
        "application/json",
        new byte[] {'[', '"', (byte) 0xc0, (byte) 0xaf, '"', ']'},
        "malformed_utf8");
    add(cases, "empty body", "/v1/collect", "application/json", new byte[0], "empty_request");
    add(
        cases,
        "array to collect",
        "/v1/collect",
        "application/json",
        ("[" + valid + "]").getBytes(UTF_8),
        "not_an_object");
    add(
        cases,
        "JSON null",
        "/v1/collect",
        "application/json",
        "null".getBytes(UTF_8),
        "not_an_object");
    add(
        cases,
        "missing tracking_id",
        "/v1/collect",
        "application/json",
        "{\"event_name\":\"page_view\",\"client_id\":\"c\"}".getBytes(UTF_8),
        "missing_field");
    add(
        cases,
        "unknown tracking_id",
        "/v1/collect",
        "application/json",
        valid.replace(TRACKING_ID, "LL-UNKNOWN").getBytes(UTF_8),
        "unknown_tracking_id");
    add(
        cases,
        "tracking_id number",
        "/v1/collect",
        "application/json",
        valid.replace("\"" + TRACKING_ID + "\"", "7").getBytes(UTF_8),
        "invalid_field");
    add(
        cases,
        "missing event_name",
        "/v1/collect",
        "application/json",
        ("{\"tracking_id\":\"" + TRACKING_ID + "\",\"client_id\":\"c\"}").getBytes(UTF_8),
        "missing_field");
    add(
        cases,
        "event_name naming a topic",
        "/v1/collect",
        "application/json",
        valid.replace("page_view", "events.quarantine").getBytes(UTF_8),
        "invalid_field");
    add(
        cases,
        "event_name too long",
        "/v1/collect",
        "application/json",
        valid.replace("page_view", "p".repeat(100)).getBytes(UTF_8),
        "invalid_field");
    add(
        cases,
        "missing client_id",
        "/v1/collect",
        "application/json",
        ("{\"tracking_id\":\"" + TRACKING_ID + "\",\"event_name\":\"x\"}").getBytes(UTF_8),
        "missing_field");
    add(
        cases,
        "client_id with control character",
        "/v1/collect",
        "application/json",
        valid.replace("\"c\"", "\"c\\u0007\"").getBytes(UTF_8),
        "invalid_field");
    add(
        cases,
        "event_time in 1970",
        "/v1/collect",
        "application/json",
        valid.replace("{", "{\"event_time\":\"1970-01-01T00:00:00Z\",").getBytes(UTF_8),
        "event_time_out_of_range");
    add(
        cases,
        "event_time in 2999",
        "/v1/collect",
        "application/json",
        valid.replace("{", "{\"event_time\":32503680000000,").getBytes(UTF_8),
        "event_time_out_of_range");
    add(
        cases,
        "event_time gibberish",
        "/v1/collect",
        "application/json",
        valid.replace("{", "{\"event_time\":\"soon\",").getBytes(UTF_8),
        "invalid_field");
    add(
        cases,
        "params nested",
        "/v1/collect",
        "application/json",
        valid.replace("{", "{\"params\":{\"a\":[1]},").getBytes(UTF_8),
        "invalid_field");
    add(
        cases,
        "too many params",
        "/v1/collect",
        "application/json",
        valid.replace("{", "{\"params\":{" + manyParams(60) + "},").getBytes(UTF_8),
        "invalid_field");
    add(
        cases,
        "param value too long",
        "/v1/collect",
        "application/json",
        valid.replace("{", "{\"params\":{\"a\":\"" + "x".repeat(2000) + "\"},").getBytes(UTF_8),
        "invalid_field");
    add(
        cases,
        "value not a number",
        "/v1/collect",
        "application/json",
        valid.replace("{", "{\"value\":\"lots\",").getBytes(UTF_8),
        "invalid_field");
    add(
        cases,
        "currency invalid",
        "/v1/collect",
        "application/json",
        valid.replace("{", "{\"currency\":\"euro\",").getBytes(UTF_8),
        "invalid_field");
    add(
        cases,
        "unknown field",
        "/v1/collect",
        "application/json",
        valid.replace("{", "{\"topic\":\"events.page_view\",").getBytes(UTF_8),
        "unknown_field");
    add(
        cases,
        "collector-owned field",
        "/v1/collect",
        "application/json",
        valid.replace("{", "{\"client_ip\":\"1.2.3.4\",").getBytes(UTF_8),
        "unknown_field");
    add(
        cases,
        "duplicate field",
        "/v1/collect",
        "application/json",
        valid.replace("{", "{\"client_id\":\"d\",").getBytes(UTF_8),
        "duplicate_field");
    add(
        cases,
        "deep nesting",
        "/v1/collect",
        "application/json",
        ("{\"params\":" + "[".repeat(10_000) + "]".repeat(10_000) + "}").getBytes(UTF_8),
        "malformed_json");
    add(
        cases,
        "event too large",
        "/v1/collect",
        "application/json",
        valid.replace("{", "{\"user_id\":\"" + "u".repeat(40_000) + "\",").getBytes(UTF_8),
        "event_too_large");
    add(
        cases,
        "request too large",
        "/v1/batch",
        "application/json",
        ("[" + String.join(",", Collections.nCopies(15_000, valid)) + "]").getBytes(UTF_8),
        "request_too_large");
    add(
        cases,
        "too many events",
        "/v1/batch",
        "application/json",
        ("[" + String.join(",", Collections.nCopies(501, valid)) + "]").getBytes(UTF_8),
        "too_many_events");
    add(
        cases,
        "empty batch",
        "/v1/batch",
        "application/json",
        "[]".getBytes(UTF_8),
        "empty_request");
    add(
        cases,
        "NDJSON garbage line",
        "/v1/batch",
        "application/x-ndjson",
        "{oops}\n".getBytes(UTF_8),
        "malformed_json");
    add(
        cases,
        "XML",
        "/v1/collect",
        "application/xml",
        "<event/>".getBytes(UTF_8),
        "unsupported_media_type");
    add(
        cases,
        "UTF-16 charset",
        "/v1/collect",
        "application/json; charset=utf-16",
        valid.getBytes(UTF_8),
        "unsupported_media_type");
    add(
        cases,
        "pixel malformed escape",
        "GET /v1/p.gif?tracking_id=%ZZ",
        null,
        null,
        "malformed_request");
    add(
        cases,
        "pixel invalid UTF-8",
        "GET /v1/p.gif?tracking_id=" + TRACKING_ID + "&event_name=x&client_id=%C3%28",
        null,
        null,
        "malformed_utf8");
    add(cases, "pixel without parameters", "GET /v1/p.gif", null, null, "empty_request");

    int number = 0;
    for (Map.Entry<String, Hostile> entry : cases.entrySet()) {
      Hostile hostile = entry.getValue();
      String userAgent = "hostile-" + run + "-" + number++;
      if (hostile.target().startsWith("RAW ")) {
        // Declares 2 MB and sends a little: the collector answers after the headers and closes.
        String answer =
            raw(
                hostile.target().substring(4)
                    + " HTTP/1.1\r\nHost: c\r\nUser-Agent: "
                    + userAgent
                    + "\r\nContent-Type: "
                    + hostile.contentType()
                    + "\r\nContent-Length: 2000000\r\n\r\n"
                    + new String(hostile.body(), UTF_8));
        assertThat(answer).as(entry.getKey()).startsWith("HTTP/1.1 413").contains(hostile.reason());
        continue;
      }
      if (hostile.target().startsWith("GET ")) {
        // Raw, since HTTP clients refuse to send malformed query strings.
        String answer =
            raw(
                hostile.target()
                    + " HTTP/1.1\r\nHost: c\r\nConnection: close\r\nUser-Agent: "
                    + userAgent
                    + "\r\n\r\n");
        assertThat(answer).as(entry.getKey()).startsWith("HTTP/1.1 400");
        assertThat(json(answer.substring(answer.indexOf("\r\n\r\n") + 4)).get("error").asText())
            .as(entry.getKey())
            .isEqualTo(hostile.reason());
        continue;
      }
      HttpResponse<String> response =
          collector.post(hostile.target(), hostile.contentType(), hostile.body(), userAgent);
      assertThat(response.statusCode()).as(entry.getKey()).isBetween(400, 499);
      JsonNode answer = json(response.body());
      JsonNode error = answer.has("rejected") ? answer.get("rejected").get(0) : answer;
      assertThat(error.get("error").asText()).as(entry.getKey()).isEqualTo(hostile.reason());
      assertThat(error.get("message").asText()).as(entry.getKey()).isNotBlank();
    }
    // Two more that are not even HTTP the server can read: it still answers 4xx and closes.
    assertThat(raw("BLAH\r\n\r\n")).as("garbage request line").startsWith("HTTP/1.1 400");
    assertThat(raw("GET /healthz HTTP/1.1\r\nX: " + "h".repeat(20_000) + "\r\n\r\n"))
        .as("oversized headers")
        .startsWith("HTTP/1.1 431");

    assertThat(cases).hasSizeGreaterThanOrEqualTo(30);
    List<JsonNode> quarantined =
        values(
            collector.readUntil(
                collector.topic("quarantine"),
                Duration.ofSeconds(60),
                read -> ofRun(values(read), run).size() >= cases.size()));
    Map<String, String> reasonByAgent =
        ofRun(quarantined, run).stream()
            .collect(
                Collectors.toMap(
                    value -> value.get("user_agent").asText(),
                    value -> value.get("reason").asText(),
                    (first, second) -> first + "," + second));
    number = 0;
    for (Map.Entry<String, Hostile> entry : cases.entrySet()) {
      assertThat(reasonByAgent.get("hostile-" + run + "-" + number++))
          .as(entry.getKey() + " in quarantine")
          .isEqualTo(entry.getValue().reason());
    }
    assertThat(quarantined)
        .filteredOn(value -> value.get("reason").asText().equals("malformed_request"))
        .hasSizeGreaterThanOrEqualTo(2);
    // The collector is still healthy after all that.
    assertThat(collector.get("/healthz").statusCode()).isEqualTo(200);
    assertThat(
            collector.post("/v1/collect", "application/json", valid.getBytes(UTF_8)).statusCode())
        .isEqualTo(202);
  }

  @Test
  void healthReadinessAndMetrics() {
    assertThat(collector.get("/healthz").statusCode()).isEqualTo(200);
    HttpResponse<String> ready = collector.get("/readyz");
    assertThat(ready.statusCode()).isEqualTo(200);
    assertThat(ready.body()).contains("ready");
    collector.post("/v1/collect", "application/json", event("page_view", "m").getBytes(UTF_8));

    HttpResponse<String> metrics = collector.get("/metrics");

    assertThat(metrics.statusCode()).isEqualTo(200);
    assertThat(metrics.body())
        .contains("collector_http_requests_total{endpoint=\"/v1/collect\",status=\"202\"}")
        .contains("collector_events_accepted_total{topic=\"" + collector.topic("page_view") + "\"}")
        .contains("collector_produce_latency_seconds_bucket{le=\"0.005\"}")
        .contains("collector_producer_buffer_total_bytes 67108864")
        .contains("collector_kafka_ready 1");
  }

  @Test
  void gracefulShutdownAnswersTheRequestsInFlight() throws Exception {
    String run = UUID.randomUUID().toString();
    CollectorFixture stopping = new CollectorFixture();
    ExecutorService clients = Executors.newFixedThreadPool(8);
    List<CompletableFuture<Outcome>> outcomes = new ArrayList<>();
    try {
      for (int request = 0; request < 200; request++) {
        String id = run + "-" + request;
        byte[] body =
            event("page_view", "drain")
                .replace("{", "{\"event_id\":\"" + id + "\",")
                .getBytes(UTF_8);
        outcomes.add(
            CompletableFuture.supplyAsync(
                () -> {
                  try {
                    return new Outcome(
                        id, stopping.post("/v1/collect", "application/json", body).statusCode());
                  } catch (RuntimeException e) {
                    return new Outcome(id, -1); // refused: the server had stopped listening
                  }
                },
                clients));
      }
      // Let some requests get going, then shut down while others are in flight.
      Awaitility.await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> outcomes.stream().filter(CompletableFuture::isDone).count() >= 20);
      stopping.server().close();
      List<Outcome> results = outcomes.stream().map(CompletableFuture::join).toList();

      assertThat(results)
          .extracting(Outcome::status)
          .containsAnyOf(202)
          .allMatch(status -> status == 202 || status == 503 || status == -1);
      Set<String> acknowledged =
          results.stream()
              .filter(outcome -> outcome.status() == 202)
              .map(Outcome::id)
              .collect(Collectors.toSet());
      List<JsonNode> inKafka =
          values(
              stopping.readUntil(
                  stopping.topic("page_view"),
                  Duration.ofSeconds(60),
                  read ->
                      values(read).stream()
                          .map(value -> value.get("event_id").asText())
                          .collect(Collectors.toSet())
                          .containsAll(acknowledged)));
      assertThat(inKafka)
          .extracting(value -> value.get("event_id").asText())
          .containsAll(acknowledged);
    } finally {
      clients.shutdownNow();
      stopping.close();
    }
  }

  private record Outcome(String id, int status) {}

  private record Hostile(String target, String contentType, byte[] body, String reason) {}

  private static void add(
      Map<String, Hostile> cases,
      String name,
      String target,
      String contentType,
      byte[] body,
      String reason) {
    cases.put(name, new Hostile(target, contentType, body, reason));
  }

  private static String manyParams(int count) {
    StringBuilder params = new StringBuilder();
    for (int index = 0; index < count; index++) {
      params.append(index > 0 ? "," : "").append("\"k").append(index).append("\":\"v\"");
    }
    return params.toString();
  }

  private static List<JsonNode> ofRun(List<JsonNode> quarantined, String run) {
    return quarantined.stream()
        .filter(
            value ->
                value.has("user_agent")
                    && value.get("user_agent").asText().startsWith("hostile-" + run + "-"))
        .toList();
  }

  private static List<ConsumerRecord<byte[], byte[]>> ofClient(
      List<ConsumerRecord<byte[], byte[]>> records, String client) {
    return records.stream()
        .filter(record -> new String(record.key(), UTF_8).equals(client))
        .toList();
  }

  private JsonNode findEvent(String topic, String eventId) {
    List<JsonNode> found =
        values(
            collector.readUntil(
                topic,
                Duration.ofSeconds(60),
                read ->
                    values(read).stream()
                        .anyMatch(value -> value.get("event_id").asText().equals(eventId))));
    return found.stream()
        .filter(value -> value.get("event_id").asText().equals(eventId))
        .findFirst()
        .orElseThrow();
  }

  /** Sends raw bytes on a fresh connection and returns everything the server answers. */
  private static String raw(String request) throws IOException {
    try (Socket socket = new Socket("127.0.0.1", collector.server().port())) {
      socket.setSoTimeout(10_000);
      OutputStream out = socket.getOutputStream();
      out.write(request.getBytes(UTF_8));
      out.flush();
      InputStream in = socket.getInputStream();
      ByteArrayOutputStream answer = new ByteArrayOutputStream();
      in.transferTo(answer);
      return answer.toString(UTF_8);
    }
  }
}
