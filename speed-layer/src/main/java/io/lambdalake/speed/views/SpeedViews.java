package io.lambdalake.speed.views;

import static java.util.Objects.requireNonNull;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.date_trunc;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.udf;
import static org.apache.spark.sql.functions.when;

import io.delta.tables.DeltaTable;
import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.table.LakeTable;
import io.lambdalake.ingestion.landing.EventLanding;
import io.lambdalake.ingestion.landing.LandingBatch;
import io.lambdalake.spark.Concurrently;
import io.lambdalake.spark.DeltaTables;
import io.lambdalake.spark.sketch.UniqueUsers;
import io.lambdalake.spark.views.HourlyViews;
import java.io.PrintStream;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiFunction;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF2;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The speed views: the hourly views of {@link HourlyViews}, kept current in one pass with the
 * landing. Each landing micro-batch aggregates the events it appended to {@code raw.events} into
 * per-hour partials (the views' own definitions) and MERGEs them into the views, adding counts and
 * sums and taking the union of the unique-user sketches. The MERGE is a Delta idempotent write
 * keyed like the batch's appends (the landing query's application id and the batch id), so a batch
 * replayed after a crash adds nothing twice; before its first batch the job checks that every view
 * has counted exactly the landing batches raw.events holds, and recomputes a view from raw.events
 * when not (a crash between the append and a view's MERGE, a run with {@code --queries landing}, an
 * upgrade from the streaming views). Hours before {@code batch.coverage} are the batch layer's:
 * they are neither merged nor kept.
 *
 * <p>There is no lateness: an event counts in its hour whenever it arrives, as long as the batch
 * layer does not cover that hour yet.
 */
public final class SpeedViews {
  private static final Logger LOG = LoggerFactory.getLogger(SpeedViews.class);
  public static final String LOGIC_VERSION = "speed-1";
  private static final String TXN_APP_ID = "spark.databricks.delta.write.txnAppId";
  private static final String TXN_VERSION = "spark.databricks.delta.write.txnVersion";
  private static final String SKIP_EMPTY_COMMITS =
      "spark.databricks.delta.skipRecordingEmptyCommits";

  private static final UserDefinedFunction SKETCH_UNION =
      udf((UDF2<byte[], byte[], byte[]>) UniqueUsers::union, DataTypes.BinaryType)
          .withName("users_sketch_union");

  /** One speed view: its table, its key columns, its definition and how partials add up. */
  public enum View {
    EVENTS_HOURLY(
        LakeTable.SPEED_EVENTS_HOURLY,
        "events_hourly",
        List.of("tracking_id", "hour", "event_name"),
        HourlyViews::eventsHourly,
        Map.of(
            "events", col("t.events").plus(col("s.events")),
            "users_sketch", SKETCH_UNION.apply(col("t.users_sketch"), col("s.users_sketch")),
            "value_sum",
                when(col("t.value_sum").isNull(), col("s.value_sum"))
                    .when(col("s.value_sum").isNull(), col("t.value_sum"))
                    .otherwise(col("t.value_sum").plus(col("s.value_sum")))
                    .cast("decimal(28,4)"),
            "valued_events", col("t.valued_events").plus(col("s.valued_events")),
            "logic_version", col("s.logic_version"),
            "computed_at", col("s.computed_at"))),
    PAGES_HOURLY(
        LakeTable.SPEED_PAGES_HOURLY,
        "pages_hourly",
        List.of("tracking_id", "hour", "page_url"),
        HourlyViews::pagesHourly,
        Map.of(
            "pageviews", col("t.pageviews").plus(col("s.pageviews")),
            "users_sketch", SKETCH_UNION.apply(col("t.users_sketch"), col("s.users_sketch")),
            "logic_version", col("s.logic_version"),
            "computed_at", col("s.computed_at")));

    private final LakeTable table;
    private final String coverageName;
    private final List<String> keys;
    private final BiFunction<Dataset<Row>, String, Dataset<Row>> definition;
    private final Map<String, Column> addition;

    View(
        LakeTable table,
        String coverageName,
        List<String> keys,
        BiFunction<Dataset<Row>, String, Dataset<Row>> definition,
        Map<String, Column> addition) {
      this.table = table;
      this.coverageName = coverageName;
      this.keys = List.copyOf(keys);
      this.definition = definition;
      this.addition = Map.copyOf(addition);
    }

    public LakeTable table() {
      return table;
    }

    /** The view's name in progress lines and batch.coverage. */
    public String queryName() {
      return "speed_" + coverageName;
    }

    /** The view's rows of the events (raw.events rows) in hours from the coverage on. */
    Dataset<Row> of(
        Dataset<Row> events, HourlyViews.BotPolicy botPolicy, Optional<Timestamp> from) {
      Dataset<Row> counted = HourlyViews.countedEvents(events, botPolicy);
      Dataset<Row> uncovered =
          from.map(until -> counted.filter(date_trunc("hour", col("event_time")).geq(lit(until))))
              .orElse(counted);
      return definition.apply(uncovered, LOGIC_VERSION);
    }

    String mergeCondition() {
      return String.join(" AND ", keys.stream().map(key -> "t." + key + " = s." + key).toList());
    }
  }

