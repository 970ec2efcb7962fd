package io.lambdalake.speed;

import static java.util.Objects.requireNonNull;

import io.lambdalake.common.config.Durations;
import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.common.launch.Launcher;
import io.lambdalake.common.table.LakeTable;
import io.lambdalake.ingestion.landing.EventLanding;
import io.lambdalake.ingestion.landing.LandingStream;
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

/**
 * The speed layer's streaming job: lands the event topics in raw.events (and raw.quarantine) and
 * keeps the hourly speed views current in the same pass: each landing micro-batch merges the events
 * it appended into the views ({@link SpeedViews}). With {@link Queries#LANDING} it lands only; the
 * next run with the views recomputes them from raw.events before its first batch.
 */
public final class SpeedJob {
  private SpeedJob() {}

  /** What the job keeps current: raw and the speed views, or raw only. */
  public enum Queries {
    ALL,
    LANDING
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
      Duration deduplicationWindow,
      long maxRecordsPerBatch,
      HourlyViews.BotPolicy botPolicy,
      Duration progressInterval,
      Optional<LandingStream.ResetFrom> resetFrom) {
    public Options {
      requireNonNull(queries, "queries is null");
      requireNonNull(mode, "mode is null");
      Durations.requirePositive(triggerInterval, "triggerInterval");
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
        Duration deduplicationWindow,
        long maxRecordsPerBatch,
        HourlyViews.BotPolicy botPolicy,
        Duration progressInterval) {
      this(
          queries,
          mode,
          triggerInterval,
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

  /** Whether a run carries on with the speed views or first recomputes them from raw.events. */
  public enum Views {
    CONTINUE,
    REBUILD
  }

  /** Builds the session from configuration and runs the job until it ends. */
  static void runWithOwnSession(LakeConfig config, Options options, Views views) {
    SparkSession spark = LakeSpark.session(config, "lambda-lake-speed");
    if (views == Views.REBUILD) {
      rebuildViews(spark, config, options.botPolicy(), System.out);
    }
    run(spark, config, options, System.out);
  }

  /**
   * Recomputes every speed view from raw.events now (hours the batch layer does not cover yet),
   * after a change of the views' logic. The speed job, the views' one writer, must not be running
   * meanwhile.
   */
  public static void rebuildViews(
      SparkSession spark,
      LakeConfig config,
      HourlyViews.BotPolicy botPolicy,
      PrintStream progress) {
    requireNonNull(spark, "spark is null");
    requireNonNull(config, "config is null");
    SpeedViews.rebuild(spark, config, botPolicy, progress);
  }

  /**
   * Runs the job: in {@link Mode#AVAILABLE_NOW} over everything in Kafka, and returns; else until
   * the query fails or the JVM stops.
   */
  public static void run(
      SparkSession spark, LakeConfig config, Options options, PrintStream progress) {
    requireNonNull(spark, "spark is null");
    requireNonNull(config, "config is null");
    requireNonNull(options, "options is null");
    List<StreamingQuery> running = new ArrayList<>();
    long started = System.nanoTime();
    try {
      running.add(startLanding(spark, config, options));
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
    LandingStream.Source source =
        switch (options.queries()) {
          case ALL ->
              EventLanding.source(
                  config,
                  options.maxRecordsPerBatch(),
                  options.deduplicationWindow(),
                  SpeedViews.downstream(config, options.botPolicy()));
          case LANDING ->
              EventLanding.source(
                  config, options.maxRecordsPerBatch(), options.deduplicationWindow());
        };
    return LandingStream.start(spark, config, source, trigger(options), options.resetFrom());
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
