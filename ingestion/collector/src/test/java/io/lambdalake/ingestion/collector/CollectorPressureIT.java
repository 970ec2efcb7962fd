package io.lambdalake.ingestion.collector;

import static io.lambdalake.ingestion.collector.CollectorFixture.event;
import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.SocketException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The collector under hostile load, over real sockets against the real server and the local stack's
 * Kafka: too many connections, a client that sends a byte at a time, bodies that would fill the
 * memory, one address sending for every tracking ID.
 */
class CollectorPressureIT {

  @Test
  void aRequestTrickledByteByByteIsCutOffAtTheRequestDeadline() throws IOException {
    try (CollectorFixture collector =
            new CollectorFixture(Map.of("lake.collector.limits.request-timeout", "2s"));
        Socket socket = new Socket("127.0.0.1", collector.server().port())) {
      socket.setSoTimeout(30_000);
      OutputStream out = socket.getOutputStream();
      byte[] request =
          ("POST /v1/collect HTTP/1.1\r\nHost: collector\r\nContent-Type: application/json\r\n"
                  + "Content-Length: 1000\r\n\r\n"
                  + "x".repeat(1000))
              .getBytes(US_ASCII);
      long started = System.nanoTime();
      // A byte every 200 ms keeps the idle timeout (60 s) from ever firing.
      ScheduledExecutorService trickle = Executors.newSingleThreadScheduledExecutor();
      AtomicInteger sent = new AtomicInteger();
      try {
        trickle.scheduleAtFixedRate(
            () -> {
              int index = sent.getAndIncrement();
              if (index < request.length) {
                try {
                  out.write(request[index]);
                  out.flush();
                } catch (IOException e) {
                  throw new UncheckedIOException(e); // cut off: stops the schedule
                }
              }
            },
            0,
            200,
            TimeUnit.MILLISECONDS);
        String answer = readAll(socket.getInputStream());
        assertThat(Duration.ofNanos(System.nanoTime() - started))
            .as("the deadline of 2 s cut the request off, not the idle timeout")
            .isLessThan(Duration.ofSeconds(15));
        assertThat(answer).startsWith("HTTP/1.1 408");
      } finally {
        trickle.shutdownNow();
      }
      assertThat(collector.get("/metrics").body())
          .contains("collector_limit_hits_total{limit=\"request_timeout\"} 1");
    }
  }

  @Test
  void connectionsBeyondTheCapGet503WithRetryAfter() throws IOException {
    try (CollectorFixture collector =
        new CollectorFixture(Map.of("lake.collector.limits.max-connections", "3"))) {
      List<Socket> open = new ArrayList<>();
      try {
        for (int index = 0; index < 3; index++) {
          Socket socket = new Socket("127.0.0.1", collector.server().port());
          open.add(socket);
          assertThat(exchange(socket, "GET /healthz HTTP/1.1\r\nHost: c\r\n\r\n"))
              .startsWith("HTTP/1.1 200");
        }
        try (Socket beyond = new Socket("127.0.0.1", collector.server().port())) {
          String answer = exchange(beyond, "GET /healthz HTTP/1.1\r\nHost: c\r\n\r\n");
          assertThat(answer).startsWith("HTTP/1.1 503").contains("Retry-After: 5");
        }
        open.remove(0).close();
        await()
            .atMost(Duration.ofSeconds(10))
            .untilAsserted(() -> assertThat(collector.get("/healthz").statusCode()).isEqualTo(200));
        assertThat(collector.get("/metrics").body())
            .contains("collector_limit_hits_total{limit=\"connections\"} 1");
      } finally {
        for (Socket socket : open) {
          socket.close();
        }
      }
    }
  }

  @Test
  void bodiesBeyondTheGlobalBufferBudgetGet503WithRetryAfter() throws IOException {
    try (CollectorFixture collector =
        new CollectorFixture(
            Map.of(
                "lake.collector.limits.max-request-size", "32 KiB",
                "lake.collector.limits.max-event-size", "16 KiB",
                "lake.collector.limits.max-buffered-bodies", "64 KiB"))) {
      List<Socket> holding = new ArrayList<>();
      try {
        // Two slow clients each hold 30000 bytes of a 32768-byte body.
        for (int index = 0; index < 2; index++) {
          Socket socket = new Socket("127.0.0.1", collector.server().port());
          holding.add(socket);
          OutputStream out = socket.getOutputStream();
          out.write(
              ("POST /v1/batch HTTP/1.1\r\nHost: c\r\nContent-Type: application/x-ndjson\r\n"
                      + "Content-Length: 32768\r\n\r\n")
                  .getBytes(US_ASCII));
          out.write(new byte[30_000]);
          out.flush();
        }
        await()
            .atMost(Duration.ofSeconds(10))
            .untilAsserted(
                () ->
                    assertThat(collector.get("/metrics").body())
                        .contains("collector_buffered_body_bytes 60000"));
        byte[] body = ("x".repeat(32_000)).getBytes(US_ASCII);
        HttpResponse<String> third =
            collector.post("/v1/collect", "application/json", body, "lake-it");
        assertThat(third.statusCode()).isEqualTo(503);
        assertThat(third.headers().firstValue("Retry-After")).contains("5");
        assertThat(third.body()).contains("request bodies");
        for (Socket socket : holding) {
          socket.close();
        }
        holding.clear();
        await()
            .atMost(Duration.ofSeconds(10))
            .untilAsserted(
                () ->
                    assertThat(
                            collector
                                .post(
                                    "/v1/collect",
                                    "application/json",
                                    event("page_view", "c-" + UUID.randomUUID()).getBytes(UTF_8))
                                .statusCode())
                        .isEqualTo(202));
        assertThat(collector.get("/metrics").body())
            .contains("collector_limit_hits_total{limit=\"buffered_bodies\"} 1")
            .contains("collector_buffered_body_bytes 0");
      } finally {
        for (Socket socket : holding) {
          socket.close();
        }
      }
    }
  }

