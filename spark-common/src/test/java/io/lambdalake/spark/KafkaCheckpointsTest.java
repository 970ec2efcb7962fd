package io.lambdalake.spark;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class KafkaCheckpointsTest {
  @Test
  void readsTheKafkaSourceLineOfAnOffsetLog() {
    String log =
        """
        v1
        {"batchWatermarkMs":0,"batchTimestampMs":1764620000000,"conf":{"spark.sql.shuffle.partitions":"2"}}
        {"events.page_view":{"0":1200,"1":1187},"events.other":{"0":7}}
        """;

    assertThat(KafkaCheckpoints.kafkaOffsets(log))
        .containsExactlyInAnyOrderEntriesOf(
            Map.of(
                new TopicPartition("events.page_view", 0), 1200L,
                new TopicPartition("events.page_view", 1), 1187L,
                new TopicPartition("events.other", 0), 7L));
  }

  @Test
  void skipsSourcesThatAreNotKafka() {
    String log =
        """
        v1
        {"batchWatermarkMs":0,"batchTimestampMs":1764620000000,"conf":{}}
        {"sourceVersion":1,"reservoirId":"5f0c","reservoirVersion":12,"index":-1,"isStartingVersion":false}
        -
        {"cdc.maxwell.shop":{"0":42}}
        """;

    assertThat(KafkaCheckpoints.kafkaOffsets(log))
        .containsExactlyInAnyOrderEntriesOf(Map.of(new TopicPartition("cdc.maxwell.shop", 0), 42L));
  }

  @Test
  void anEmptyOrTruncatedLogHasNoOffsets() {
    assertThat(KafkaCheckpoints.kafkaOffsets("")).isEmpty();
    assertThat(KafkaCheckpoints.kafkaOffsets("v1\n{\"batchWatermarkMs\":0}\n{\"t\":{\"0\":"))
        .isEmpty();
  }

  @Test
  void describesAGapWithBothOffsets() {
    assertThat(new KafkaCheckpoints.Gap("events.page_view", 1, 1187, 3))
        .hasToString("events.page_view partition 1 (checkpoint at offset 1187, Kafka ends at 3)");
  }
}
