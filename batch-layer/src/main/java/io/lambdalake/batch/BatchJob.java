package io.lambdalake.batch;

import static java.util.Objects.requireNonNull;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.sum;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.config.LakeConfigLoader;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.common.table.LakeTable;
import io.lambdalake.spark.DeltaTables;
import io.lambdalake.spark.LakeSpark;
import io.lambdalake.spark.views.HourlyViews;
import java.io.PrintStream;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;

/**
 * The batch layer's recompute: for each day of a range, the hourly views from {@code raw.events}
 * (the same definitions the speed layer applies), checked, then each day replaced atomically; and
 * after every day committed, {@code batch.coverage} advanced in one commit. Recomputing unchanged
 * input gives identical rows ({@code computed_at} is the newest landing time of the day's input).
 */
public final class BatchJob {
  private BatchJob() {}

  public record Options(
      LocalDate from, LocalDate to, String logicVersion, HourlyViews.BotPolicy botPolicy) {
    public Options {
      requireNonNull(from, "from is null");
      requireNonNull(to, "to is null");
      if (to.isBefore(from)) {
        throw new LakeException(
            ErrorCode.INVALID_ARGUMENT, "--to " + to + " is before --from " + from);
      }
      requireNonNull(logicVersion, "logicVersion is null");
      if (logicVersion.isBlank()) {
        throw new LakeException(ErrorCode.INVALID_ARGUMENT, "--logic-version is empty");
      }
      requireNonNull(botPolicy, "botPolicy is null");
    }
  }

  /** One view of the batch layer: its table, its coverage name, its definition. */
  private enum View {
    EVENTS_HOURLY(LakeTable.BATCH_EVENTS_HOURLY, "events_hourly", "events"),
    PAGES_HOURLY(LakeTable.BATCH_PAGES_HOURLY, "pages_hourly", "pageviews");

    private final LakeTable table;
    private final String coverageName;
    private final String countColumn;

    View(LakeTable table, String coverageName, String countColumn) {
      this.table = table;
      this.coverageName = coverageName;
      this.countColumn = countColumn;
    }

    Dataset<Row> compute(Dataset<Row> counted, String logicVersion, Timestamp computedAt) {
      return switch (this) {
        case EVENTS_HOURLY -> HourlyViews.eventsHourly(counted, logicVersion, lit(computedAt));
        case PAGES_HOURLY -> HourlyViews.pagesHourly(counted, logicVersion, lit(computedAt));
      };
    }

    /** How many input events this view must account for. */
    long expected(Dataset<Row> counted) {
      return switch (this) {
        case EVENTS_HOURLY -> counted.count();
        case PAGES_HOURLY ->
            counted
                .filter(
                    col("event_name")
                        .equalTo(HourlyViews.PAGE_VIEW)
                        .and(col("page_url").isNotNull()))
                .count();
      };
    }
  }

  public static void main(String[] arguments) {
    System.exit(BatchCommand.execute(arguments));
  }

  static void runWithOwnSession(Options options) {
    LakeConfig config = LakeConfigLoader.load();
    SparkSession spark = LakeSpark.session(config, "lambda-lake-batch");
    run(spark, config, options, System.out, Clock.systemUTC());
  }

  /**
   * Recomputes the range; throws with one line of reason if any check fails, publishing nothing.
   */
  public static void run(
      SparkSession spark, LakeConfig config, Options options, PrintStream progress, Clock clock) {
    String runId = UUID.randomUUID().toString();
    String rawLocation = DeltaTables.ensure(spark, config, LakeTable.RAW_EVENTS);
    Dataset<Row> raw = spark.read().format("delta").load(rawLocation);
    List<Dataset<Row>> toUnpersist = new ArrayList<>();
    List<Runnable> writes = new ArrayList<>();
    try {
      for (LocalDate day = options.from(); !day.isAfter(options.to()); day = day.plusDays(1)) {
        long started = System.nanoTime();
        Dataset<Row> dayEvents =
            raw.filter(col("event_date").equalTo(lit(java.sql.Date.valueOf(day))));
        Dataset<Row> counted = HourlyViews.countedEvents(dayEvents, options.botPolicy());
        Row newest = dayEvents.agg(max(col("landed_at"))).first();
        Timestamp computedAt =
            newest.isNullAt(0)
                ? Timestamp.from(day.atStartOfDay(ZoneOffset.UTC).toInstant())
                : newest.getTimestamp(0);
        for (View view : View.values()) {
          Dataset<Row> rows =
              view.compute(counted, options.logicVersion(), computedAt)
                  .persist(StorageLevel.MEMORY_AND_DISK());
          toUnpersist.add(rows);
          check(view, day, rows, view.expected(counted));
          String location = DeltaTables.ensure(spark, config, view.table);
          String condition = "event_date = '" + day + "'";
          writes.add(
              () ->
                  rows.write()
                      .format("delta")
                      .mode(SaveMode.Overwrite)
                      .option("replaceWhere", condition)
                      .save(location));
        }
        progress.printf(
            "batch %s: computed and checked in %.1f s%n", day, (System.nanoTime() - started) / 1e9);
        progress.flush();
      }
      // Every day passed its checks: now publish, one atomic replacement per day and view.
      for (Runnable write : writes) {
        write.run();
      }
      progress.printf(
          "batch %s..%s: %d day(s) published%n", options.from(), options.to(), writes.size() / 2);
      advanceCoverage(spark, config, options, raw, runId, clock, progress);
    } finally {
      toUnpersist.forEach(Dataset::unpersist);
    }
  }