  @Test
  void oneClientAddressIsLimitedAcrossTrackingIds() {
    try (CollectorFixture collector =
        new CollectorFixture(
            Map.of(
                "lake.collector.client-rate-limit.events-per-second", "1",
                "lake.collector.client-rate-limit.burst", "5"))) {
      for (int index = 0; index < 5; index++) {
        assertThat(
                collector
                    .post(
                        "/v1/collect",
                        "application/json",
                        event("page_view", "c-" + index).getBytes(UTF_8))
                    .statusCode())
            .isEqualTo(202);
      }
      HttpResponse<String> limited =
          collector.post(
              "/v1/collect", "application/json", event("page_view", "c-6").getBytes(UTF_8));
      assertThat(limited.statusCode()).isEqualTo(429);
      assertThat(limited.headers().firstValue("Retry-After")).isPresent();
      assertThat(limited.body()).contains("client address");
      assertThat(collector.get("/metrics").body())
          .contains("collector_limit_hits_total{limit=\"client_rate\"} 1");
    }
  }

  @Test
  void theClientAddressComesFromXForwardedForWhenTrusted() {
    try (CollectorFixture collector =
        new CollectorFixture(
            Map.of(
                "lake.collector.trust-forwarded-for", "true",
                "lake.collector.client-rate-limit.events-per-second", "1",
                "lake.collector.client-rate-limit.burst", "2"))) {
      for (String client : List.of("198.51.100.7", "198.51.100.7", "203.0.113.9")) {
        assertThat(postFrom(collector, client).statusCode()).isEqualTo(202);
      }
      assertThat(postFrom(collector, "198.51.100.7").statusCode()).isEqualTo(429);
      assertThat(postFrom(collector, "203.0.113.9").statusCode()).isEqualTo(202);
    }
  }

  @Test
  void rejectedRequestsWriteToQuarantineOnlyWithinTheirBudget() {
    try (CollectorFixture collector =
        new CollectorFixture(
            Map.of(
                "lake.collector.quarantine-budget.per-client.events-per-second", "0.001",
                "lake.collector.quarantine-budget.per-client.burst", "3"))) {
      for (int index = 0; index < 10; index++) {
        HttpResponse<String> rejected =
            collector.post(
                "/v1/collect", "application/json", ("{not json " + index).getBytes(UTF_8));
        assertThat(rejected.statusCode())
            .as("the answer does not depend on the budget")
            .isEqualTo(400);
      }
      // Every record written was acknowledged before its request was answered.
      assertThat(
              collector.readUntil(
                  collector.topic("quarantine"),
                  Duration.ofSeconds(30),
                  records -> records.size() >= 3))
          .hasSize(3);
      assertThat(collector.get("/metrics").body())
          .contains("collector_limit_hits_total{limit=\"quarantine_budget\"} 7")
          .contains("collector_quarantined_total 3");
    }
  }

  private static HttpResponse<String> postFrom(CollectorFixture collector, String clientIp) {
    return collector.send(
        HttpRequest.newBuilder(collector.uri("/v1/collect"))
            .header("Content-Type", "application/json")
            .header("X-Forwarded-For", clientIp)
            .POST(HttpRequest.BodyPublishers.ofString(event("page_view", "c-" + UUID.randomUUID())))
            .build());
  }

  /** Sends a request and reads one answer (or up to the end of the stream). */
  private static String exchange(Socket socket, String request) throws IOException {
    socket.setSoTimeout(10_000);
    socket.getOutputStream().write(request.getBytes(US_ASCII));
    socket.getOutputStream().flush();
    InputStream in = socket.getInputStream();
    ByteArrayOutputStream answer = new ByteArrayOutputStream();
    byte[] buffer = new byte[4096];
    while (true) {
      int read = in.read(buffer);
      if (read < 0) {
        break;
      }
      answer.write(buffer, 0, read);
      String text = answer.toString(US_ASCII);
      int headersEnd = text.indexOf("\r\n\r\n");
      if (headersEnd >= 0) {
        int length = contentLength(text.substring(0, headersEnd));
        if (answer.size() >= headersEnd + 4 + length) {
          break;
        }
      }
    }
    return answer.toString(US_ASCII);
  }

  private static int contentLength(String headers) {
    for (String line : headers.split("\r\n")) {
      if (line.toLowerCase().startsWith("content-length:")) {
        return Integer.parseInt(line.substring("content-length:".length()).strip());
      }
    }
    return 0;
  }

  private static String readAll(InputStream in) {
    try {
      return new String(in.readAllBytes(), US_ASCII);
    } catch (SocketException e) {
      return "";
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
