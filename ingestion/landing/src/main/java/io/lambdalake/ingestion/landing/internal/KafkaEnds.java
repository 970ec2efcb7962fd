package io.lambdalake.ingestion.landing.internal;

import static java.util.Objects.requireNonNull;

import io.lambdalake.common.config.KafkaConfig;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.common.kafka.KafkaClientProperties;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;

/** Every partition of the Kafka topics a subscribe pattern matches, with its end offset. */
public final class KafkaEnds {
  private static final long TIMEOUT_SECONDS = 30;

  private KafkaEnds() {}

  /** Per partition of every topic whose whole name the pattern matches: its end offset. */
  public static Map<TopicPartition, Long> of(KafkaConfig kafka, String topicPattern) {
    requireNonNull(kafka, "kafka is null");
    Pattern pattern = Pattern.compile(requireNonNull(topicPattern, "topicPattern is null"));
    try (Admin admin = Admin.create(KafkaClientProperties.admin(kafka, "lambda-lake-landing"))) {
      List<String> topics =
          admin.listTopics().names().get(TIMEOUT_SECONDS, TimeUnit.SECONDS).stream()
              .filter(topic -> pattern.matcher(topic).matches())
              .toList();
      Map<TopicPartition, OffsetSpec> wanted = new LinkedHashMap<>();
      if (topics.isEmpty()) {
        return Map.of();
      }
      admin
          .describeTopics(topics)
          .allTopicNames()
          .get(TIMEOUT_SECONDS, TimeUnit.SECONDS)
          .forEach(
              (topic, description) ->
                  description
                      .partitions()
                      .forEach(
                          partition ->
                              wanted.put(
                                  new TopicPartition(topic, partition.partition()),
                                  OffsetSpec.latest())));
      Map<TopicPartition, Long> ends = new LinkedHashMap<>();
      admin
          .listOffsets(wanted)
          .all()
          .get(TIMEOUT_SECONDS, TimeUnit.SECONDS)
          .forEach((partition, info) -> ends.put(partition, info.offset()));
      return ends;
    } catch (ExecutionException | TimeoutException e) {
      throw new LakeException(
          ErrorCode.SERVER_NOT_AVAILABLE,
          "Cannot list the topics of Kafka at " + kafka.bootstrapServers() + ": " + e,
          e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new LakeException(
          ErrorCode.INTERNAL_ERROR, "Interrupted while listing Kafka's topics", e);
    }
  }
}
