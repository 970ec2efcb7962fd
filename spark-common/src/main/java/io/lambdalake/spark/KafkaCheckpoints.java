package io.lambdalake.spark;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lambdalake.common.config.KafkaConfig;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.common.kafka.KafkaClientProperties;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.apache.spark.sql.SparkSession;

/**
 * Checks, before a Kafka stream starts, that its checkpoint has not read further than Kafka holds.
 * That happens when Kafka's data is reset (a new broker, a wiped data folder) while the lake's
 * storage and checkpoints are kept: Spark would then stop with "data may have been lost". This
 * check says which topic is behind, why, and what to do.
 */
public final class KafkaCheckpoints {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long KAFKA_TIMEOUT_SECONDS = 30;

  private KafkaCheckpoints() {}

  /** A topic partition whose checkpointed offset is past the end of what Kafka holds. */
  public record Gap(String topic, int partition, long checkpointOffset, long kafkaEndOffset) {
    public Gap {
      requireNonNull(topic, "topic is null");
    }

    @Override
    public String toString() {
      return topic
          + " partition "
          + partition
          + " (checkpoint at offset "
          + checkpointOffset
          + ", Kafka ends at "
          + kafkaEndOffset
          + ")";
    }
  }

  /**
   * Fails with {@link ErrorCode#CHECKPOINT_AHEAD_OF_SOURCE} when the checkpoint of the named query
   * has read further than Kafka now holds; does nothing for a checkpoint that does not exist yet.
   */
  public static void requireWithinKafka(
      SparkSession spark, String checkpointLocation, KafkaConfig kafka, String queryName) {
    requireNonNull(spark, "spark is null");
    List<Gap> gaps = gaps(spark.sessionState().newHadoopConf(), checkpointLocation, kafka);
    if (gaps.isEmpty()) {
      return;
    }
    throw new LakeException(
        ErrorCode.CHECKPOINT_AHEAD_OF_SOURCE,
        "The "
            + queryName
            + " checkpoint has read further than Kafka holds: "
            + gaps.stream().limit(3).map(Gap::toString).collect(Collectors.joining("; "))
            + (gaps.size() > 3 ? "; and " + (gaps.size() - 3) + " more" : "")
            + ". Kafka's data was reset while the lake's storage was kept. Start the local lake"
            + " afresh with `scripts/stack reset --yes`, or, to keep the tables and read what"
            + " Kafka holds now, run the stream once with `--reset-from earliest` (it discards"
            + " the checkpoint "
            + checkpointLocation
            + "; the tables skip the records they already hold)");
  }

  /** The partitions the checkpoint has read further than Kafka holds, in checkpoint order. */
  public static List<Gap> gaps(Configuration hadoop, String checkpointLocation, KafkaConfig kafka) {
    requireNonNull(hadoop, "hadoop is null");
    requireNonNull(kafka, "kafka is null");
    Map<TopicPartition, Long> checkpointed = lastOffsets(hadoop, checkpointLocation);
    if (checkpointed.isEmpty()) {
      return List.of();
    }
    Map<TopicPartition, Long> ends = endOffsets(kafka, checkpointed.keySet());
    List<Gap> gaps = new ArrayList<>();
    checkpointed.forEach(
        (partition, offset) -> {
          long end = ends.getOrDefault(partition, 0L);
          if (offset > end) {
            gaps.add(new Gap(partition.topic(), partition.partition(), offset, end));
          }
        });
    return List.copyOf(gaps);
  }

  /**
   * The Kafka offsets of the newest batch in a Structured Streaming checkpoint: its offset log
   * ({@code offsets/<batch id>}) holds a version line, a metadata line, then one line per source; a
   * Kafka source's line maps topic to partition to the next offset to read.
   */
  public static Map<TopicPartition, Long> lastOffsets(
      Configuration hadoop, String checkpointLocation) {
    requireNonNull(checkpointLocation, "checkpointLocation is null");
    Path offsets = new Path(checkpointLocation, "offsets");
    try {
      FileSystem fileSystem = offsets.getFileSystem(hadoop);
      if (!fileSystem.exists(offsets)) {
        return Map.of();
      }
      OptionalLong newest = OptionalLong.empty();
      for (FileStatus status : fileSystem.listStatus(offsets)) {
        Optional<Long> batch = batchId(status.getPath().getName());
        if (batch.isPresent() && (newest.isEmpty() || batch.get() > newest.getAsLong())) {
          newest = OptionalLong.of(batch.get());
        }
      }
      if (newest.isEmpty()) {
        return Map.of();
      }
      return batchOffsets(hadoop, checkpointLocation, newest.getAsLong());
    } catch (IOException e) {
      throw new LakeException(
          ErrorCode.SERVER_NOT_AVAILABLE,
          "Cannot read the streaming checkpoint at " + checkpointLocation + ": " + e.getMessage(),
          e);
    }
  }

