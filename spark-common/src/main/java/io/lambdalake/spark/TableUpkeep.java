package io.lambdalake.spark;

import io.delta.tables.DeltaTable;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.SparkThrowable;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Table upkeep inside a streaming writer (docs/design.md, "One writer per table"): every
 * micro-batch adds at least one file to each Delta table it writes (the CDC change log and mirrors,
 * raw.events, the speed views), so a steady stream of small batches would leave a small file per
 * batch. Once the writer has written a table in N micro-batches since it last compacted it, it
 * compacts it (Delta OPTIMIZE) after the batch, at most one table per batch, so that no batch pays
 * for compacting every table at once, and then vacuums it: the files that compactions and MERGEs
 * removed longer ago than the table's {@code delta.deletedFileRetentionDuration} (Delta's default,
 * 7 days: time travel, the change feed and streaming readers that far behind keep working) are
 * deleted from storage. Compaction commits change no data (the change feed and Delta streaming
 * readers skip them). A failed compaction or vacuum is only logged: the batch has landed; the
 * compaction is tried again after the next batch, the vacuum after the next compaction.
 *
 * <p>The counts are kept in memory: after a restart, a table is compacted once the job has written
 * it in N more batches.
 */
public final class TableUpkeep {
  private static final Logger LOG = LoggerFactory.getLogger(TableUpkeep.class);

  private static final Duration FULL_VACUUM_EVERY = Duration.ofDays(1);

  private final String job;
  private final int everyBatches;
  private final Map<String, Integer> batchesSinceCompaction = new ConcurrentHashMap<>();
  private final Map<String, Instant> lastFullVacuum = new ConcurrentHashMap<>();

  /**
   * @param job names the writer in Spark's job descriptions, e.g. {@code cdc}
   * @param everyBatches compacts a table once written in this many batches; 0 never
   */
  public TableUpkeep(String job, int everyBatches) {
    if (everyBatches < 0) {
      throw new IllegalArgumentException("everyBatches is negative: " + everyBatches);
    }
    this.job = Objects.requireNonNull(job, "job is null");
    this.everyBatches = everyBatches;
  }

  /** Notes that this batch wrote the Delta table at the location (once per batch and table). */
  public void wrote(String location) {
    if (everyBatches > 0) {
      batchesSinceCompaction.merge(location, 1, Integer::sum);
    }
  }

  /**
   * After a batch has landed (positions included): compacts, then vacuums, the table written in the
   * most batches since its last compaction, if that is at least N.
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
    if (step(
        spark,
        batchId,
        "compact",
        location,
        () -> DeltaTable.forPath(spark, location).optimize().executeCompaction())) {
      batchesSinceCompaction.remove(location);
      // Once per compaction; a vacuum that fails is tried again after the next compaction.
      step(spark, batchId, "vacuum", location, () -> vacuum(spark, location));
    }
  }

  /** Runs one upkeep step on the table, if it exists; whether it did not fail. */
  private boolean step(
      SparkSession spark, long batchId, String verb, String location, Runnable work) {
    spark
        .sparkContext()
        .setJobDescription(job + " batch " + batchId + ": " + verb + " " + location);
    long started = System.nanoTime();
    try {
      // A table the batch did not write in the end (a CDC mirror whose changes all went to the
      // quarantine) may not exist.
      if (DeltaTables.exists(spark, location)) {
        work.run();
        LOG.info(
            "{}: {} {} after batch {}: {} ms",
            job,
            verb,
            location,
            batchId,
            (System.nanoTime() - started) / 1_000_000);
      }
      return true;
    } catch (RuntimeException e) {
      LOG.warn(
          "{}: could not {} {} after batch {}: {}", job, verb, location, batchId, e.getMessage());
      return false;
    } finally {
      spark.sparkContext().setJobDescription(null);
    }
  }

  /**
   * Deletes the files the table's log removed longer ago than its retention (no RETAIN: the table's
   * own retention holds). LITE finds them in the log instead of listing the table's directory on
   * S3, but leaves files no commit names (a write killed before its commit, a failed task's
   * attempt). So the first vacuum of a table after the job starts (a kill is followed by a start),
   * and one a day after that, lists the directory and deletes those too, once older than the
   * retention; so does a vacuum where the log no longer holds every commit since the last one
   * (Delta cleans up commits older than {@code delta.logRetentionDuration}) and Delta refuses LITE.
   */
  private void vacuum(SparkSession spark, String location) {
    String table = "delta.`" + location + "`";
    Instant lastFull = lastFullVacuum.get(location);
    String full;
    if (lastFull == null) {
      full = "its first vacuum since the job started";
    } else if (!lastFull.plus(FULL_VACUUM_EVERY).isAfter(Instant.now())) {
      full = "a day since its last full vacuum";
    } else {
      try {
        spark.sql("VACUUM " + table + " LITE");
        return;
      } catch (RuntimeException e) {
        if (!(e instanceof SparkThrowable thrown)
            || !"DELTA_CANNOT_VACUUM_LITE".equals(thrown.getCondition())) {
          throw e;
        }
        full = e.getMessage();
      }
    }
    LOG.info("Vacuuming {} in full, listing its directory: {}", location, full);
    Instant started = Instant.now();
    spark.sql("VACUUM " + table + " FULL");
    lastFullVacuum.put(location, started);
  }
}