  private SpeedViews() {}

  /**
   * The views as the landing's downstream: each landing batch merges its events into them. Each
   * call makes a new one with its own state, so two jobs in one JVM share nothing.
   */
  public static EventLanding.Downstream downstream(
      LakeConfig config, HourlyViews.BotPolicy botPolicy) {
    return new OnePass(config, botPolicy);
  }

  /**
   * Recomputes every speed view from raw.events (hours the batch layer does not cover), and records
   * in each the landing batches it now counts. After a change of the views' logic, or to make sure;
   * the speed job, the views' one writer, must not be running meanwhile.
   */
  public static void rebuild(
      SparkSession spark,
      LakeConfig config,
      HourlyViews.BotPolicy botPolicy,
      PrintStream progress) {
    requireNonNull(progress, "progress is null");
    DeltaTables.ensure(spark, config, LakeTable.RAW_EVENTS);
    RawEvents raw = RawEvents.now(spark, config);
    Map<View, Optional<Timestamp>> coverage = coveredUntil(spark, config);
    for (View view : View.values()) {
      long rows = rebuild(spark, config, view, raw, botPolicy, coverage.get(view));
      progress.printf(
          "%-20s recomputed from raw.events version %d: %d rows%n",
          view.queryName(), raw.version(), rows);
    }
    progress.flush();
  }

  /** The landing batches raw.events holds at one of its versions. */
  private record RawEvents(long version, Map<String, Long> landingBatches) {
    static RawEvents now(SparkSession spark, LakeConfig config) {
      DeltaTables.Transactions raw =
          DeltaTables.transactions(spark, LakeTable.RAW_EVENTS.location(config.storage()));
      return new RawEvents(raw.version(), landing(raw.versions()));
    }
  }

  /** The landing stream's transactions among a table's: application id to batch id. */
  private static Map<String, Long> landing(Map<String, Long> transactions) {
    Map<String, Long> landing = new TreeMap<>();
    transactions.forEach(
        (appId, version) -> {
          if (LandingBatch.isApplicationIdOf(EventLanding.QUERY_NAME, appId)) {
            landing.put(appId, version);
          }
        });
    return landing;
  }

  private static Map<String, Long> landingTransactions(SparkSession spark, String location) {
    return landing(DeltaTables.transactions(spark, location).versions());
  }

  /**
   * Overwrites a view with its rows of raw.events at the version, then records the landing batches
   * that version holds (an empty commit per landing query), so that their replays add nothing.
   */
  private static long rebuild(
      SparkSession spark,
      LakeConfig config,
      View view,
      RawEvents raw,
      HourlyViews.BotPolicy botPolicy,
      Optional<Timestamp> coveredUntil) {
    String location = DeltaTables.ensure(spark, config, view.table);
    Dataset<Row> events =
        spark
            .read()
            .format("delta")
            .option("versionAsOf", raw.version())
            .load(LakeTable.RAW_EVENTS.location(config.storage()));
    Dataset<Row> rows = view.of(events, botPolicy, coveredUntil).persist(StorageLevel.DISK_ONLY());
    try {
      rows.write().format("delta").mode(SaveMode.Overwrite).save(location);
      Map<String, Long> counted = landingTransactions(spark, location);
      raw.landingBatches()
          .forEach(
              (appId, version) -> {
                if (counted.getOrDefault(appId, -1L) < version) {
                  recordBatch(spark, location, appId, version);
                }
              });
      return rows.count();
    } finally {
      rows.unpersist();
    }
  }

  /** An empty commit that records a landing batch as counted. */
  private static void recordBatch(SparkSession spark, String location, String appId, long version) {
    Optional<String> skipEmpty = Optional.ofNullable(spark.conf().get(SKIP_EMPTY_COMMITS, null));
    spark.conf().set(SKIP_EMPTY_COMMITS, "false");
    try {
      spark
          .read()
          .format("delta")
          .load(location)
          .limit(0)
          .write()
          .format("delta")
          .mode(SaveMode.Append)
          .option("txnAppId", appId)
          .option("txnVersion", version)
          .save(location);
    } finally {
      skipEmpty.ifPresentOrElse(
          value -> spark.conf().set(SKIP_EMPTY_COMMITS, value),
          () -> spark.conf().unset(SKIP_EMPTY_COMMITS));
    }
  }

  /** The views as the landing's downstream, and what it remembers between batches. */
  private static final class OnePass implements EventLanding.Downstream {
    private final LakeConfig config;
    private final HourlyViews.BotPolicy botPolicy;

    /** Whether the views were checked against raw.events since this job started. */
    private boolean checked;

    /** The coverage up to which each view's earlier hours were already dropped. */
    private final Map<View, Timestamp> prunedUntil = new ConcurrentHashMap<>();

    /** Each view's own session for its MERGEs, whose settings carry the write's key. */
    private final Map<View, SparkSession> sessions = new EnumMap<>(View.class);

    OnePass(LakeConfig config, HourlyViews.BotPolicy botPolicy) {
      this.config = requireNonNull(config, "config is null");
      this.botPolicy = requireNonNull(botPolicy, "botPolicy is null");
    }

