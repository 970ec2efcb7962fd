package io.lambdalake.chaos;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.ingestion.collector.generate.GeneratedEvent;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * One website's traffic into a running collector, as {@code POST /v1/batch} requests of a few
 * events each, one after the other on a thread of its own. An event goes into the ledger as
 * accepted only when its request was answered 202 with every event accepted; every answer is
 * counted by the phase in which its request was sent (e.g. while Kafka was stopped).
 */
final class CollectorLoad implements AutoCloseable {
  private static final Pattern ACCEPTED = Pattern.compile("\"accepted\"\\s*:\\s*(\\d+)");
  private static final int EVENTS_PER_REQUEST = 10;

  private final EventLedger ledger;
  private final URI batchEndpoint;
  private final HttpClient client =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final AtomicReference<String> phase = new AtomicReference<>("before");
  private final Map<String, AtomicLong> answers = new ConcurrentHashMap<>();
  private final AtomicBoolean running = new AtomicBoolean(true);
  private final AtomicReference<Exception> failure = new AtomicReference<>();
  private final Thread sender;

  CollectorLoad(EventLedger ledger, String host, int port) {
    this.ledger = ledger;
    this.batchEndpoint = URI.create("http://" + host + ":" + port + "/v1/batch");
    this.sender = new Thread(this::send, "chaos-collector-load");
    sender.setDaemon(true);
    sender.start();
  }

  /** Requests sent from now on are counted under this phase. */
  void phase(String name) {
    phase.set(name);
  }

  /** How many requests sent in the phase were answered with the status (-1: no answer at all). */
  long answered(String phaseName, int status) {
    AtomicLong count = answers.get(phaseName + " " + status);
    return count == null ? 0 : count.get();
  }

  /** Every phase and status seen, with their counts, e.g. {@code {kafka-stopped 503=41}}. */
  String summary() {
    return new TreeMap<>(
            answers.entrySet().stream()
                .collect(Collectors.toMap(Map.Entry::getKey, entry -> entry.getValue().get())))
        .toString();
  }

  private void send() {
    while (running.get()) {
      String sentIn = phase.get();
      List<GeneratedEvent> events = ledger.generate(EVENTS_PER_REQUEST);
      String body =
          events.stream()
              .map(GeneratedEvent::toClientJson)
              .collect(Collectors.joining(",", "[", "]"));
      int status;
      try {
        HttpResponse<String> response =
            client.send(
                HttpRequest.newBuilder(batchEndpoint)
                    .timeout(Duration.ofSeconds(30))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body, UTF_8))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        status = response.statusCode();
        if (status == 202) {
          Matcher matcher = ACCEPTED.matcher(response.body());
          long accepted = matcher.find() ? Long.parseLong(matcher.group(1)) : -1;
          if (accepted != events.size()) {
            throw new LakeException(
                ErrorCode.INTERNAL_ERROR,
                "The collector accepted "
                    + accepted
                    + " of "
                    + events.size()
                    + " generated events (202 "
                    + response.body()
                    + "): the scenario cannot tell which were accepted");
          }
          ledger.accept(events);
        }
      } catch (IOException e) {
        status = -1;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (RuntimeException e) {
        failure.set(e);
        running.set(false);
        return;
      }
      answers.computeIfAbsent(sentIn + " " + status, key -> new AtomicLong()).incrementAndGet();
    }
  }

  /** Stops sending, waits for the request in flight, and rethrows what broke the load. */
  @Override
  public void close() throws InterruptedException {
    running.set(false);
    sender.join(Duration.ofSeconds(60).toMillis());
    Exception broken = failure.get();
    if (broken != null) {
      throw new LakeException(
          ErrorCode.INTERNAL_ERROR, "The collector load failed: " + broken.getMessage(), broken);
    }
  }
}
