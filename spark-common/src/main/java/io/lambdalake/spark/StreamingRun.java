package io.lambdalake.spark;

import static java.util.Objects.requireNonNull;

import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import java.io.PrintStream;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.hadoop.util.ShutdownHookManager;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.apache.spark.sql.streaming.StreamingQueryException;
import org.apache.spark.sql.streaming.StreamingQueryProgress;

/**
 * The one run loop of the streaming jobs: waits for their queries, prints a progress line per
 * micro-batch that read something, and fails with the first query's failure.
 *
 * <p>Asked to stop (SIGTERM: a supervisor, {@code kill}, a rolling upgrade), it stops each query
 * between two micro-batches where it can: it waits, up to {@link #STOP_TIMEOUT}, until the query's
 * running batch has committed, then stops it before the next one starts, so the new version of the
 * job starts from a checkpoint with no batch half done. A batch that has not ended by then is
 * interrupted: its offsets are in the checkpoint without its commit, and the next start runs it
 * again with the same data and batch id (exactly once either way; docs/design.md, "Upgrades").
 */
public final class StreamingRun {
  /** How long a stop waits for a running micro-batch to commit before interrupting it. */
  public static final Duration STOP_TIMEOUT = Duration.ofMinutes(2);

  /**
   * Runs before Spark's own shutdown hook (priority 50 for the SparkContext, run inside Hadoop's
   * manager at {@code FileSystem.SHUTDOWN_HOOK_PRIORITY + 30}): the queries stop while Spark and
   * the file systems still work.
   */
  static final int STOP_HOOK_PRIORITY = 100;

  private final List<StreamingQuery> queries;
  private final Duration progressInterval;
  private final PrintStream progress;
  private final Map<UUID, Long> reported = new HashMap<>();

  public StreamingRun(
      List<StreamingQuery> queries, Duration progressInterval, PrintStream progress) {
    this.queries = List.copyOf(queries);
    this.progressInterval = requireNonNull(progressInterval, "progressInterval is null");
    this.progress = requireNonNull(progress, "progress is null");
  }

  /**
   * Waits until every query has stopped (an AvailableNow trigger stops by itself; others run until
   * stopped or failed), reporting progress every interval; returns at once without queries.
   */
  public void awaitAll() {
    if (queries.isEmpty()) {
      return;
    }
    SparkSession spark = queries.get(0).sparkSession();
    CountDownLatch returned = new CountDownLatch(1);
    Runnable stop = () -> stopBetweenBatches(returned);
    ShutdownHookManager.get()
        .addShutdownHook(
            stop, STOP_HOOK_PRIORITY, STOP_TIMEOUT.plusSeconds(30).toSeconds(), TimeUnit.SECONDS);
    try {
      loop(spark);
    } finally {
      returned.countDown();
      if (!ShutdownHookManager.get().isShutdownInProgress()) {
        ShutdownHookManager.get().removeShutdownHook(stop);
      }
    }
  }

  private void loop(SparkSession spark) {
    while (true) {
      boolean active = false;
      for (StreamingQuery query : queries) {
        if (query.exception().isDefined()) {
          throw failure("Streaming query " + query.name(), query.exception().get());
        }
        active |= query.isActive();
        report(query);
      }
      if (!active) {
        return;
      }
      try {
        spark.streams().awaitAnyTermination(progressInterval.toMillis());
      } catch (StreamingQueryException e) {
        // Any query of the session, also one of an earlier run: this run's own failures are
        // read from its queries above.
      }
      spark.streams().resetTerminated();
    }
  }

  /**
   * The stop hook: each query stops once its running micro-batch has committed (or at {@link
   * #STOP_TIMEOUT}); then it waits for the run loop to return, so the job ends as a finished run.
   */
  private void stopBetweenBatches(CountDownLatch returned) {
    progress.printf(
        "Asked to stop: each query stops after its running micro-batch commits (at most %d s)%n",
        STOP_TIMEOUT.toSeconds());
    progress.flush();
    long deadline = System.nanoTime() + STOP_TIMEOUT.toNanos();
    for (StreamingQuery query : queries) {
      boolean between = awaitBetweenBatches(query, deadline);
      long lastBatch = query.lastProgress() == null ? -1 : query.lastProgress().batchId();
      try {
        query.stop();
      } catch (TimeoutException e) {
        // On the way out: the checkpoint keeps what committed.
      }
      progress.printf(
          "%-20s stopped %s (last committed batch %d); start the job again to go on from its"
              + " checkpoint%n",
          query.name(),
          between
              ? "between micro-batches"
              : "in a running micro-batch, which the next start runs again",
          lastBatch);
    }
    progress.flush();
    try {
      returned.await(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Polls until the query runs no micro-batch; false at the deadline. */
  private static boolean awaitBetweenBatches(StreamingQuery query, long deadline) {
    while (query.isActive() && query.status().isTriggerActive()) {
      if (System.nanoTime() > deadline) {
        return false;
      }
      try {
        TimeUnit.MILLISECONDS.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
    return true;
  }

  /** Stops every query; what committed stays in their checkpoints. */
  public static void stopAll(List<StreamingQuery> queries) {
    for (StreamingQuery query : queries) {
      try {
        query.stop();
      } catch (TimeoutException e) {
        // On the way out: the checkpoint keeps what committed.
      }
    }
  }

  private void report(StreamingQuery query) {
    long last = reported.getOrDefault(query.id(), -1L);
    for (StreamingQueryProgress batch : query.recentProgress()) {
      if (batch.batchId() <= last) {
        continue;
      }
      if (batch.numInputRows() > 0) {
        Map<String, Long> durations = batch.durationMs();
        progress.printf(
            "%-20s batch %6d  %9d rows  %10.0f rows/s  (batch %d ms, writing %d ms)%n",
            query.name(),
            batch.batchId(),
            batch.numInputRows(),
            batch.processedRowsPerSecond(),
            durations.getOrDefault("triggerExecution", 0L),
            durations.getOrDefault("addBatch", 0L));
      }
      last = batch.batchId();
    }
    reported.put(query.id(), last);
    progress.flush();
  }

  private static LakeException failure(String query, StreamingQueryException exception) {
    return new LakeException(
        ErrorCode.STREAMING_QUERY_FAILED,
        query
            + " failed: "
            + StoreFailures.s3NotAnswering(exception)
                .map(
                    s3 ->
                        s3
                            + ". Start the job again once S3 answers: it resumes from its"
                            + " checkpoint, and a batch written but not checkpointed is skipped")
                .orElseGet(() -> rootMessage(exception)),
        exception);
  }

  /** The first line of the innermost cause's message. */
  public static String rootMessage(Throwable error) {
    Throwable root = error;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String message = root.getMessage() == null ? root.getClass().getName() : root.getMessage();
    return message.lines().findFirst().orElse(message);
  }
}
