package io.lambdalake.speed.views;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import io.delta.tables.DeltaTable;
import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.table.LakeTable;
import io.lambdalake.spark.DeltaTables;
import io.lambdalake.spark.TableUpkeep;
import io.lambdalake.spark.views.HourlyViews;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.BiFunction;
import org.apache.spark.api.java.function.VoidFunction2;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;

/**
 * The speed views: the hourly views of {@link HourlyViews}, kept current from the stream of {@code
 * raw.events}. A streaming aggregation per view (event-time windows, a watermark for late events)
 * emits every hour a micro-batch changed, and a MERGE replaces that hour's rows, so replaying a
 * batch after a crash writes the same values again. Each batch also drops the hours that {@code
 * batch.coverage} says the batch layer now covers, and never writes them again.
 */
public final class SpeedViews {
  public static final String LOGIC_VERSION = "speed-1";

  /** One speed view: its table, its key columns and its definition. */
  public enum View {
    EVENTS_HOURLY(
        LakeTable.SPEED_EVENTS_HOURLY,
        "events_hourly",
        List.of("tracking_id", "hour", "event_name"),
        HourlyViews::eventsHourly),
    PAGES_HOURLY(
        LakeTable.SPEED_PAGES_HOURLY,
        "pages_hourly",
        List.of("tracking_id", "hour", "page_url"),
        HourlyViews::pagesHourly);

    private final LakeTable table;
    private final String coverageName;
    private final List<String> keys;
    private final BiFunction<Dataset<Row>, String, Dataset<Row>> definition;

    View(
        LakeTable table,
        String coverageName,
        List<String> keys,
        BiFunction<Dataset<Row>, String, Dataset<Row>> definition) {
      this.table = table;
      this.coverageName = coverageName;
      this.keys = List.copyOf(keys);
      this.definition = definition;
    }

    public LakeTable table() {
      return table;
    }

    public String queryName() {
      return "speed_" + coverageName;
    }
  }

  private SpeedViews() {}

  /** The stream of one view's changed rows, from the stream of raw.events. */
  public static Dataset<Row> stream(
      SparkSession spark,
      LakeConfig config,
      View view,
      HourlyViews.BotPolicy botPolicy,
      Duration lateness,
      long maxFilesPerBatch) {
    DeltaTables.ensure(spark, config, LakeTable.RAW_EVENTS);
    Dataset<Row> events =
        spark
            .readStream()
            .format("delta")
            .option("maxFilesPerTrigger", maxFilesPerBatch)
            .load(LakeTable.RAW_EVENTS.location(config.storage()));
    Dataset<Row> counted =
        HourlyViews.countedEvents(events, botPolicy)
            .withWatermark("event_time", lateness.toMillis() + " milliseconds");
    return view.definition.apply(counted, LOGIC_VERSION);
  }

  /**
   * Merges each micro-batch of changed hours into the view's table; then table upkeep ({@code
   * lake.speed.compact-every-batches}). Each call makes a new writer with its own state, so a job
   * owns what its queries remember between batches, and two jobs in one JVM share nothing.
   */
  public static VoidFunction2<Dataset<Row>, Long> writer(LakeConfig config, View view) {
    return new ViewWriter(config, view);
  }

  /** The foreachBatch function of one view's query, and what it remembers between batches. */
  private static final class ViewWriter implements VoidFunction2<Dataset<Row>, Long> {
    private final LakeConfig config;
    private final View view;
    private final String location;
    private final String condition;
    private final TableUpkeep upkeep;

    /** The coverage up to which this writer already dropped speed hours. */
    private Optional<Timestamp> prunedUntil = Optional.empty();

    ViewWriter(LakeConfig config, View view) {
      this.config = config;
      this.view = view;
      this.location = view.table.location(config.storage());
      this.condition =
          String.join(" AND ", view.keys.stream().map(key -> "t." + key + " = s." + key).toList());
      this.upkeep = new TableUpkeep(view.queryName(), config.speed().compactEveryBatches());
    }

    @Override
    public void call(Dataset<Row> changes, Long batchId) {
      SparkSession spark = changes.sparkSession();
      DeltaTables.ensure(spark, config, view.table);
      DeltaTable target = DeltaTable.forPath(spark, location);
      Optional<Timestamp> coveredUntil = coveredUntil(spark, config, view);
      merge(target, changes, coveredUntil);
      coveredUntil.ifPresent(until -> prune(target, until));
      upkeep.afterBatch(spark, batchId);
    }

    /** Merges the changed hours the batch layer does not cover. */
    private void merge(DeltaTable target, Dataset<Row> changes, Optional<Timestamp> coveredUntil) {
      // The changed hours are computed once (the aggregation's state moves on only once).
      changes.persist(StorageLevel.MEMORY_AND_DISK());
      try {
        Dataset<Row> uncovered =
            coveredUntil.map(until -> changes.filter(col("hour").geq(lit(until)))).orElse(changes);
        if (!uncovered.isEmpty()) {
          target
              .as("t")
              .merge(uncovered.as("s"), condition)
              .whenMatched()
              .updateAll()
              .whenNotMatched()
              .insertAll()
              .execute();
          upkeep.wrote(location);
        }
      } finally {
        changes.unpersist();
      }
    }

    /** Drops the hours before the coverage, once each time the coverage moves. */
    private void prune(DeltaTable target, Timestamp coveredUntil) {
      if (prunedUntil.map(pruned -> pruned.before(coveredUntil)).orElse(true)) {
        target.delete(col("hour").lt(lit(coveredUntil)));
        upkeep.wrote(location);
        prunedUntil = Optional.of(coveredUntil);
      }
    }
  }

  /** Where batch.coverage says the batch layer's authority for this view ends, if it exists. */
  static Optional<Timestamp> coveredUntil(SparkSession spark, LakeConfig config, View view) {
    String location = LakeTable.BATCH_COVERAGE.location(config.storage());
    if (!DeltaTables.exists(spark, location)) {
      return Optional.empty();
    }
    List<Row> rows =
        spark
            .read()
            .format("delta")
            .load(location)
            .filter(col("view").equalTo(view.coverageName))
            .select("covered_until")
            .collectAsList();
    return rows.stream().map(row -> row.getTimestamp(0)).max(Timestamp::compareTo);
  }
}