  private static void check(View view, LocalDate day, Dataset<Row> rows, long expected) {
    Row totals =
        rows.agg(
                sum(col(view.countColumn)),
                min(col(view.countColumn)),
                sum(col("tracking_id").isNull().cast("int")),
                sum(col("hour").isNull().cast("int")))
            .first();
    long counted = totals.isNullAt(0) ? 0 : totals.getLong(0);
    if (counted != expected) {
      throw qualityFailure(
          view, day, "counts " + counted + " events but raw.events has " + expected);
    }
    if (!totals.isNullAt(1) && totals.getLong(1) < 0) {
      throw qualityFailure(view, day, "has a negative count");
    }
    if ((!totals.isNullAt(2) && totals.getLong(2) > 0)
        || (!totals.isNullAt(3) && totals.getLong(3) > 0)) {
      throw qualityFailure(view, day, "has rows with a null key");
    }
    // raw.events partitions by event_date; an event whose time is on another day is corrupt
    // input, and publishing it would also fail the day's atomic replacement half-way.
    long outside = rows.filter(col("event_date").notEqual(lit(java.sql.Date.valueOf(day)))).count();
    if (outside > 0) {
      throw qualityFailure(
          view,
          day,
          "has "
              + outside
              + " row(s) for hours outside the day: raw.events holds events whose event_time is"
              + " not on their event_date");
    }
  }

  private static LakeException qualityFailure(View view, LocalDate day, String problem) {
    return new LakeException(
        ErrorCode.DATA_QUALITY_FAILED,
        "Quality check failed, nothing published: batch."
            + view.coverageName
            + " for "
            + day
            + " "
            + problem);
  }

  /**
   * Moves covered_until to the end of the range when the range joins the current coverage (or
   * starts at the first day of data), never past the start of today (UTC), and never backwards.
   */
  private static void advanceCoverage(
      SparkSession spark,
      LakeConfig config,
      Options options,
      Dataset<Row> raw,
      String runId,
      Clock clock,
      PrintStream progress) {
    String location = LakeTable.BATCH_COVERAGE.location(config.storage());
    Optional<Timestamp> current = Optional.empty();
    if (DeltaTables.exists(spark, location)) {
      List<Row> rows =
          spark
              .read()
              .format("delta")
              .load(location)
              .filter(col("view").equalTo("events_hourly"))
              .select("covered_until")
              .collectAsList();
      current = rows.stream().map(row -> row.getTimestamp(0)).max(Timestamp::compareTo);
    }
    Instant rangeStart = options.from().atStartOfDay(ZoneOffset.UTC).toInstant();
    Instant joinsAt =
        current
            .map(Timestamp::toInstant)
            .orElseGet(
                () -> {
                  Row first = raw.agg(min(col("event_date"))).first();
                  return first.isNullAt(0)
                      ? rangeStart
                      : first.getDate(0).toLocalDate().atStartOfDay(ZoneOffset.UTC).toInstant();
                });
    Instant startOfToday = LocalDate.now(clock).atStartOfDay(ZoneOffset.UTC).toInstant();
    Instant rangeEnd = options.to().plusDays(1).atStartOfDay(ZoneOffset.UTC).toInstant();
    Instant proposed = rangeEnd.isAfter(startOfToday) ? startOfToday : rangeEnd;
    if (rangeStart.isAfter(joinsAt)) {
      progress.printf(
          "coverage unchanged: the range starts %s, after the covered time ends (%s)%n",
          rangeStart, joinsAt);
      return;
    }
    if (current.isPresent() && !proposed.isAfter(current.get().toInstant())) {
      progress.printf("coverage unchanged at %s%n", current.get().toInstant());
      return;
    }
    Timestamp coveredUntil = Timestamp.from(proposed);
    Timestamp now = Timestamp.from(clock.instant());
    Dataset<Row> rows =
        spark.createDataFrame(
            List.of(
                org.apache.spark.sql.RowFactory.create(
                    "events_hourly", coveredUntil, runId, options.logicVersion(), now),
                org.apache.spark.sql.RowFactory.create(
                    "pages_hourly", coveredUntil, runId, options.logicVersion(), now)),
            org.apache.spark.sql.types.StructType.fromDDL(LakeTable.BATCH_COVERAGE.columns()));
    DeltaTables.ensure(spark, config, LakeTable.BATCH_COVERAGE);
    // One commit replaces both views' rows: readers see the old watermark or the new one.
    rows.write().format("delta").mode(SaveMode.Overwrite).save(location);
    progress.printf("coverage: covered_until %s (run %s)%n", proposed, runId);
    progress.flush();
  }
}
