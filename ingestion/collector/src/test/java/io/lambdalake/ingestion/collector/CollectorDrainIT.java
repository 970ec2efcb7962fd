package io.lambdalake.ingestion.collector;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.config.LakeConfigLoader;
import io.lambdalake.common.kafka.KafkaClientProperties;
import io.lambdalake.stack.testing.JobProcesses;
import io.lambdalake.stack.testing.SharedStack;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A rolling restart: a collector in its own JVM gets a real SIGTERM while clients send to it. Every
 * request answered 202 has its event in Kafka; every other request got an error answer (503) or
 * could not connect, so a client knows to send it again.
 */
@Tag("fault")
class CollectorDrainIT {
  private static final int CLIENTS = 4;

  @Test
  void sigtermDrainsTheRequestsInFlight() throws Exception {
    SharedStack.get();
    String prefix = "it.drain." + UUID.randomUUID().toString().substring(0, 8) + ".";
    int port;
    try (ServerSocket free = new ServerSocket(0)) {
      port = free.getLocalPort();
    }
    Map<String, String> properties =
        Map.of(
            "lake.topics.events-prefix",
            prefix,
            "lake.topics.events-other",
            prefix + "other",
            "lake.topics.events-quarantine",
            prefix + "quarantine",
            "lake.collector.port",
            Integer.toString(port),
            "lake.collector.tracking-ids." + CollectorFixture.TRACKING_ID + ".merchant",
            "it",
            "lake.collector.tracking-ids."
                + CollectorFixture.TRACKING_ID
                + ".rate-limit.events-per-second",
            "1e6",
            "lake.collector.tracking-ids." + CollectorFixture.TRACKING_ID + ".rate-limit.burst",
            "1000000",
            "lake.collector.client-rate-limit.events-per-second",
            "1e6",
            "lake.collector.client-rate-limit.burst",
            "1000000");
    Path log = Files.createTempFile("collector-drain", ".log");
    Process collector = JobProcesses.start(CollectorProcess.class, properties, List.of(), log);
    URI base = URI.create("http://127.0.0.1:" + port);
    HttpClient http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    Set<String> acknowledged = ConcurrentHashMap.newKeySet();
    AtomicInteger refusedOrFailed = new AtomicInteger();
    AtomicInteger unexpected = new AtomicInteger();
    AtomicBoolean stop = new AtomicBoolean();
    ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
    try {
      await()
          .atMost(Duration.ofSeconds(90))
          .ignoreExceptions()
          .until(() -> send(http, base.resolve("/readyz"), null).statusCode() == 200);
      for (int client = 0; client < CLIENTS; client++) {
        int number = client;
        clients.execute(
            () -> {
              int sequence = 0;
              while (!stop.get()) {
                String eventId = "drain-" + number + "-" + sequence++;
                String body =
                    "{\"tracking_id\":\"%s\",\"event_name\":\"page_view\",\"client_id\":\"c-%d\",\"event_id\":\"%s\"}"
                        .formatted(CollectorFixture.TRACKING_ID, number, eventId);
                try {
                  int status = send(http, base.resolve("/v1/collect"), body).statusCode();
                  if (status == 202) {
                    acknowledged.add(eventId);
                  } else if (status == 503) {
                    refusedOrFailed.incrementAndGet();
                  } else {
                    unexpected.incrementAndGet();
                  }
                } catch (IOException e) {
                  // Connection refused once it stopped accepting, or closed by the drain: not
                  // acknowledged, so the client sends it again.
                  refusedOrFailed.incrementAndGet();
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                  return;
                }
              }
            });
      }
      await().atMost(Duration.ofSeconds(60)).until(() -> acknowledged.size() >= 200);
      long signalled = System.nanoTime();
      collector.destroy(); // SIGTERM
      assertThat(collector.waitFor(60, TimeUnit.SECONDS)).as("exited within the drain").isTrue();
      assertThat(Duration.ofNanos(System.nanoTime() - signalled))
          .isLessThan(Duration.ofSeconds(35));
      await().atMost(Duration.ofSeconds(30)).until(() -> refusedOrFailed.get() > 0 || stop.get());
      stop.set(true);
      clients.shutdown();
      assertThat(clients.awaitTermination(30, TimeUnit.SECONDS)).isTrue();

      assertThat(unexpected.get()).as("answers other than 202 and 503").isZero();
      assertThat(Files.readString(log)).contains("Collector draining");
      LakeConfig config = LakeConfigLoader.load(System.getenv(), properties);
      Set<String> inKafka = new HashSet<>();
      List<String> missing = new ArrayList<>();
      try (KafkaConsumer<byte[], byte[]> consumer =
          new KafkaConsumer<byte[], byte[]>(
              KafkaClientProperties.consumer(
                  config.kafka(), "collector-drain-it", "drain-" + UUID.randomUUID()))) {
        List<TopicPartition> partitions =
            consumer.partitionsFor(prefix + "page_view", Duration.ofSeconds(30)).stream()
                .map(info -> new TopicPartition(info.topic(), info.partition()))
                .toList();
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        await()
            .atMost(Duration.ofSeconds(60))
            .until(
                () -> {
                  consumer
                      .poll(Duration.ofMillis(500))
                      .forEach(
                          record ->
                              inKafka.add(
                                  CollectorFixture.json(new String(record.value(), UTF_8))
                                      .get("event_id")
                                      .asText()));
                  return inKafka.containsAll(acknowledged);
                });
      }
      for (String eventId : acknowledged) {
        if (!inKafka.contains(eventId)) {
          missing.add(eventId);
        }
      }
      assertThat(missing).as("202-acknowledged events missing from Kafka").isEmpty();
    } finally {
      stop.set(true);
      clients.shutdownNow();
      collector.destroyForcibly();
      deleteTopics(prefix);
    }
  }

  private static HttpResponse<String> send(HttpClient http, URI uri, String body)
      throws IOException, InterruptedException {
    HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30));
    if (body != null) {
      request
          .header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString(body));
    }
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static void deleteTopics(String prefix) {
    LakeConfig config = LakeConfigLoader.load(System.getenv(), Map.of());
    try (Admin admin = Admin.create(KafkaClientProperties.admin(config.kafka(), "drain-it"))) {
      List<String> topics =
          admin.listTopics().names().get(30, TimeUnit.SECONDS).stream()
              .filter(name -> name.startsWith(prefix))
              .toList();
      admin.deleteTopics(topics).all().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      // Small topics of one run; a failed cleanup must not fail the test.
    }
  }
}
