package io.lambdalake.ingestion.collector;

import static io.lambdalake.ingestion.collector.CollectorFixture.TRACKING_ID;
import static io.lambdalake.ingestion.collector.CollectorFixture.values;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The browser tracker in a real headless Chromium: a page served here loads /v1/t.js from the
 * collector, which sends the automatic page view and a custom event to Kafka.
 *
 * <p>Tier {@code browser} ({@code scripts/test --all}): it needs Debian's Chromium.
 */
@Tag("browser")
class CollectorTrackerIT {
  private static final Path CHROMIUM = Path.of("/usr/bin/chromium");

  @Test
  void aPageViewAndACustomEventFromChromiumArriveInKafka(@TempDir Path profile) throws Exception {
    assertThat(CHROMIUM)
        .as("Debian's chromium (apt-get install chromium), which this test drives headless")
        .isExecutable();
    String run = UUID.randomUUID().toString();
    try (CollectorFixture collector = new CollectorFixture()) {
      HttpServer site = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
      site.createContext(
          "/shop",
          exchange -> {
            byte[] page = page(collector.server().address().toString(), run).getBytes(UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "text/html; charset=utf-8");
            exchange.sendResponseHeaders(200, page.length);
            try (OutputStream body = exchange.getResponseBody()) {
              body.write(page);
            }
          });
      site.start();
      String pageUrl = "http://127.0.0.1:" + site.getAddress().getPort() + "/shop?run=" + run;
      String dom;
      try {
        dom = dumpDom(pageUrl, profile);
      } finally {
        site.stop(0);
      }

      // The page saw the collector accept both batches (the page view, then the sign-up).
      assertThat(dom).contains("sent:202");

      JsonNode pageView = find(collector, collector.topic("page_view"), run);
      assertThat(pageView.get("tracking_id").asText()).isEqualTo(TRACKING_ID);
      assertThat(pageView.get("page_url").asText()).isEqualTo(pageUrl);
      assertThat(pageView.get("params").get("title").asText()).isEqualTo("Tea shop " + run);
      assertThat(pageView.get("user_agent").asText()).contains("Chrome");
      assertThat(pageView.get("client_ip").asText()).isEqualTo("127.0.0.0");
      assertThat(pageView.get("client_id").asText()).isNotBlank();
      assertThat(pageView.get("session_id").asText()).isNotBlank();

      JsonNode signUp = find(collector, collector.topic("other"), run);
      assertThat(signUp.get("event_name").asText()).isEqualTo("sign_up");
      assertThat(signUp.get("user_id").asText()).isEqualTo("user-" + run);
      assertThat(signUp.get("params").get("method").asText()).isEqualTo("email");
      assertThat(signUp.get("client_id").asText()).isEqualTo(pageView.get("client_id").asText());
      assertThat(signUp.get("session_id").asText()).isEqualTo(pageView.get("session_id").asText());
    }
  }

  private static String page(String collector, String run) {
    return """
        <!doctype html>
        <html><head><meta charset="utf-8"><title>Tea shop %2$s</title>
        <script src="%1$s/v1/t.js" data-tracking-id="%3$s"></script>
        </head><body>
        <p id="status">waiting</p>
        <script>
          var sent = [];
          lake.onSent(function (status, count) {
            sent.push(status);
            document.getElementById('status').textContent = 'sent:' + sent.join(',');
          });
          lake.setUserId('user-%2$s');
          lake.track('sign_up', {method: 'email'});
          lake.flush();
        </script>
        </body></html>
        """
        .formatted(collector, run, TRACKING_ID);
  }

  private static String dumpDom(String url, Path profile) throws IOException, InterruptedException {
    Path output = profile.resolve("dom.html");
    Path log = profile.resolve("chromium.log");
    Process chromium =
        new ProcessBuilder(
                CHROMIUM.toString(),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--user-data-dir=" + profile.resolve("profile"),
                "--virtual-time-budget=15000",
                "--dump-dom",
                url)
            .redirectOutput(output.toFile())
            .redirectError(log.toFile())
            .start();
    if (!chromium.waitFor(120, TimeUnit.SECONDS)) {
      chromium.destroyForcibly();
      throw new AssertionError(
          "chromium did not finish within 120 s; see " + Files.readString(log));
    }
    String dom = Files.readString(output, UTF_8);
    assertThat(chromium.exitValue())
        .as("chromium's exit code; its log: %s", Files.readString(log))
        .isZero();
    return dom;
  }

  private static JsonNode find(CollectorFixture collector, String topic, String run) {
    List<JsonNode> values =
        values(
            collector.readUntil(
                topic,
                Duration.ofSeconds(60),
                records -> matching(values(records), run).isPresent()));
    return matching(values, run).orElseThrow();
  }

  private static Optional<JsonNode> matching(List<JsonNode> values, String run) {
    return values.stream()
        .filter(value -> value.has("page_url") && value.get("page_url").asText().endsWith(run))
        .findFirst();
  }
}
