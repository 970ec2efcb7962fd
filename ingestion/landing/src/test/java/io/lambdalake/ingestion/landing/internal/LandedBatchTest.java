package io.lambdalake.ingestion.landing.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class LandedBatchTest {
  @Test
  void theCommitMetadataNamesTheStreamQueryBatchAndEndOffsets() {
    LandedBatch batch =
        new LandedBatch(
            "landing",
            "6f1c0d2e-0000-4000-8000-000000000001",
            7,
            Map.of(
                new TopicPartition("events.page_view", 1), 40L,
                new TopicPartition("events.page_view", 0), 12L,
                new TopicPartition("events.other", 0), 3L));

    assertThat(batch.toJson())
        .isEqualTo(
            "{\"stream\":\"landing\",\"query_id\":\"6f1c0d2e-0000-4000-8000-000000000001\","
                + "\"batch_id\":7,\"offsets\":{\"events.other\":{\"0\":3},"
                + "\"events.page_view\":{\"0\":12,\"1\":40}}}");
    assertThat(LandedBatch.fromJson(batch.toJson())).contains(batch);
  }

  @Test
  void otherMetadataIsNoLandedBatch() {
    assertThat(LandedBatch.fromJson("an operator's note")).isEmpty();
    assertThat(LandedBatch.fromJson("{\"stream\":\"landing\"}")).isEmpty();
    assertThat(LandedBatch.fromJson("[1]")).isEmpty();
  }
}
