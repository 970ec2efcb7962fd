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
import java.util.concurrent.TimeoutException;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.apache.spark.sql.streaming.StreamingQueryException;
import org.apache.spark.sql.streaming.StreamingQueryProgress;

/**
 * The one run loop of the streaming jobs: waits for their queries, prints a progress line per
 * micro-batch that read something, and fails with the first query's failure.
 */
public final class StreamingRun {
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
