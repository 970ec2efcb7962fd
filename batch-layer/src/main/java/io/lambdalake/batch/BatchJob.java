package io.lambdalake.batch;

import static java.util.Objects.requireNonNull;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.sum;

import io.delta.tables.DeltaTable;
import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.common.launch.Launcher;
import io.lambdalake.common.table.LakeTable;
import io.lambdalake.spark.DeltaTables;
import io.lambdalake.spark.DirtyHours;
import io.lambdalake.spark.LakeSpark;
import io.lambdalake.spark.Lease;
import io.lambdalake.spark.views.DailyViews;
import io.lambdalake.spark.views.HourlyViews;
import java.io.PrintStream;
import java.sql.Date;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;

/**
 * The batch layer's recompute: for each day of a range, the hourly views from {@code raw.events}
 * (the same definitions the speed layer applies), checked, then each day replaced atomically; and
 * after every day committed, {@code batch.coverage} advanced in one commit. Recomputing unchanged
 * input gives identical rows ({@code computed_at} is the newest landing time of the day's input).
 */
public final class BatchJob {
  /**
   * The lease every writer of batch.* takes (nightly, backfill, `lake batch`): one at a time, see
   * docs/design.md "Leases: one batch writer at a time".
   */
  public static final String LEASE = "batch";

  private BatchJob() {}

  public record Options(
      LocalDate from,
      LocalDate to,
      String logicVersion,
      HourlyViews.BotPolicy botPolicy,
      Scope scope) {
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
      requireNonNull(scope, "scope is null");
    }

    /** The range and the dirty hours, as the nightly runs. */
    public Options(
        LocalDate from, LocalDate to, String logicVersion, HourlyViews.BotPolicy botPolicy) {
      this(from, to, logicVersion, botPolicy, Scope.RANGE_AND_DIRTY_HOURS);
    }

