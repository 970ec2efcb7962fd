package io.lambdalake.common.kafka;

import static java.util.Objects.requireNonNull;

import io.lambdalake.common.config.KafkaConfig;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;

/**
 * The one place Kafka client properties are built from configuration. Producers are idempotent with
 * acks=all: a record Kafka acknowledged is on every in-sync replica, and a retried send is never
 * written twice.
 */
public final class KafkaClientProperties {
  private KafkaClientProperties() {}

  /** Properties for an admin client. */
  public static Properties admin(KafkaConfig kafka, String clientId) {
    return toProperties(base(kafka, clientId));
  }

  /** Properties for a durable producer of byte-array keys and values. */
  public static Properties producer(KafkaConfig kafka, String clientId) {
    Map<String, String> properties = base(kafka, clientId);
    properties.put("acks", "all");
    properties.put("enable.idempotence", "true");
    properties.put("max.in.flight.requests.per.connection", "5");
    properties.put("compression.type", "lz4");
    properties.put("linger.ms", "5");
    properties.put("key.serializer", "org.apache.kafka.common.serialization.ByteArraySerializer");
    properties.put("value.serializer", "org.apache.kafka.common.serialization.ByteArraySerializer");
    return toProperties(properties);
  }

  /** Properties for a consumer of byte-array keys and values that commits nothing by itself. */
  public static Properties consumer(KafkaConfig kafka, String clientId, String groupId) {
    Map<String, String> properties = base(kafka, clientId);
    properties.put("group.id", requireNonNull(groupId, "groupId is null"));
    properties.put("enable.auto.commit", "false");
    properties.put("auto.offset.reset", "earliest");
    properties.put("isolation.level", "read_committed");
    properties.put(
        "key.deserializer", "org.apache.kafka.common.serialization.ByteArrayDeserializer");
    properties.put(
        "value.deserializer", "org.apache.kafka.common.serialization.ByteArrayDeserializer");
    return toProperties(properties);
  }

  /**
   * Options for Spark's Kafka source and sink: the same settings, each prefixed with {@code kafka.}
   * as Spark expects.
   */
  public static Map<String, String> sparkOptions(KafkaConfig kafka) {
    Map<String, String> options = new LinkedHashMap<>();
    options.put("kafka.bootstrap.servers", kafka.bootstrapServers());
    kafka.clientProperties().forEach((key, value) -> options.put("kafka." + key, value));
    return Map.copyOf(options);
  }

  private static Map<String, String> base(KafkaConfig kafka, String clientId) {
    requireNonNull(kafka, "kafka is null");
    Map<String, String> properties = new LinkedHashMap<>(kafka.clientProperties());
    properties.put("bootstrap.servers", kafka.bootstrapServers());
    properties.put("client.id", requireNonNull(clientId, "clientId is null"));
    return properties;
  }

  private static Properties toProperties(Map<String, String> map) {
    Properties properties = new Properties();
    properties.putAll(map);
    return properties;
  }
}
