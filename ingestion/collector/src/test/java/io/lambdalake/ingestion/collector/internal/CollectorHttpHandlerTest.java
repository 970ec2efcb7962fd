package io.lambdalake.ingestion.collector.internal;

import static io.lambdalake.ingestion.collector.internal.RequestProcessorTest.event;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.lambdalake.common.config.LakeConfig;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpServerCodec;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The HTTP side over Netty's embedded channel: the real codec and handlers, a fake Kafka. */
class CollectorHttpHandlerTest {
  private final LakeConfig lake =
      TestConfigs.lake(Map.of("lake.collector.limits.max-request-size", "64 KiB"));
  private final RecordingSink sink = new RecordingSink();
  private final AtomicBoolean kafkaReady = new AtomicBoolean(true);
  private final AtomicBoolean draining = new AtomicBoolean();
  private final CollectorMetrics metrics = new CollectorMetrics();
  private final CollectorHttpHandler.Shared shared =
      new CollectorHttpHandler.Shared(
          lake.collector(),
          new RequestProcessor(
              lake.collector(),
              lake.topics(),
              RequestProcessor.jsonFactory(lake.collector().limits()),
              new RateLimiter(lake.collector(), System::nanoTime),
              kafkaReady::get,
              metrics),
          sink,
          metrics,
          new InFlightRequests(),
          kafkaReady::get,
          () -> "broker down (test)",
          draining::get,
          "/* tracker */".getBytes(UTF_8),
          Clock.fixed(Instant.parse("2026-11-22T10:00:00Z"), ZoneOffset.UTC));
  private final EmbeddedChannel channel =
      new EmbeddedChannel(
          new HttpServerCodec(
              new HttpDecoderConfig().setMaxInitialLineLength(1024).setMaxHeaderSize(1024)),
          new SizeLimitedAggregator(shared),
          new CollectorHttpHandler(shared));

  @AfterEach
  void closeChannel() {
    channel.finishAndReleaseAll();
  }

  @Test
  void answers202OnlyAfterKafkaAcknowledged() {
    sink.mode(RecordingSink.Mode.HOLD);

    send(post("/v1/collect", "application/json", event("page_view")));

    assertThat(responses()).isEmpty();
    assertThat(sink.heldCount()).isEqualTo(1);
    sink.acknowledgeHeld();
    channel.runPendingTasks();
    String response = responses();
    assertThat(response).startsWith("HTTP/1.1 202 Accepted");
    assertThat(response).contains("content-type: application/json; charset=utf-8");
    assertThat(response).contains("\"accepted\":1");
    assertThat(sink.records(OutgoingRecord.Kind.EVENT)).hasSize(1);
  }

  @Test
  void answers503WhenKafkaFailsTheEvents() {
    sink.mode(RecordingSink.Mode.HOLD);

    send(post("/v1/batch", "text/plain;charset=UTF-8", "[" + event("page_view") + "]"));
    sink.failHeld();
    channel.runPendingTasks();

    String response = responses();
    assertThat(response).startsWith("HTTP/1.1 503 Service Unavailable");
    assertThat(response).contains("Retry-After: 5");
    assertThat(response).doesNotContain("202");
  }

  @Test
  void pipelinedRequestsAreAnsweredInOrder() {
    sink.mode(RecordingSink.Mode.HOLD);

    send(
        post("/v1/collect", "application/json", event("page_view"))
            + post("/v1/collect", "application/json", "{broken"));

    assertThat(sink.heldCount()).isEqualTo(1);
    sink.acknowledgeHeld();
    channel.runPendingTasks();
    assertThat(responses()).startsWith("HTTP/1.1 202");
    // The second request's quarantine record is held the same way, then answered.
    assertThat(sink.heldCount()).isEqualTo(1);
    sink.acknowledgeHeld();
    channel.runPendingTasks();
    assertThat(responses()).startsWith("HTTP/1.1 400");
  }

  @Test
  void corsPreflightAndSimpleRequests() {
    send(
        "OPTIONS /v1/batch HTTP/1.1\r\nHost: c\r\nOrigin: https://shop.example\r\n"
            + "Access-Control-Request-Method: POST\r\n"
            + "Access-Control-Request-Headers: content-type\r\n\r\n");
    String preflight = responses();
    assertThat(preflight).startsWith("HTTP/1.1 204 No Content");
    assertThat(preflight)
        .contains("access-control-allow-origin: *")
        .contains("Access-Control-Allow-Methods: POST, GET, OPTIONS")
        .contains("Access-Control-Allow-Headers: Content-Type");

    send(
        "POST /v1/collect HTTP/1.1\r\nHost: c\r\nOrigin: https://shop.example\r\n"
            + "Content-Type: text/plain;charset=UTF-8\r\nContent-Length: "
            + event("page_view").length()
            + "\r\n\r\n"
            + event("page_view"));
    String response = responses();
    assertThat(response).startsWith("HTTP/1.1 202");
    assertThat(response)
        .contains("access-control-allow-origin: *")
        .contains("access-control-expose-headers: Retry-After");
  }

