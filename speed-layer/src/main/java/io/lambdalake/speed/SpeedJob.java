package io.lambdalake.speed;

import static java.util.Objects.requireNonNull;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.common.launch.Launcher;
import io.lambdalake.ingestion.landing.EventLanding;
import io.lambdalake.spark.KafkaCheckpoints;
import io.lambdalake.spark.LakeSpark;
import io.lambdalake.spark.views.HourlyViews;
import io.lambdalake.speed.views.SpeedViews;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeoutException;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.apache.spark.sql.streaming.StreamingQueryException;
import org.apache.spark.sql.streaming.StreamingQueryProgress;
import org.apache.spark.sql.streaming.Trigger;

/**
 * The speed layer's streaming job: lands the event topics in raw.events (and raw.quarantine) and
 * keeps the hourly speed views current from it. Locally the three queries share one driver; on a
 * cluster each can run as its own application with {@link Options#queries()}.
 */
public final class SpeedJob {
  private SpeedJob() {}

  /** Which streaming queries the job runs. */
  public enum Queries {
    ALL,
    LANDING,
    VIEWS
  }

  /** How the queries are triggered: continuously, or once over what is there and then stop. */
  public enum Mode {
    CONTINUOUS,
    AVAILABLE_NOW
  }

  public record Options(
      Queries queries,
      Mode mode,
      Duration triggerInterval,
      Duration lateness,
      Duration deduplicationWindow,
      long maxRecordsPerBatch,
      HourlyViews.BotPolicy botPolicy,
      Duration progressInterval) {
    public Options {
      requireNonNull(queries, "queries is null");
      requireNonNull(mode, "mode is null");
      requirePositive(triggerInterval, "triggerInterval");
      requirePositive(lateness, "lateness");
      requirePositive(deduplicationWindow, "deduplicationWindow");
      if (maxRecordsPerBatch < 1) {
        throw new LakeException(
            ErrorCode.INVALID_ARGUMENT,
            "maxRecordsPerBatch must be positive, but is " + maxRecordsPerBatch);
      }
      requireNonNull(botPolicy, "botPolicy is null");
      requirePositive(progressInterval, "progressInterval");
    }

    public static Options defaults() {
      return new Options(
          Queries.ALL,
          Mode.CONTINUOUS,
          Duration.ofSeconds(5),
          Duration.ofHours(2),
          Duration.ofHours(1),
          200_000,
          HourlyViews.BotPolicy.EXCLUDE_BOTS,
          Duration.ofSeconds(10));
    }

    public Options withMode(Mode newMode) {
      return with(queries, newMode);
    }

    public Options withQueries(Queries newQueries) {
      return with(newQueries, mode);
    }

    private Options with(Queries newQueries, Mode newMode) {
      return new Options(
          newQueries,
          newMode,
          triggerInterval,
          lateness,
          deduplicationWindow,
          maxRecordsPerBatch,
          botPolicy,
          progressInterval);
    }

    private static void requirePositive(Duration duration, String name) {
      requireNonNull(duration, name + " is null");
      if (duration.isNegative() || duration.isZero()) {
        throw new LakeException(
            ErrorCode.INVALID_ARGUMENT, name + " must be positive, but is " + duration);
      }
    }
  }

  /** For spark-submit: the same arguments as {@code lake speed}. */
  public static void main(String[] arguments) {
    System.exit(Launcher.run(new SpeedCommand(), arguments));
  }

  /** Whether a run carries on from the views' checkpoints or recomputes them from raw.events. */
  public enum Views {
    CONTINUE,
    REBUILD
  }

  /** Builds the session from configuration and runs the job until it ends. */
  static void runWithOwnSession(LakeConfig config, Options options, Views views) {
    SparkSession spark = LakeSpark.session(config, "lambda-lake-speed");
    if (views == Views.REBUILD) {
      rebuildViews(spark, config, System.out);
    }
    run(spark, config, options, System.out);
  }

  /**
   * Makes the next run recompute every speed view from raw.events: empties each view's table in one
   * Delta commit (its log goes on, so Trino and readers follow) and deletes its checkpoint. The
   * streaming aggregation drops events later than its lateness; this is how they are counted before
   * the batch layer covers their hour, and how a change of the views' logic is rolled out. The
   * speed job, the views' one writer, must not be running meanwhile.
   */
  public static void rebuildViews(SparkSession spark, LakeConfig config, PrintStream progress) {
    requireNonNull(spark, "spark is null");
    requireNonNull(config, "config is null");
    for (SpeedViews.View view : SpeedViews.View.values()) {
      String location = view.table().location(config.storage());
      if (io.lambdalake.spark.DeltaTables.exists(spark, location)) {
        io.delta.tables.DeltaTable.forPath(spark, location).delete();
      }
      io.lambdalake.spark.Checkpoints.delete(
          spark, config.storage().checkpointLocation(view.queryName()));
      progress.printf("%-20s emptied; recomputed from raw.events by this run%n", view.queryName());
    }
    progress.flush();
  }

