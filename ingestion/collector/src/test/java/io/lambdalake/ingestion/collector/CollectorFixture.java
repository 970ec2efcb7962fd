package io.lambdalake.ingestion.collector;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.config.LakeConfigLoader;
import io.lambdalake.common.kafka.KafkaClientProperties;
import io.lambdalake.stack.testing.SharedStack;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A collector on a free port against the shared stack's Kafka, writing to topics of its own (a
 * fresh prefix per fixture, deleted on close), with tracking IDs for tests.
 */
final class CollectorFixture implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(CollectorFixture.class);
  static final String TRACKING_ID = "LL-IT-0001";
  static final ObjectMapper JSON = new ObjectMapper();

  private final LakeConfig config;
  private final CollectorServer server;
  private final HttpClient http =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5))
          .build();
  private final String prefix;

  CollectorFixture() {
    this(Map.of());
  }

  CollectorFixture(Map<String, String> overrides) {
    SharedStack.get();
    prefix = "it.collector." + UUID.randomUUID().toString().substring(0, 8) + ".";
    Map<String, String> all = new HashMap<>();
    all.put("lake.topics.events-prefix", prefix);
    all.put("lake.topics.events-other", prefix + "other");
    all.put("lake.topics.events-quarantine", prefix + "quarantine");
    all.put("lake.collector.port", "0");
    all.put("lake.collector.tracking-ids." + TRACKING_ID + ".merchant", "it-merchant");
    all.put("lake.collector.tracking-ids." + TRACKING_ID + ".rate-limit.events-per-second", "1e6");
    all.put("lake.collector.tracking-ids." + TRACKING_ID + ".rate-limit.burst", "1000000");
    all.put("lake.collector.client-rate-limit.events-per-second", "1e6");
    all.put("lake.collector.client-rate-limit.burst", "1000000");
    all.put("lake.collector.quarantine-budget.per-client.events-per-second", "1e6");
    all.put("lake.collector.quarantine-budget.per-client.burst", "1000000");
    all.putAll(overrides);
    config = LakeConfigLoader.load(System.getenv(), all);
    server = CollectorServer.start(config);
    await().atMost(Duration.ofSeconds(60)).until(server::isReady);
  }

  LakeConfig config() {
    return config;
  }

  CollectorServer server() {
    return server;
  }

  String topic(String suffix) {
    return prefix + suffix;
  }

  URI uri(String pathAndQuery) {
    return URI.create(server.address() + pathAndQuery);
  }

  HttpResponse<String> post(String path, String contentType, byte[] body) {
    return post(path, contentType, body, "lake-it");
  }

  HttpResponse<String> post(String path, String contentType, byte[] body, String userAgent) {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(uri(path))
            .timeout(Duration.ofSeconds(30))
            .header("User-Agent", userAgent)
            .POST(HttpRequest.BodyPublishers.ofByteArray(body));
    if (contentType != null) {
      request.header("Content-Type", contentType);
    }
    return send(request.build());
  }

  HttpResponse<String> get(String pathAndQuery) {
    return send(
        HttpRequest.newBuilder(uri(pathAndQuery))
            .timeout(Duration.ofSeconds(30))
            .header("User-Agent", "lake-it")
            .header("Referer", "https://shop.example/from-pixel")
            .GET()
            .build());
  }

  HttpResponse<String> send(HttpRequest request) {
    try {
      return http.send(request, HttpResponse.BodyHandlers.ofString(UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  static String event(String eventName, String clientId) {
    return "{\"tracking_id\":\"%s\",\"event_name\":\"%s\",\"client_id\":\"%s\"}"
        .formatted(TRACKING_ID, eventName, clientId);
  }

  static JsonNode json(String text) {
    try {
      return JSON.readTree(text);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Reads a topic from its beginning until the records read satisfy the condition. */
  List<ConsumerRecord<byte[], byte[]>> readUntil(
      String topic, Duration timeout, Predicate<List<ConsumerRecord<byte[], byte[]>>> condition) {
    List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(
            KafkaClientProperties.consumer(
                config.kafka(), "collector-it", "collector-it-" + UUID.randomUUID()))) {
      List<TopicPartition> partitions = new ArrayList<>();
      for (PartitionInfo partition : consumer.partitionsFor(topic, Duration.ofSeconds(30))) {
        partitions.add(new TopicPartition(topic, partition.partition()));
      }
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      await()
          .atMost(timeout)
          .pollInterval(Duration.ofMillis(100))
          .until(
              () -> {
                consumer.poll(Duration.ofMillis(500)).forEach(records::add);
                return condition.test(records);
              });
    }
    return records;
  }

  static List<JsonNode> values(List<ConsumerRecord<byte[], byte[]>> records) {
    return records.stream().map(record -> json(new String(record.value(), UTF_8))).toList();
  }

  @Override
  public void close() {
    server.close();
    try (Admin admin =
        Admin.create(KafkaClientProperties.admin(config.kafka(), "collector-it-cleanup"))) {
      List<String> topics =
          admin.listTopics().names().get(30, TimeUnit.SECONDS).stream()
              .filter(name -> name.startsWith(prefix))
              .toList();
      admin.deleteTopics(topics).all().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      // Topics of a test run are small; a failed cleanup must not fail the tests.
      LOG.warn("Could not delete the test topics {}*: {}", prefix, e.toString());
    }
  }
}
