package io.lambdalake.ingestion.cdc.internal;

import io.delta.tables.DeltaTable;
import io.lambdalake.spark.DeltaTables;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Table upkeep inside the CDC writer (DESIGN.md, "One writer per table"): every micro-batch adds at
 * least one file to the raw change log and, where it inserts rows, to a mirror. Once the writer has
 * written a table in N micro-batches since it last compacted it, it compacts it (Delta OPTIMIZE)
 * after the batch, at most one table per batch, so that no batch pays for compacting every table at
 * once. Compaction commits change no data (the change feed and Delta streaming readers skip them),
 * and a failed compaction is only logged: the batch has landed, and the table is tried again after
 * the next batch.
 *
 * <p>The counts are kept in memory: after a restart, a table is compacted once the job has written
 * it in N more batches.
 */
public final class CdcUpkeep {
  private static final Logger LOG = LoggerFactory.getLogger(CdcUpkeep.class);

  private final int everyBatches;
  private final Map<String, Integer> batchesSinceCompaction = new ConcurrentHashMap<>();

  /**
   * @param everyBatches compacts a table once written in this many batches; 0 never
   */
  public CdcUpkeep(int everyBatches) {
    if (everyBatches < 0) {
      throw new IllegalArgumentException("everyBatches is negative: " + everyBatches);
    }
    this.everyBatches = everyBatches;
  }

  /** Notes that this batch wrote the Delta table at the location (once per batch and table). */
  public void wrote(String location) {
    if (everyBatches > 0) {
      batchesSinceCompaction.merge(location, 1, Integer::sum);
    }
  }

  /**
   * After a batch has landed (positions included): compacts the table written in the most batches
   * since its last compaction, if that is at least N.
   */
  public void afterBatch(SparkSession spark, long batchId) {
    if (everyBatches == 0) {
      return;
    }
    Optional<Map.Entry<String, Integer>> due =
        batchesSinceCompaction.entrySet().stream()
            .filter(table -> table.getValue() >= everyBatches)
            .max(Map.Entry.comparingByValue());
    if (due.isEmpty()) {
      return;
    }
    String location = due.get().getKey();
    long started = System.nanoTime();
    spark.sparkContext().setJobDescription("cdc batch " + batchId + ": compact " + location);
    try {
      // A mirror whose changes all went to the quarantine was never created.
      if (DeltaTables.exists(spark, location)) {
        DeltaTable.forPath(spark, location).optimize().executeCompaction();
      }
      batchesSinceCompaction.remove(location);
      LOG.info(
          "Compacted {} after batch {} in {} ms",
          location,
          batchId,
          (System.nanoTime() - started) / 1_000_000);
    } catch (RuntimeException e) {
      LOG.warn("Could not compact {} after batch {}: {}", location, batchId, e.getMessage());
    } finally {
      spark.sparkContext().setJobDescription(null);
    }
  }
}