  @Test
  void servesTheTrackerHealthReadinessAndMetrics() {
    send(get("/v1/t.js"));
    assertThat(responses())
        .startsWith("HTTP/1.1 200 OK")
        .contains("content-type: application/javascript; charset=utf-8")
        .endsWith("/* tracker */");

    send(get("/healthz"));
    assertThat(responses()).startsWith("HTTP/1.1 200").endsWith("{\"status\":\"ok\"}");

    send(get("/readyz"));
    assertThat(responses()).startsWith("HTTP/1.1 200").endsWith("{\"status\":\"ready\"}");
    kafkaReady.set(false);
    send(get("/readyz"));
    assertThat(responses()).startsWith("HTTP/1.1 503").contains("broker down (test)");

    send(get("/metrics"));
    assertThat(responses())
        .startsWith("HTTP/1.1 200")
        .contains("content-type: text/plain; version=0.0.4; charset=utf-8")
        .contains("# TYPE collector_http_requests_total counter")
        .contains("collector_http_requests_total{endpoint=\"/readyz\",status=\"503\"} 1")
        .contains("# TYPE collector_produce_latency_seconds histogram");
  }

  @Test
  void unknownPathsAndWrongMethodsGet4xx() {
    send(get("/v1/collect"));
    assertThat(responses()).startsWith("HTTP/1.1 405").contains("Allow: POST, OPTIONS");

    send(post("/metrics", "application/json", "{}"));
    assertThat(responses()).startsWith("HTTP/1.1 405");

    send(get("/admin/../../etc/passwd"));
    assertThat(responses()).startsWith("HTTP/1.1 404").contains("not_found");
    assertThat(sink.records()).isEmpty();
  }

  @Test
  void tooLargeRequestsGet413AreQuarantinedAndTheConnectionCloses() {
    send(
        "POST /v1/batch HTTP/1.1\r\nHost: c\r\nContent-Type: application/json\r\n"
            + "Content-Length: 10000000\r\n\r\n[");

    String response = responses();
    assertThat(response).startsWith("HTTP/1.1 413").contains("request_too_large");
    assertThat(response).contains("connection: close");
    assertThat(sink.records(OutgoingRecord.Kind.QUARANTINE)).hasSize(1);
    assertThat(new String(sink.records().get(0).value(), UTF_8))
        .contains("\"reason\":\"request_too_large\"")
        .contains("Content-Length: 10000000");
    assertThat(channel.isOpen()).isFalse();
  }

  @Test
  void tooLargeRequestsThatAskFirstGet413WithoutSendingTheirBody() {
    send(
        "POST /v1/batch HTTP/1.1\r\nHost: c\r\nContent-Type: application/json\r\n"
            + "Expect: 100-continue\r\nContent-Length: 10000000\r\n\r\n");

    String response = responses();
    assertThat(response).startsWith("HTTP/1.1 413").contains("request_too_large");
    assertThat(response).doesNotContain("100 Continue");
    assertThat(sink.records(OutgoingRecord.Kind.QUARANTINE)).hasSize(1);
    assertThat(channel.isOpen()).isFalse();
  }

  @Test
  void requestsThatAskFirstWithinTheLimitGetToContinue() {
    String body = event("page_view");
    send(
        "POST /v1/collect HTTP/1.1\r\nHost: c\r\nContent-Type: application/json\r\n"
            + "Expect: 100-continue\r\nContent-Length: "
            + body.length()
            + "\r\n\r\n");
    assertThat(responses()).startsWith("HTTP/1.1 100 Continue");

    send(body);

    assertThat(responses()).startsWith("HTTP/1.1 202");
  }

  @Test
  void malformedHttpGets4xxIsQuarantinedAndTheConnectionCloses() {
    send("GET /v1/p.gif?" + "a".repeat(2000) + " HTTP/1.1\r\nHost: c\r\n\r\n");

    assertThat(responses()).startsWith("HTTP/1.1 414").contains("malformed_request");
    assertThat(sink.records(OutgoingRecord.Kind.QUARANTINE)).hasSize(1);
    assertThat(channel.isOpen()).isFalse();
  }

  @Test
  void oversizedHeadersGet431() {
    send("GET /healthz HTTP/1.1\r\nHost: c\r\nX-Big: " + "b".repeat(2000) + "\r\n\r\n");

    assertThat(responses()).startsWith("HTTP/1.1 431");
    assertThat(channel.isOpen()).isFalse();
  }

  @Test
  void whileDrainingEventsGet503AndTheConnectionCloses() {
    draining.set(true);

    send(post("/v1/collect", "application/json", event("page_view")));

    assertThat(responses()).startsWith("HTTP/1.1 503").contains("connection: close");
    assertThat(sink.records()).isEmpty();
    assertThat(channel.isOpen()).isFalse();
  }

  @Test
  void cleansHeadersKeptWithEvents() {
    assertThat(CollectorHttpHandler.cleanHeader("  Mozilla\u0000/5.0\u001b[31m  ", 100))
        .isEqualTo("Mozilla/5.0[31m");
    assertThat(CollectorHttpHandler.cleanHeader("x".repeat(50), 10)).hasSize(10);
  }

  private static String post(String path, String contentType, String body) {
    byte[] bytes = body.getBytes(UTF_8);
    return "POST "
        + path
        + " HTTP/1.1\r\nHost: collector\r\nUser-Agent: test\r\nContent-Type: "
        + contentType
        + "\r\nContent-Length: "
        + bytes.length
        + "\r\n\r\n"
        + body;
  }

  private static String get(String path) {
    return "GET " + path + " HTTP/1.1\r\nHost: collector\r\n\r\n";
  }

  private void send(String request) {
    channel.writeInbound(Unpooled.copiedBuffer(request, UTF_8));
    channel.runPendingTasks();
  }

  /** Everything written to the client since the last call, as text. */
  private String responses() {
    StringBuilder text = new StringBuilder();
    Object message;
    while ((message = channel.readOutbound()) != null) {
      ByteBuf buffer = (ByteBuf) message;
      text.append(buffer.toString(UTF_8));
      buffer.release();
    }
    return text.toString();
  }
}
