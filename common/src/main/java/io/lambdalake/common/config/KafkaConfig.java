package io.lambdalake.common.config;

import static io.lambdalake.common.config.Checks.checkNotBlank;

import java.util.Map;

/** Where Kafka is, and extra client properties every client gets (security settings, say). */
public record KafkaConfig(String bootstrapServers, Map<String, String> clientProperties) {
  public KafkaConfig {
    checkNotBlank(bootstrapServers, "lake.kafka.bootstrap-servers");
    clientProperties = Map.copyOf(clientProperties);
  }
}