  /**
   * The Kafka end offsets of one batch of a checkpoint (from {@code offsets/<batch id>}, which
   * Spark writes before it runs the batch): per partition, the next offset to read after the batch.
   */
  public static Map<TopicPartition, Long> batchOffsets(
      Configuration hadoop, String checkpointLocation, long batchId) {
    requireNonNull(hadoop, "hadoop is null");
    requireNonNull(checkpointLocation, "checkpointLocation is null");
    Path file = new Path(new Path(checkpointLocation, "offsets"), Long.toString(batchId));
    try (InputStream in = file.getFileSystem(hadoop).open(file)) {
      return kafkaOffsets(new String(in.readAllBytes(), UTF_8));
    } catch (IOException e) {
      throw new LakeException(
          ErrorCode.SERVER_NOT_AVAILABLE,
          "Cannot read the offsets of batch "
              + batchId
              + " in the streaming checkpoint at "
              + checkpointLocation
              + ": "
              + e.getMessage(),
          e);
    }
  }

  /** The Kafka offsets in one offset-log file's text; other sources' lines are skipped. */
  static Map<TopicPartition, Long> kafkaOffsets(String offsetLog) {
    Map<TopicPartition, Long> offsets = new LinkedHashMap<>();
    List<String> lines = offsetLog.lines().toList();
    for (String line : lines.subList(Math.min(2, lines.size()), lines.size())) {
      kafkaSourceLine(line).forEach(offsets::put);
    }
    return offsets;
  }

  private static Map<TopicPartition, Long> kafkaSourceLine(String line) {
    JsonNode source;
    try {
      source = JSON.readTree(line);
    } catch (IOException e) {
      return Map.of();
    }
    if (source == null || !source.isObject()) {
      return Map.of();
    }
    Map<TopicPartition, Long> offsets = new LinkedHashMap<>();
    Iterator<Map.Entry<String, JsonNode>> topics = source.fields();
    while (topics.hasNext()) {
      Map.Entry<String, JsonNode> topic = topics.next();
      if (!topic.getValue().isObject()) {
        return Map.of();
      }
      Iterator<Map.Entry<String, JsonNode>> partitions = topic.getValue().fields();
      while (partitions.hasNext()) {
        Map.Entry<String, JsonNode> partition = partitions.next();
        Optional<Long> number = batchId(partition.getKey());
        if (number.isEmpty() || !partition.getValue().canConvertToLong()) {
          return Map.of();
        }
        offsets.put(
            new TopicPartition(topic.getKey(), number.get().intValue()),
            partition.getValue().asLong());
      }
    }
    return offsets;
  }

  private static Optional<Long> batchId(String name) {
    if (name.isEmpty() || name.length() > 18 || !name.chars().allMatch(Character::isDigit)) {
      return Optional.empty();
    }
    return Optional.of(Long.parseLong(name));
  }

  private static Map<TopicPartition, Long> endOffsets(
      KafkaConfig kafka, Set<TopicPartition> partitions) {
    try (Admin admin =
        Admin.create(KafkaClientProperties.admin(kafka, "lambda-lake-checkpoint-check"))) {
      Set<String> existing =
          admin.listTopics().names().get(KAFKA_TIMEOUT_SECONDS, TimeUnit.SECONDS);
      Map<TopicPartition, OffsetSpec> wanted = new LinkedHashMap<>();
      for (TopicPartition partition : partitions) {
        if (existing.contains(partition.topic())) {
          wanted.put(partition, OffsetSpec.latest());
        }
      }
      Map<TopicPartition, Long> ends = new LinkedHashMap<>();
      if (wanted.isEmpty()) {
        return ends;
      }
      // A partition a topic no longer has (fewer partitions after a reset) ends at 0.
      Set<String> described =
          wanted.keySet().stream().map(TopicPartition::topic).collect(Collectors.toSet());
      Map<String, Integer> partitionCounts = new LinkedHashMap<>();
      admin
          .describeTopics(described)
          .allTopicNames()
          .get(KAFKA_TIMEOUT_SECONDS, TimeUnit.SECONDS)
          .forEach(
              (topic, description) -> partitionCounts.put(topic, description.partitions().size()));
      wanted.keySet().removeIf(p -> p.partition() >= partitionCounts.getOrDefault(p.topic(), 0));
      admin
          .listOffsets(wanted)
          .all()
          .get(KAFKA_TIMEOUT_SECONDS, TimeUnit.SECONDS)
          .forEach((partition, info) -> ends.put(partition, info.offset()));
      return ends;
    } catch (ExecutionException | TimeoutException e) {
      throw new LakeException(
          ErrorCode.SERVER_NOT_AVAILABLE,
          "Cannot read the end offsets of Kafka at " + kafka.bootstrapServers() + ": " + e,
          e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new LakeException(
          ErrorCode.INTERNAL_ERROR, "Interrupted while reading Kafka's end offsets", e);
    }
  }
}
