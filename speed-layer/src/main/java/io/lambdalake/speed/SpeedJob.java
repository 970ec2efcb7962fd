package io.lambdalake.speed;

import static java.util.Objects.requireNonNull;

import io.delta.tables.DeltaTable;
import io.lambdalake.common.config.Durations;
import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.common.launch.Launcher;
import io.lambdalake.common.table.LakeTable;
import io.lambdalake.ingestion.landing.EventLanding;
import io.lambdalake.ingestion.landing.LandingStream;
import io.lambdalake.spark.Checkpoints;
import io.lambdalake.spark.DeltaTables;
import io.lambdalake.spark.LakeSpark;
import io.lambdalake.spark.StreamingRun;
import io.lambdalake.spark.views.HourlyViews;
import io.lambdalake.speed.views.SpeedViews;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeoutException;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.apache.spark.sql.streaming.Trigger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The speed layer's streaming job: lands the event topics in raw.events (and raw.quarantine) and
 * keeps the hourly speed views current from it. Locally the three queries share one driver; on a
 * cluster each can run as its own application with {@link Options#queries()}.
 */
public final class SpeedJob {
  private static final Logger LOG = LoggerFactory.getLogger(SpeedJob.class);

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
      Duration progressInterval,
      Optional<LandingStream.ResetFrom> resetFrom) {
    public Options {
      requireNonNull(queries, "queries is null");
      requireNonNull(mode, "mode is null");
      Durations.requirePositive(triggerInterval, "triggerInterval");
      Durations.requirePositive(lateness, "lateness");
      Durations.requirePositive(deduplicationWindow, "deduplicationWindow");
      if (maxRecordsPerBatch < 1) {
        throw new LakeException(
            ErrorCode.INVALID_ARGUMENT,
            "maxRecordsPerBatch must be positive, but is " + maxRecordsPerBatch);
      }
      requireNonNull(botPolicy, "botPolicy is null");
      Durations.requirePositive(progressInterval, "progressInterval");
      requireNonNull(resetFrom, "resetFrom is null");
    }

    /** Options that keep the landing checkpoint. */
    public Options(
        Queries queries,
        Mode mode,
        Duration triggerInterval,
        Duration lateness,
        Duration deduplicationWindow,
        long maxRecordsPerBatch,
        HourlyViews.BotPolicy botPolicy,
        Duration progressInterval) {
      this(
          queries,
          mode,
          triggerInterval,
          lateness,
          deduplicationWindow,
          maxRecordsPerBatch,
          botPolicy,
          progressInterval,
          Optional.empty());
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

    /** These options with a reset of the landing checkpoint. */
    public Options withResetFrom(LandingStream.ResetFrom reset) {
      return new Options(
          queries,
          mode,
          triggerInterval,
          lateness,
          deduplicationWindow,
          maxRecordsPerBatch,
          botPolicy,
          progressInterval,
          Optional.of(reset));
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
          progressInterval,
          resetFrom);
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
      if (DeltaTables.exists(spark, location)) {
        DeltaTable.forPath(spark, location).delete();
      }
      Checkpoints.delete(spark, config.storage().checkpointLocation(view.queryName()));
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
    if (options.queries() == Queries.VIEWS && options.resetFrom().isPresent()) {
      LOG.warn(
          "--reset-from is ignored: it resets the landing stream, which --queries views skips");
    }
    List<StreamingQuery> running = new ArrayList<>();
    long started = System.nanoTime();
    try {
      if (options.queries() != Queries.VIEWS) {
        running.add(startLanding(spark, config, options));
        if (options.mode() == Mode.AVAILABLE_NOW) {
          awaitAll(running, options, progress);
          StreamingRun.stopAll(running);
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
      StreamingRun.stopAll(running);
    }
  }

  private static long landedRows(SparkSession spark, LakeConfig config) {
    String location = LakeTable.RAW_EVENTS.location(config.storage());
    return DeltaTables.exists(spark, location)
        ? spark.read().format("delta").load(location).count()
        : 0;
  }

  private static StreamingQuery startLanding(SparkSession spark, LakeConfig config, Options options)
      throws TimeoutException {
    return LandingStream.start(
        spark,
        config,
        EventLanding.source(config, options.maxRecordsPerBatch(), options.deduplicationWindow()),
        trigger(options),
        options.resetFrom());
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
    new StreamingRun(queries, options.progressInterval(), progress).awaitAll();
  }
}
