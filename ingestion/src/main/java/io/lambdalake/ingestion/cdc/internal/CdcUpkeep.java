package io.lambdalake.ingestion.cdc.internal;

import io.delta.tables.DeltaTable;
import io.lambdalake.spark.DeltaTables;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Table upkeep inside the CDC writer (DESIGN.md, "One writer per table"): every micro-batch adds at
 * least one file to the raw change log and, where it inserts rows, to a mirror; every N batches the
 * writer compacts (Delta OPTIMIZE) the tables it wrote since it last did. Compaction commits change
 * no data (the change feed and Delta streaming readers skip them), and a failed compaction is only
 * logged: the batch has landed, and the table is tried again next time.
 *
 * <p>Which tables were written is kept in memory: after a restart, a table is compacted again once
 * the job writes it again.
 */
public final class CdcUpkeep {
  private static final Logger LOG = LoggerFactory.getLogger(CdcUpkeep.class);

  private final int everyBatches;
  private final Set<String> written = ConcurrentHashMap.newKeySet();

  /**
   * @param everyBatches compacts after every this many batches; 0 never
   */
  public CdcUpkeep(int everyBatches) {
    if (everyBatches < 0) {
      throw new IllegalArgumentException("everyBatches is negative: " + everyBatches);
    }
    this.everyBatches = everyBatches;
  }

  /** Notes that this batch wrote the Delta table at the location. */
  public void wrote(String location) {
    if (everyBatches > 0) {
      written.add(location);
    }
  }

  /**
   * After a batch has landed (positions included): on every N-th batch id, compacts the tables
   * written since the last compaction.
   */
  public void afterBatch(SparkSession spark, long batchId) {
    if (everyBatches == 0 || (batchId + 1) % everyBatches != 0) {
      return;
    }
    for (String location : List.copyOf(written)) {
      long started = System.nanoTime();
      spark.sparkContext().setJobDescription("cdc batch " + batchId + ": compact " + location);
      try {
        // A mirror whose changes all went to the quarantine was never created.
        if (DeltaTables.exists(spark, location)) {
          DeltaTable.forPath(spark, location).optimize().executeCompaction();
        }
        written.remove(location);
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
}
