package io.lambdalake.ingestion.landing.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LandedBatchTest {
  private static final String QUERY = "04f40722-f5eb-48b2-89da-a87690d5730b";

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

  @Test
  void aCommitWithoutTheBatchsTransactionLandedNothing(@TempDir Path table) throws IOException {
    TopicPartition partition = new TopicPartition("cdc.maxwell.shop.items", 0);
    LandedBatch first = new LandedBatch("cdc-maxwell", QUERY, 0, Map.of(partition, 40L));
    LandedBatch second = new LandedBatch("cdc-maxwell", QUERY, 1, Map.of(partition, 90L));
    // The table created inside batch 1 (the session's userMetadata set), killed before its append.
    commit(table, 0, "WRITE", first, true);
    commit(table, 1, "CREATE OR REPLACE TABLE", second, false);

    assertThat(LandedBatch.newest(new Configuration(), table.toUri().toString(), "cdc-maxwell"))
        .contains(first);
    assertThat(
            LandedBatch.recorded(
                new Configuration(), table.toUri().toString(), "cdc-maxwell", Set.of(partition)))
        .containsExactlyEntriesOf(Map.of(partition, 40L));
  }

  @Test
  void aTableCreatedInABatchKilledBeforeItsAppendHoldsNothing(@TempDir Path table)
      throws IOException {
    LandedBatch batch =
        new LandedBatch(
            "cdc-maxwell", QUERY, 0, Map.of(new TopicPartition("cdc.maxwell.shop.items", 0), 1L));
    commit(table, 0, "CREATE TABLE", batch, false);

    assertThat(LandedBatch.newest(new Configuration(), table.toUri().toString(), "cdc-maxwell"))
        .isEmpty();
  }

  /** A Delta commit file as Delta writes it: commitInfo first, then the batch's txn if any. */
  private static void commit(
      Path table, long version, String operation, LandedBatch batch, boolean withTransaction)
      throws IOException {
    Path log = Files.createDirectories(table.resolve("_delta_log"));
    String metadata = batch.toJson().replace("\\", "\\\\").replace("\"", "\\\"");
    StringBuilder commit =
        new StringBuilder(
            "{\"commitInfo\":{\"timestamp\":1,\"operation\":\""
                + operation
                + "\",\"userMetadata\":\""
                + metadata
                + "\"}}\n");
    if (withTransaction) {
      commit.append(
          "{\"txn\":{\"appId\":\"lambda-lake-"
              + batch.stream()
              + ":"
              + batch.queryId()
              + "\",\"version\":"
              + batch.batchId()
              + ",\"lastUpdated\":1}}\n");
    }
    Files.writeString(log.resolve(String.format("%020d.json", version)), commit);
  }
}