    /**
     * Once per job: a view that has not counted exactly the landing batches raw.events holds is
     * recomputed from raw.events. Runs before the batch appends anything, so raw.events holds the
     * batches before this one, and this one if a crash stopped its earlier attempt after its
     * append.
     */
    @Override
    public void beforeLanding(SparkSession spark, LandingBatch landing) {
      if (checked) {
        return;
      }
      RawEvents raw = RawEvents.now(spark, config);
      Map<View, Optional<Timestamp>> coverage = coveredUntil(spark, config);
      for (View view : View.values()) {
        String location = DeltaTables.ensure(spark, config, view.table);
        Map<String, Long> counted = landingTransactions(spark, location);
        if (!counted.entrySet().containsAll(raw.landingBatches().entrySet())) {
          LOG.warn(
              "{}: it counted the landing batches {}, but raw.events holds {}: recomputing it from"
                  + " raw.events version {}",
              view.queryName(),
              counted,
              raw.landingBatches(),
              raw.version());
          long rows = rebuild(spark, config, view, raw, botPolicy, coverage.get(view));
          LOG.info("{}: recomputed, {} rows", view.queryName(), rows);
        }
      }
      checked = true;
    }

    /**
     * Merges the batch into both views at once, each in a Spark session of its own (the idempotent
     * write's key is a session setting).
     */
    @Override
    public void landed(Dataset<Row> events, LandingBatch landing) {
      SparkSession spark = events.sparkSession();
      Map<View, Optional<Timestamp>> coverage = coveredUntil(spark, config);
      List<CompletableFuture<String>> merges = new ArrayList<>();
      for (View view : View.values()) {
        String location = DeltaTables.ensure(spark, config, view.table);
        SparkSession session = sessions.computeIfAbsent(view, ignored -> spark.newSession());
        Optional<Timestamp> coveredUntil = coverage.get(view);
        merges.add(
            Concurrently.start(
                spark.sparkContext(),
                view.queryName(),
                () -> {
                  merge(session, view, location, events, coveredUntil, landing);
                  coveredUntil.ifPresent(until -> prune(session, view, location, until));
                  return location;
                }));
      }
      Concurrently.awaitAll(merges).forEach(location -> landing.upkeep().wrote(location));
    }

    /** Adds the batch's partials of the view, once (an idempotent write of the landing batch). */
    private void merge(
        SparkSession spark,
        View view,
        String location,
        Dataset<Row> events,
        Optional<Timestamp> coveredUntil,
        LandingBatch landing) {
      Dataset<Row> partials =
          view.of(events, botPolicy, coveredUntil).persist(StorageLevel.MEMORY_AND_DISK());
      // The events belong to the landing's session; the MERGE runs in the view's.
      try {
        if (partials.isEmpty()) {
          // Nothing to add, but the view records the batch as counted, like raw.events.
          recordBatch(spark, location, landing.applicationId(), landing.version());
          return;
        }
        long started = System.nanoTime();
        spark.conf().set(TXN_APP_ID, landing.applicationId());
        spark.conf().set(TXN_VERSION, Long.toString(landing.version()));
        try {
          DeltaTable.forPath(spark, location)
              .as("t")
              .merge(partials.as("s"), view.mergeCondition())
              .whenMatched()
              .update(new LinkedHashMap<>(view.addition))
              .whenNotMatched()
              .insertAll()
              .execute();
        } finally {
          spark.conf().unset(TXN_APP_ID);
          spark.conf().unset(TXN_VERSION);
        }
        LOG.info(
            "{}: landing batch {} merged in {} ms",
            view.queryName(),
            landing.version(),
            (System.nanoTime() - started) / 1_000_000);
      } finally {
        partials.unpersist();
      }
    }

    /** Drops the hours before the coverage, once each time the coverage moves. */
    private void prune(SparkSession spark, View view, String location, Timestamp coveredUntil) {
      Timestamp pruned = prunedUntil.get(view);
      if (pruned == null || pruned.before(coveredUntil)) {
        DeltaTable.forPath(spark, location).delete(col("hour").lt(lit(coveredUntil)));
        prunedUntil.put(view, coveredUntil);
      }
    }
  }

  /** Per view, where batch.coverage says the batch layer's authority ends, if it says. */
  static Map<View, Optional<Timestamp>> coveredUntil(SparkSession spark, LakeConfig config) {
    Map<View, Optional<Timestamp>> coverage = new EnumMap<>(View.class);
    for (View view : View.values()) {
      coverage.put(view, Optional.empty());
    }
    String location = LakeTable.BATCH_COVERAGE.location(config.storage());
    if (!DeltaTables.exists(spark, location)) {
      return coverage;
    }
    List<Row> rows =
        spark.read().format("delta").load(location).select("view", "covered_until").collectAsList();
    for (View view : View.values()) {
      coverage.put(
          view,
          rows.stream()
              .filter(row -> view.coverageName.equals(row.getString(0)))
              .map(row -> row.getTimestamp(1))
              .max(Timestamp::compareTo));
    }
    return coverage;
  }
}