  /**
   * Runs the job: in {@link Mode#AVAILABLE_NOW}, landing over everything in Kafka, then the views
   * over everything landed, and returns; else all queries until one fails or the JVM stops.
   */
  public static void run(
      SparkSession spark, LakeConfig config, Options options, PrintStream progress) {
    requireNonNull(spark, "spark is null");
    requireNonNull(config, "config is null");
    requireNonNull(options, "options is null");
    List<StreamingQuery> running = new ArrayList<>();
    long started = System.nanoTime();
    try {
      if (options.queries() != Queries.VIEWS) {
        running.add(startLanding(spark, config, options));
        if (options.mode() == Mode.AVAILABLE_NOW) {
          awaitAll(running, options, progress);
          running.clear();
        }
      }
      if (options.queries() != Queries.LANDING) {
        for (SpeedViews.View view : SpeedViews.View.values()) {
          running.add(startView(spark, config, options, view));
        }
      }
      awaitAll(running, options, progress);
      if (options.mode() == Mode.AVAILABLE_NOW) {
        progress.printf(
            "speed job: queries=%s landed=%d seconds=%.1f%n",
            options.queries(), landedRows(spark, config), (System.nanoTime() - started) / 1e9);
        progress.flush();
      }
    } catch (TimeoutException e) {
      throw new LakeException(
          ErrorCode.STREAMING_QUERY_FAILED,
          "A streaming query did not start: " + e.getMessage(),
          e);
    } finally {
      for (StreamingQuery query : running) {
        stopQuietly(query);
      }
    }
  }

  private static long landedRows(SparkSession spark, LakeConfig config) {
    String location = io.lambdalake.common.table.LakeTable.RAW_EVENTS.location(config.storage());
    return io.lambdalake.spark.DeltaTables.exists(spark, location)
        ? spark.read().format("delta").load(location).count()
        : 0;
  }

  private static StreamingQuery startLanding(SparkSession spark, LakeConfig config, Options options)
      throws TimeoutException {
    String checkpoint = config.storage().checkpointLocation(EventLanding.QUERY_NAME);
    KafkaCheckpoints.requireWithinKafka(spark, checkpoint, config.kafka(), EventLanding.QUERY_NAME);
    return EventLanding.stream(
            spark, config, options.maxRecordsPerBatch(), options.deduplicationWindow())
        .writeStream()
        .queryName(EventLanding.QUERY_NAME)
        .option("checkpointLocation", checkpoint)
        .trigger(trigger(options))
        .foreachBatch(EventLanding.writer(config, checkpoint))
        .start();
  }

  private static StreamingQuery startView(
      SparkSession spark, LakeConfig config, Options options, SpeedViews.View view)
      throws TimeoutException {
    return SpeedViews.stream(spark, config, view, options.botPolicy(), options.lateness(), 1000)
        .writeStream()
        .queryName(view.queryName())
        .outputMode("update")
        .option("checkpointLocation", config.storage().checkpointLocation(view.queryName()))
        .trigger(trigger(options))
        .foreachBatch(SpeedViews.writer(config, view))
        .start();
  }

  private static Trigger trigger(Options options) {
    return switch (options.mode()) {
      case CONTINUOUS -> Trigger.ProcessingTime(options.triggerInterval().toMillis());
      case AVAILABLE_NOW -> Trigger.AvailableNow();
    };
  }

  private static void awaitAll(
      List<StreamingQuery> queries, Options options, PrintStream progress) {
    try {
      while (true) {
        boolean allStopped = true;
        for (StreamingQuery query : queries) {
          if (query.exception().isDefined()) {
            throw failure(query, query.exception().get());
          }
          allStopped &= !query.isActive();
        }
        if (allStopped) {
          for (StreamingQuery query : queries) {
            report(query, progress);
          }
          return;
        }
        spark(queries).streams().awaitAnyTermination(options.progressInterval().toMillis());
        spark(queries).streams().resetTerminated();
        for (StreamingQuery query : queries) {
          report(query, progress);
        }
      }
    } catch (StreamingQueryException e) {
      throw new LakeException(
          ErrorCode.STREAMING_QUERY_FAILED, "A streaming query failed: " + rootMessage(e), e);
    }
  }

  private static SparkSession spark(List<StreamingQuery> queries) {
    return queries.get(0).sparkSession();
  }

  private static LakeException failure(StreamingQuery query, StreamingQueryException exception) {
    return new LakeException(
        ErrorCode.STREAMING_QUERY_FAILED,
        "Streaming query " + query.name() + " failed: " + rootMessage(exception),
        exception);
  }

  private static String rootMessage(Throwable error) {
    Throwable root = error;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String message = root.getMessage() == null ? root.getClass().getName() : root.getMessage();
    return message.lines().findFirst().orElse(message);
  }

  /** The last batch reported per query, so each batch's line is printed once. */
  private static final java.util.Map<java.util.UUID, Long> REPORTED =
      new java.util.concurrent.ConcurrentHashMap<>();

  private static void report(StreamingQuery query, PrintStream progress) {
    long reported = REPORTED.getOrDefault(query.runId(), -1L);
    for (StreamingQueryProgress batch : query.recentProgress()) {
      if (batch.batchId() <= reported
          || batch.numInputRows() == 0 && batch.batchId() > 0 && reported >= 0) {
        continue;
      }
      java.util.Map<String, Long> durations = batch.durationMs();
      progress.printf(
          "%-20s batch %6d  %9d rows  %10.0f rows/s  (batch %d ms, writing %d ms)%n",
          query.name(),
          batch.batchId(),
          batch.numInputRows(),
          batch.processedRowsPerSecond(),
          durations.getOrDefault("triggerExecution", 0L),
          durations.getOrDefault("addBatch", 0L));
      reported = Math.max(reported, batch.batchId());
    }
    REPORTED.put(query.runId(), reported);
    progress.flush();
  }

  private static void stopQuietly(StreamingQuery query) {
    try {
      query.stop();
    } catch (TimeoutException e) {
      // Stopping on the way out: the checkpoint keeps what committed.
    }
  }
}