    /** The days to recompute: the range's (unless only the dirty ones) and the dirty ones. */
    List<LocalDate> days(DirtyHours.Result dirty) {
      TreeSet<LocalDate> days = new TreeSet<>(dirty.dirtyDays());
      if (scope == Scope.RANGE_AND_DIRTY_HOURS) {
        days.addAll(from.datesUntil(to.plusDays(1)).toList());
      }
      return List.copyOf(days);
    }
  }

  /** What a run recomputes besides the covered days whose raw input changed (the dirty hours). */
  public enum Scope {
    /** The range, and the dirty hours of the covered days: the nightly. */
    RANGE_AND_DIRTY_HOURS,
    /** Only the dirty hours' days ({@code lake batch --dirty}); the range is not computed. */
    DIRTY_HOURS_ONLY
  }

  /** One view of the batch layer: its table and its definition over a day's input. */
  enum View {
    EVENTS_HOURLY(LakeTable.BATCH_EVENTS_HOURLY),
    PAGES_HOURLY(LakeTable.BATCH_PAGES_HOURLY),
    EVENTS_DAILY(LakeTable.BATCH_EVENTS_DAILY),
    PAGES_DAILY(LakeTable.BATCH_PAGES_DAILY),
    TRAFFIC_DAILY(LakeTable.BATCH_TRAFFIC_DAILY);

    private final LakeTable table;

    View(LakeTable table) {
      this.table = table;
    }

    LakeTable table() {
      return table;
    }

    Dataset<Row> compute(DayInput input, String logicVersion, Column computedAt) {
      return switch (this) {
        case EVENTS_HOURLY -> HourlyViews.eventsHourly(input.counted(), logicVersion, computedAt);
        case PAGES_HOURLY -> HourlyViews.pagesHourly(input.counted(), logicVersion, computedAt);
        case EVENTS_DAILY ->
            DailyViews.eventsDaily(input.sessionized(), input.sessions(), logicVersion, computedAt);
        case PAGES_DAILY ->
            DailyViews.pagesDaily(input.sessionized(), input.sessions(), logicVersion, computedAt);
        case TRAFFIC_DAILY ->
            DailyViews.trafficDaily(
                input.sessionized(), input.sessions(), logicVersion, computedAt);
      };
    }

    /** The totals this view's rows must add up to, by column. */
    Map<String, Long> expectedTotals(DayTotals totals) {
      return switch (this) {
        case EVENTS_HOURLY -> Map.of("events", totals.events());
        case PAGES_HOURLY -> Map.of("pageviews", totals.pageviews());
        case EVENTS_DAILY ->
            Map.of(
                "events",
                totals.events(),
                "pageviews",
                totals.pageviews(),
                "sessions",
                totals.sessions());
        case PAGES_DAILY ->
            Map.of("pageviews", totals.pageviews(), "entrances", totals.entrances());
        case TRAFFIC_DAILY -> Map.of("events", totals.events(), "sessions", totals.sessions());
      };
    }
  }

  /**
   * What a day's views are computed from: the day's counted events, each with its session ({@link
   * DailyViews#sessionized}), and the sessions.
   */
  record DayInput(Dataset<Row> sessionized, Dataset<Row> sessions) {
    /** The day's counted events: the sessionized rows, one per event. */
    Dataset<Row> counted() {
      return sessionized;
    }
  }

  /** A day's input totals, computed once, that every view must reconcile with. */
  record DayTotals(long events, long pageviews, long sessions, long entrances) {}

  /**
   * How the views are defined. The job uses {@link View#compute}; a test can put a faulty
   * definition in its place to prove that a failed check publishes nothing.
   */
  @FunctionalInterface
  interface Definitions {
    Definitions STANDARD = View::compute;

    Dataset<Row> compute(View view, DayInput input, String logicVersion, Column computedAt);
  }

  public static void main(String[] arguments) {
    System.exit(Launcher.run(new BatchCommand(), arguments));
  }

  static void runWithOwnSession(LakeConfig config, Options options) {
    SparkSession spark = LakeSpark.session(config, "lambda-lake-batch");
    run(spark, config, options, System.out, Clock.systemUTC());
  }

  /**
   * Recomputes the range; throws with one line of reason if any check fails, publishing nothing.
   */
  public static void run(
      SparkSession spark, LakeConfig config, Options options, PrintStream progress, Clock clock) {
    run(spark, config, options, progress, clock, Definitions.STANDARD);
  }

  static void run(
      SparkSession spark,
      LakeConfig config,
      Options options,
      PrintStream progress,
      Clock clock,
      Definitions definitions) {
    String runId = UUID.randomUUID().toString();
    String rawLocation = DeltaTables.ensure(spark, config, LakeTable.RAW_EVENTS);
    // One version of raw.events for the whole run, recorded with the days it published: what lands
    // after it makes those days dirty for the next run.
    long rawVersion = DirtyHours.currentVersion(spark, rawLocation);
    Dataset<Row> raw =
        spark.read().format("delta").option("versionAsOf", rawVersion).load(rawLocation);
    DirtyHours.Result dirty = DirtyHours.find(spark, config, rawVersion);
    dirty.describe().forEach(progress::println);
    List<LocalDate> days = options.days(dirty);
    List<Dataset<Row>> toUnpersist = new CopyOnWriteArrayList<>();
    Map<LocalDate, List<Runnable>> writes = new LinkedHashMap<>();
    ExecutorService pool =
        Executors.newFixedThreadPool(
            View.values().length,
            task -> {
              Thread thread = new Thread(task, "batch-view");
              thread.setDaemon(true);
              return thread;
            });
    Lease lease =
        Lease.acquire(spark, config, LEASE, "batch writer", runId, Lease.Settings.DEFAULT);
    try {
      for (LocalDate day : days) {
        long started = System.nanoTime();
        Dataset<Row> dayEvents = raw.filter(col("event_date").equalTo(lit(Date.valueOf(day))));
        // One cached copy of the day, of the columns the views read: the counted events with
        // their sessions. Every view, check and total is computed from it.
        Dataset<Row> counted =
            HourlyViews.countedEvents(dayEvents, options.botPolicy())
                .select(
                    DailyViews.INPUT_COLUMNS.stream().map(functions::col).toArray(Column[]::new));
        Dataset<Row> sessionized =
            DailyViews.sessionized(counted).persist(StorageLevel.MEMORY_AND_DISK());
        toUnpersist.add(sessionized);
        Dataset<Row> sessions =
            DailyViews.sessions(sessionized).persist(StorageLevel.MEMORY_AND_DISK());
        toUnpersist.add(sessions);
        DayInput input = new DayInput(sessionized, sessions);
        DayTotals totals = totals(input);
        Column computedAt = lit(computedAt(dayEvents, day));
        // The views of a day are computed, checked and later published side by side: much of the
        // time of each is waiting on object-store round trips, which overlap well.
        List<Callable<Runnable>> views = new ArrayList<>();
        for (View view : View.values()) {
          views.add(
              () -> {
                Dataset<Row> rows =
                    definitions
                        .compute(view, input, options.logicVersion(), computedAt)
                        .persist(StorageLevel.MEMORY_AND_DISK());
                toUnpersist.add(rows);
                check(view, day, rows, view.expectedTotals(totals));
                String location = DeltaTables.ensure(spark, config, view.table());
                String condition = "event_date = '" + day + "'";
                return () ->
                    rows.write()
                        .format("delta")
                        .mode(SaveMode.Overwrite)
                        .option("replaceWhere", condition)
                        .save(location);
              });
        }
        List<Runnable> dayWrites = inParallel(pool, views);
        writes.put(day, dayWrites);
        progress.printf(
            "batch %s: %,d events, %,d sessions computed and checked in %.1f s%n",
            day, totals.events(), totals.sessions(), (System.nanoTime() - started) / 1e9);
        progress.flush();
      }
      // The daily history of the mirrored MySQL tables, computed and checked like the views.
      MysqlHistory history =
          new MysqlHistory(spark, config, options.logicVersion(), progress, toUnpersist);
      Map<LocalDate, List<MysqlHistory.Snapshot>> snapshots =
          history.compute(
              options.scope() == Scope.RANGE_AND_DIRTY_HOURS
                  ? options.from().datesUntil(options.to().plusDays(1)).toList()
                  : List.of());
      // Every day passed its checks: now publish, one atomic replacement per day and view (or
      // history table); the history days are then recorded in one commit.
      for (Map.Entry<LocalDate, List<Runnable>> day : writes.entrySet()) {
        long started = System.nanoTime();
        List<Runnable> dayWrites = new ArrayList<>(day.getValue());
        List<MysqlHistory.Snapshot> daySnapshots = snapshots.getOrDefault(day.getKey(), List.of());
        lease.checkHeld("publishing " + day.getKey());
        daySnapshots.forEach(snapshot -> dayWrites.add(() -> history.publish(snapshot)));
        inParallel(
            pool,
            dayWrites.stream()
                .map(
                    write ->
                        (Callable<Boolean>)
                            () -> {
                              write.run();
                              return true;
                            })
                .toList());
        history.recordPublished(daySnapshots);
        progress.printf(
            "batch %s: published in %.1f s%n", day.getKey(), (System.nanoTime() - started) / 1e9);
        progress.flush();
      }
      progress.printf("batch %s: %d day(s) published%n", describe(days), writes.size());
      lease.checkHeld("recording the computed days");
      ComputedDays.record(
          spark, config, days, rawVersion, runId, options.logicVersion(), clock.instant());
      if (options.scope() == Scope.RANGE_AND_DIRTY_HOURS) {
        advanceCoverage(spark, config, options, raw, runId, clock, progress, lease);
      }
    } finally {
      pool.shutdownNow();
      toUnpersist.forEach(Dataset::unpersist);
      lease.close();
    }
  }

  private static String describe(List<LocalDate> days) {
    return days.isEmpty() ? "no day" : days.get(0) + ".." + days.get(days.size() - 1);
  }

  /**
   * Runs the tasks side by side and returns their results in order; the first failure is thrown.
   */
  private static <T> List<T> inParallel(ExecutorService pool, List<Callable<T>> tasks) {
    List<Future<T>> futures = tasks.stream().map(pool::submit).toList();
    List<T> results = new ArrayList<>();
    try {
      for (Future<T> future : futures) {
        results.add(future.get());
      }
      return results;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new LakeException(ErrorCode.INTERNAL_ERROR, "The batch job was interrupted", e);
    } catch (ExecutionException e) {
      futures.forEach(future -> future.cancel(true));
      if (e.getCause() instanceof RuntimeException runtime) {
        throw runtime;
      }
      throw new LakeException(ErrorCode.INTERNAL_ERROR, e.getCause().getMessage(), e.getCause());
    }
  }

  /** The newest landing time of the day's input, so that unchanged input gives identical rows. */
  private static Timestamp computedAt(Dataset<Row> dayEvents, LocalDate day) {
    Row newest = dayEvents.agg(max(col("landed_at"))).first();
    return newest.isNullAt(0)
        ? Timestamp.from(day.atStartOfDay(ZoneOffset.UTC).toInstant())
        : newest.getTimestamp(0);
  }

  private static DayTotals totals(DayInput input) {
    Row events =
        input.counted().agg(count(lit(1)), sum(DailyViews.isPageView().cast("long"))).first();
    Row sessions = input.sessions().agg(count(lit(1)), count(col("entrance_page"))).first();
    return new DayTotals(
        events.getLong(0),
        events.isNullAt(1) ? 0 : events.getLong(1),
        sessions.getLong(0),
        sessions.getLong(1));
  }

  /**
   * The view's rows reconcile with the day's input totals, have no null in a NOT NULL column (which
   * Delta would reject halfway through publishing) and no negative count.
   */
  private static void check(
      View view, LocalDate day, Dataset<Row> rows, Map<String, Long> expected) {
    List<String> checked = List.copyOf(new TreeMap<>(expected).keySet());
    List<String> required = requiredColumns(view.table());
    List<Column> aggregates = new ArrayList<>();
    for (String column : checked) {
      aggregates.add(coalesce(sum(col(column)), lit(0L)));
      aggregates.add(min(col(column)));
    }
    for (String column : required) {
      aggregates.add(sum(col(column).isNull().cast("long")));
    }
    // raw.events is partitioned by event_date: a row outside the day means an event whose time is
    // not on its event_date (corrupt input), and publishing it would fail the day's replaceWhere.
    aggregates.add(sum(col("event_date").notEqual(lit(Date.valueOf(day))).cast("long")));
    Row result =
        rows.agg(aggregates.get(0), aggregates.subList(1, aggregates.size()).toArray(Column[]::new))
            .first();
    for (int index = 0; index < checked.size(); index++) {
      String column = checked.get(index);
      long total = result.getLong(2 * index);
      if (total != expected.get(column)) {
        throw qualityFailure(
            view,
            day,
            "adds up to "
                + total
                + " "
                + column
                + " but the day's input has "
                + expected.get(column));
      }
      if (!result.isNullAt(2 * index + 1) && result.getLong(2 * index + 1) < 0) {
        throw qualityFailure(view, day, "has a negative " + column);
      }
    }
    for (int index = 0; index < required.size(); index++) {
      int position = 2 * checked.size() + index;
      if (!result.isNullAt(position) && result.getLong(position) > 0) {
        throw qualityFailure(
            view,
            day,
            "has " + result.getLong(position) + " row(s) with a null " + required.get(index));
      }
    }
    int outside = 2 * checked.size() + required.size();
    if (!result.isNullAt(outside) && result.getLong(outside) > 0) {
      throw qualityFailure(
          view,
          day,
          "has "
              + result.getLong(outside)
              + " row(s) outside the day: raw.events holds events whose event_time is not on"
              + " their event_date");
    }
  }

  /** The columns the table declares NOT NULL. */
  private static List<String> requiredColumns(LakeTable table) {
    return Arrays.stream(StructType.fromDDL(table.columns()).fields())
        .filter(field -> !field.nullable())
        .map(StructField::name)
        .toList();
  }

  private static LakeException qualityFailure(View view, LocalDate day, String problem) {
    return new LakeException(
        ErrorCode.QUALITY_CHECK_FAILED,
        "Quality check failed, nothing published: "
            + view.table().qualifiedName()
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
      PrintStream progress,
      Lease lease) {
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
                RowFactory.create(
                    "events_hourly", coveredUntil, runId, options.logicVersion(), now),
                RowFactory.create(
                    "pages_hourly", coveredUntil, runId, options.logicVersion(), now)),
            StructType.fromDDL(LakeTable.BATCH_COVERAGE.columns()));
    DeltaTables.ensure(spark, config, LakeTable.BATCH_COVERAGE);
    lease.checkHeld("moving batch.coverage");
    // One commit moves both views' rows: readers see the old watermark or the new one. The MERGE
    // only ever moves a row forward, whatever another run committed since it was read above.
    DeltaTable.forPath(spark, location)
        .as("current")
        .merge(rows.as("proposed"), "current.view = proposed.view")
        .whenMatched("proposed.covered_until > current.covered_until")
        .updateAll()
        .whenNotMatched()
        .insertAll()
        .execute();
    progress.printf("coverage: covered_until %s (run %s)%n", proposed, runId);
    progress.flush();
  }
}
