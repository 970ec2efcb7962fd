package io.lambdalake.ingestion.collector.generate;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Sends generated traffic to the collector as a website would: one {@code POST /v1/batch} per visit
 * with the visitor's user agent, waiting as the collector asks when it answers 429 or 503.
 */
final class CollectorClient {
  private static final Pattern ACCEPTED = Pattern.compile("\"accepted\"\\s*:\\s*(\\d+)");
  private static final int MAX_ATTEMPTS = 20;
  private final HttpClient client;
  private final URI batchEndpoint;
  private final URI collectEndpoint;

  record Result(
      long sent,
      long accepted,
      long rejected,
      long badRequestsRefused,
      double seconds,
      Optional<String> firstRejection) {}

  CollectorClient(String host, int port) {
    this.client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    this.batchEndpoint = URI.create("http://" + host + ":" + port + "/v1/batch");
    this.collectEndpoint = URI.create("http://" + host + ":" + port + "/v1/collect");
  }

  Result send(EventGenerator generator, int events, int malformed) throws InterruptedException {
    long started = System.nanoTime();
    long sent = 0;
    long accepted = 0;
    String firstRejection = null;
    while (sent < events) {
      List<GeneratedEvent> visit = generator.session();
      if (visit.size() > events - sent) {
        visit = visit.subList(0, (int) (events - sent));
      }
      String body =
          visit.stream()
              .map(GeneratedEvent::toClientJson)
              .collect(Collectors.joining(",", "[", "]"));
      HttpResponse<String> response = post(batchEndpoint, body, visit.get(0).userAgent());
      Matcher matcher = ACCEPTED.matcher(response.body());
      long acceptedNow = matcher.find() ? Long.parseLong(matcher.group(1)) : 0;
      accepted += acceptedNow;
      if (acceptedNow < visit.size() && firstRejection == null) {
        firstRejection = response.statusCode() + " " + response.body();
      }
      sent += visit.size();
    }
    long refused = 0;
    for (int index = 0; index < malformed; index++) {
      String body =
          switch (index % 4) {
            case 0 -> "{\"tracking_id\": \"LL-DEMO-0001\", \"event_name\": ";
            case 1 ->
                "{\"tracking_id\": \"LL-NOT-REGISTERED\", \"event_name\": \"page_view\", \"client_id\": \"c-1\"}";
            case 2 -> "{\"tracking_id\": \"LL-DEMO-0001\", \"client_id\": \"c-1\"}";
            default ->
                "{\"tracking_id\": \"LL-DEMO-0001\", \"event_name\": \"page_view\", \"client_id\": \"c-1\","
                    + " \"event_time\": \"1999-01-01T00:00:00Z\"}";
          };
      if (post(collectEndpoint, body, "lake-generate").statusCode() / 100 == 4) {
        refused++;
      }
    }
    return new Result(
        sent,
        accepted,
        sent - accepted,
        refused,
        (System.nanoTime() - started) / 1e9,
        Optional.ofNullable(firstRejection));
  }

  private HttpResponse<String> post(URI uri, String body, String userAgent)
      throws InterruptedException {
    HttpRequest request =
        HttpRequest.newBuilder(uri)
            .timeout(Duration.ofSeconds(30))
            .header("Content-Type", "application/json")
            .header("User-Agent", userAgent)
            .POST(HttpRequest.BodyPublishers.ofString(body, UTF_8))
            .build();
    for (int attempt = 1; ; attempt++) {
      HttpResponse<String> response;
      try {
        response = client.send(request, HttpResponse.BodyHandlers.ofString(UTF_8));
      } catch (IOException e) {
        throw new LakeException(
            ErrorCode.SERVER_NOT_AVAILABLE,
            "The collector at "
                + uri
                + " does not answer ("
                + e.getMessage()
                + "); is `lake collector` running?",
            e);
      }
      int status = response.statusCode();
      if ((status == 429 || status == 503) && attempt < MAX_ATTEMPTS) {
        long seconds = response.headers().firstValueAsLong("Retry-After").orElse(1);
        Thread.sleep(Math.min(5, Math.max(1, seconds)) * 1000);
        continue;
      }
      if (status >= 500) {
        throw new LakeException(
            ErrorCode.SERVER_NOT_AVAILABLE,
            "The collector answered " + status + ": " + response.body());
      }
      return response;
    }
  }
}
