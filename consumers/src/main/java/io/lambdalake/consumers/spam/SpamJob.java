package io.lambdalake.consumers.spam;

import static java.util.Objects.requireNonNull;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import io.delta.tables.DeltaTable;
import io.lambdalake.common.config.Durations;
import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.common.launch.Launcher;
import io.lambdalake.common.table.LakeTable;
import io.lambdalake.consumers.SampleMirrors;
import io.lambdalake.spark.DeltaTables;
import io.lambdalake.spark.LakeSpark;
import java.io.PrintStream;
import java.time.Duration;
import java.util.concurrent.TimeoutException;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.apache.spark.sql.streaming.StreamingQueryException;
import org.apache.spark.sql.streaming.Trigger;

/**
 * {@code lake spam}: reads the change data feed of the sample application's interests, messages and
 * reports mirrors as a stream, evaluates {@link SpamRules} for the profiles each micro-batch
 * touched, adds new flags to consumers.spam_flags (a MERGE on the deterministic flag ID) and
 * publishes them to Kafka exactly once in effect ({@link FlagPublisher}).
 */
public final class SpamJob {
  public static final String QUERY_NAME = "spam-detection";

  private SpamJob() {}

  public enum Mode {
    CONTINUOUS,
    AVAILABLE_NOW
  }

  public record Options(Mode mode, Duration trigger, Duration progressInterval) {
    public Options {
      requireNonNull(mode, "mode is null");
      Durations.requirePositive(trigger, "trigger");
      Durations.requirePositive(progressInterval, "progressInterval");
    }
  }

  /** For spark-submit and tests that kill the job: the same arguments as {@code lake spam}. */
  public static void main(String[] arguments) {
    System.exit(Launcher.run(new SpamCommand(), arguments));
  }

  static void runWithOwnSession(LakeConfig config, Options options) {
    run(LakeSpark.session(config, "lambda-lake-spam"), config, options, System.out);
  }

  /** Runs until stopped, or in AVAILABLE_NOW over the changes there are now. */
  public static void run(
      SparkSession spark, LakeConfig config, Options options, PrintStream progress) {
    requireNonNull(spark, "spark is null");
    requireNonNull(config, "config is null");
    requireNonNull(options, "options is null");
    SampleMirrors mirrors = SampleMirrors.of(config);
    Dataset<Row> touched = null;
    for (SpamRules.Source source : SpamRules.Source.values()) {
      Dataset<Row> changes = touched(spark, mirrors, source);
      touched = touched == null ? changes : touched.unionByName(changes);
    }
    mirrors.require(spark, "profiles");
    SpamRules rules = new SpamRules(spark, mirrors, config.consumers().spam());
    try (FlagPublisher publisher = new FlagPublisher(spark, config, progress)) {
      // Flags a killed predecessor recorded but did not publish go first.
      int recovered = publisher.publishPending();
      if (recovered > 0) {
        progress.printf("spam: published %d pending flags after a restart%n", recovered);
      }
      String flags = DeltaTables.ensure(spark, config, LakeTable.CONSUMERS_SPAM_FLAGS);
      StreamingQuery query =
          touched
              .writeStream()
              .queryName(QUERY_NAME)
              .option("checkpointLocation", config.storage().checkpointLocation(QUERY_NAME))
              .trigger(
                  options.mode() == Mode.AVAILABLE_NOW
                      ? Trigger.AvailableNow()
                      : Trigger.ProcessingTime(options.trigger().toMillis()))
              .foreachBatch(
                  (Dataset<Row> batch, Long batchId) -> {
                    long started = System.nanoTime();
                    // Each rule reads the batch: read its files once.
                    Dataset<Row> changes = batch.persist();
                    Dataset<Row> found = rules.flags(changes, batchId).cache();
                    try {
                      DeltaTable.forPath(spark, flags)
                          .as("t")
                          .merge(found.as("s"), "t.flag_id = s.flag_id")
                          .whenNotMatched()
                          .insertAll()
                          .execute();
                    } finally {
                      found.unpersist();
                      changes.unpersist();
                    }
                    int published = publisher.publishPending();
                    progress.printf(
                        "spam: batch %d done in %d ms, %d new flags published%n",
                        batchId, (System.nanoTime() - started) / 1_000_000, published);
                    progress.flush();
                  })
              .start();
      progress.printf("spam: started, flags to %s%n", config.consumers().spam().topic());
      progress.flush();
      awaitEnd(query, options);
    } catch (TimeoutException e) {
      throw new LakeException(
          ErrorCode.STREAMING_QUERY_FAILED, "The spam query did not start: " + e.getMessage(), e);
    }
  }

  private static void awaitEnd(StreamingQuery query, Options options) throws TimeoutException {
    try {
      while (query.isActive()) {
        query.awaitTermination(options.progressInterval().toMillis());
      }
      if (query.exception().isDefined()) {
        throw query.exception().get();
      }
    } catch (StreamingQueryException e) {
      throw new LakeException(
          ErrorCode.STREAMING_QUERY_FAILED, "The spam query failed: " + rootMessage(e), e);
    } finally {
      query.stop();
    }
  }

  /** What one mirror's change feed touched: (source, profile_id, created_at). */
  private static Dataset<Row> touched(
      SparkSession spark, SampleMirrors mirrors, SpamRules.Source source) {
    return spark
        .readStream()
        .format("delta")
        .option("readChangeFeed", "true")
        .load(mirrors.require(spark, source.table()))
        .filter(col("_change_type").isin("insert", "update_postimage"))
        .select(
            lit(source.table()).as("source"),
            col(source.actorColumn()).cast("long").as("profile_id"),
            col("created_at").cast("timestamp").as("created_at"));
  }

  private static String rootMessage(Throwable error) {
    Throwable root = error;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String message = root.getMessage() == null ? root.getClass().getName() : root.getMessage();
    return message.lines().findFirst().orElse(message);
  }
}
