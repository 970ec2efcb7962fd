package io.lambdalake.serving.store;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.airlift.slice.Slices;
import io.airlift.stats.cardinality.HyperLogLog;
import io.delta.tables.DeltaTable;
import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.config.LakeConfigLoader;
import io.lambdalake.common.table.LakeTable;
import io.lambdalake.serving.ServingSetup;
import io.lambdalake.serving.ServingView;
import io.lambdalake.serving.api.BreakdownQuery;
import io.lambdalake.serving.api.Dimension;
import io.lambdalake.serving.api.Granularity;
import io.lambdalake.serving.api.Metric;
import io.lambdalake.serving.api.MetricsQuery;
import io.lambdalake.serving.api.MetricsSource;
import io.lambdalake.serving.api.TopPagesQuery;
import io.lambdalake.serving.api.TrinoMetricsSource;
import io.lambdalake.serving.verify.StoreVerifier;
import io.lambdalake.spark.DeltaTables;
import io.lambdalake.stack.testing.MariaDbSql;
import io.lambdalake.stack.testing.SharedStack;
import io.lambdalake.stack.testing.TestSpark;
import io.lambdalake.stack.testing.TrinoSql;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.Date;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.UUID;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import scala.jdk.javaapi.CollectionConverters;

/**
 * The point-read store on the real stack (S3, Spark, Trino, MariaDB): batch and speed hourly views
 * that overlap around the coverage watermark, synced into the store; every answer of the API
 * through the store equals the answer through the Trino serving views exactly, unique users and the
 * watermark split included, after the first sync, after a sync that crashed in the middle of
 * applying (the store keeps its last state, nothing half-applied), and after the restarted sync has
 * applied updates, inserts, deletes, a partition overwrite and a moved watermark. {@code lake
 * verify}'s comparison of the store with the views finds nothing, then the row this test corrupts.
 */
class ServingStoreIT {
  private static final Instant FIRST_HOUR = Instant.parse("2026-11-19T00:00:00Z");
  private static final Instant WATERMARK = Instant.parse("2026-11-20T18:00:00Z");
  private static final Instant NEW_WATERMARK = Instant.parse("2026-11-21T00:00:00Z");
  private static final Instant SPEED_FROM = Instant.parse("2026-11-20T12:00:00Z");
  private static final Instant END = Instant.parse("2026-11-22T00:00:00Z");
  private static final List<String> TRACKING_IDS = List.of("LL-S1", "LL-S2");
  private static final List<String> EVENT_NAMES = List.of("page_view", "add_to_cart", "Purchase");
  private static final List<String> PAGES = List.of("/a", "/b", "/B", "/c?x", "/ü", "/a ");

  private static SparkSession spark;
  private static LakeConfig config;
  private static TrinoSql trino;
  private static StoreDatabase store;

  @BeforeAll
  static void isolate() {
    spark = TestSpark.session();
    String name = "st" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    config =
        LakeConfigLoader.load(
            System.getenv(), SharedStack.ownLake(name, "lake.api.store.batch-rows", "7"));
    trino = new TrinoSql(config);
    store = new StoreDatabase(config.api().store());
  }

  @AfterAll
  static void cleanUp() throws Exception {
    if (store != null) {
      // Without the binlog, as the store was written: Maxwell reads the same server's binlog.
      store.dropDatabase();
      store.close();
    }
    if (trino == null) {
      return;
    }
    for (ServingView view : ServingView.values()) {
      trino.execute("DROP VIEW IF EXISTS " + view.qualifiedName(config.trino()));
    }
    for (LakeTable table : LakeTable.values()) {
      String schema = config.trino().schema(table.zone());
      if (!trino
          .query(
              "SELECT 1 FROM information_schema.tables WHERE table_schema = '"
                  + schema
                  + "' AND table_name = '"
                  + table.table()
                  + "'")
          .isEmpty()) {
        trino.unregister(schema, table.table());
      }
    }
    for (String zone : List.of("raw", "speed", "batch", "serving")) {
      trino.execute("DROP SCHEMA IF EXISTS " + config.trino().schema(zone));
    }
  }

  @Test
  void answersThroughTheStoreEqualTrinosAcrossCrashesAndEveryKindOfChange() {
    // The hourly views with the change data feed (as their writers create them), the coverage
    // without it (the sync copies it whole each time it moves).
    for (LakeTable table :
        List.of(
            LakeTable.BATCH_EVENTS_HOURLY,
            LakeTable.SPEED_EVENTS_HOURLY,
            LakeTable.BATCH_PAGES_HOURLY,
            LakeTable.SPEED_PAGES_HOURLY)) {
      createWithChangeDataFeed(table);
    }
    createWithChangeDataFeed(LakeTable.BATCH_EVENTS_DAILY);
    DeltaTables.ensure(spark, config, LakeTable.BATCH_TRAFFIC_DAILY);
    Random random = new Random(26);
    append(LakeTable.BATCH_EVENTS_HOURLY, events(random, FIRST_HOUR, NEW_WATERMARK, 0));
    // Days the coverage does not cover yet (the 20th, the 21st) stay out of the daily answers.
    append(LakeTable.BATCH_EVENTS_DAILY, eventsDaily(random, FIRST_HOUR, END, 0));
    append(LakeTable.BATCH_TRAFFIC_DAILY, trafficDaily(random, FIRST_HOUR, END, 0));
    append(LakeTable.BATCH_PAGES_HOURLY, pages(random, FIRST_HOUR, NEW_WATERMARK, 0));
    // Speed overlaps batch from 12:00 to midnight of the 20th, with other numbers: a wrong split at
    // the watermark (18:00) counts hours twice or takes the wrong layer's, and shows.
    append(LakeTable.SPEED_EVENTS_HOURLY, events(random, SPEED_FROM, END, 1000));
    append(LakeTable.SPEED_PAGES_HOURLY, pages(random, SPEED_FROM, END, 1000));
    moveCoverage(WATERMARK);
    new ServingSetup(config).run(() -> spark, new PrintWriter(new StringWriter()));

    ServingSync.Round first = new ServingSync(config, spark, store).runOnce();
    assertThat(first.tables())
        .extracting(ServingSync.TableSync::mode)
        .containsOnly(ServingSync.Mode.SNAPSHOT);
    Map<String, Object> afterFirstSync = assertStoreEqualsTrino();
    assertThat(new ServingSync(config, spark, store).runOnce().changed()).isFalse();

    // Every kind of change: speed updates (MERGE) and new hours, batch overwrites a day, the
    // watermark moves, speed drops the hours batch now covers.
    merge(LakeTable.SPEED_EVENTS_HOURLY, events(random, SPEED_FROM, END, 2000), "event_name");
    merge(LakeTable.SPEED_PAGES_HOURLY, pages(random, SPEED_FROM, END, 2000), "page_url");
    overwriteDay(LakeTable.BATCH_EVENTS_HOURLY, events(random, day(1), NEW_WATERMARK, 3000));
    overwriteDay(LakeTable.BATCH_PAGES_HOURLY, pages(random, day(1), NEW_WATERMARK, 3000));
    overwriteDay(LakeTable.BATCH_EVENTS_DAILY, eventsDaily(random, day(1), NEW_WATERMARK, 3000));
    overwriteDay(LakeTable.BATCH_TRAFFIC_DAILY, trafficDaily(random, day(1), NEW_WATERMARK, 3000));
    moveCoverage(NEW_WATERMARK);
    for (LakeTable table : List.of(LakeTable.SPEED_EVENTS_HOURLY, LakeTable.SPEED_PAGES_HOURLY)) {
      DeltaTable.forPath(spark, table.location(config.storage()))
          .delete(col("hour").lt(lit(Timestamp.from(NEW_WATERMARK))));
    }

    // A sync that crashes after 30 rows (several batches of 7 were sent) leaves nothing behind.
    ServingSync crashing =
        new ServingSync(
            config,
            spark,
            store,
            Clock.systemUTC(),
            (table, rows) -> {
              if (rows == 30) {
                throw new IllegalStateException("crash in the middle of applying");
              }
            });
    assertThatThrownBy(crashing::runOnce).hasMessage("crash in the middle of applying");
    assertThat(storeAnswers()).isEqualTo(afterFirstSync);

    // The restarted sync reads the change data feed from the positions the store kept.
    ServingSync.Round restarted = new ServingSync(config, spark, store).runOnce();
    Map<StoreTable, ServingSync.Mode> modes = new LinkedHashMap<>();
    restarted.tables().forEach(table -> modes.put(table.table(), table.mode()));
    assertThat(modes)
        .containsEntry(StoreTable.SPEED_EVENTS_HOURLY, ServingSync.Mode.CHANGES)
        .containsEntry(StoreTable.BATCH_EVENTS_HOURLY, ServingSync.Mode.CHANGES)
        .containsEntry(StoreTable.BATCH_COVERAGE, ServingSync.Mode.SNAPSHOT)
        .containsEntry(StoreTable.BATCH_EVENTS_DAILY, ServingSync.Mode.CHANGES)
        .containsEntry(StoreTable.BATCH_TRAFFIC_DAILY, ServingSync.Mode.SNAPSHOT);
    assertThat(restarted.tables())
        .filteredOn(table -> table.table() == StoreTable.SPEED_EVENTS_HOURLY)
        .singleElement()
        .satisfies(table -> assertThat(table.deletes()).isPositive());
    Map<String, Object> afterChanges = assertStoreEqualsTrino();
    assertThat(afterChanges).isNotEqualTo(afterFirstSync);
    assertThat(new ServingSync(config, spark, store).runOnce().changed()).isFalse();

    // lake verify's comparison: nothing differs, then exactly the row corrupted in the store.
    PrintWriter progress = new PrintWriter(new StringWriter());
    List<String> differences = new ArrayList<>();
    StoreVerifier verifier = new StoreVerifier(config, store);
    StoreVerifier.Summary clean =
        verifier.verify(
            FIRST_HOUR, END, difference -> differences.add(difference.toLine()), progress);
    assertThat(differences).isEmpty();
    assertThat(clean.keys()).isPositive();
    // store.connect() keeps the write out of the binlog, as the sync's own writes.
    try (Connection connection = store.connect()) {
      MariaDbSql.execute(
          connection,
          "UPDATE batch_events_hourly SET events = events + 1 WHERE tracking_id = 'LL-S1'"
              + " AND hour = "
              + FIRST_HOUR.getEpochSecond()
              + " AND event_name = 'page_view'");
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
    StoreVerifier.Summary corrupted =
        verifier.verify(
            FIRST_HOUR, END, difference -> differences.add(difference.toLine()), progress);
    assertThat(corrupted.differingKeys()).isEqualTo(1);
    assertThat(differences)
        .singleElement()
        .asString()
        .contains("LL-S1")
        .contains("2026-11-19T00:00:00Z")
        .contains("page_view")
        .contains("events");
  }

  /**
   * Asks the same questions of the API's store source and of its Trino source, asserts the answers
   * are equal, and returns them.
   */
  private static Map<String, Object> assertStoreEqualsTrino() {
    Map<String, Object> throughStore = storeAnswers();
    Map<String, Object> throughTrino = answers(new TrinoMetricsSource(config));
    assertThat(throughStore).isEqualTo(throughTrino);
    return throughStore;
  }

  private static Map<String, Object> storeAnswers() {
    try (StoreMetricsSource source =
        new StoreMetricsSource(new StoreDatabase(config.api().store()), Duration.ofSeconds(30))) {
      return answers(source);
    }
  }

  private static Map<String, Object> answers(MetricsSource source) {
    Map<String, Object> answers = new LinkedHashMap<>();
    List<Instant[]> ranges =
        List.of(
            new Instant[] {FIRST_HOUR, END},
            new Instant[] {
              Instant.parse("2026-11-20T05:00:00Z"), Instant.parse("2026-11-21T07:00:00Z")
            });
    for (Instant[] range : ranges) {
      for (Metric metric : List.of(Metric.EVENTS, Metric.USERS, Metric.PAGEVIEWS)) {
        for (Granularity granularity : Granularity.values()) {
          for (ZoneId zone :
              List.of(ZoneOffset.UTC, ZoneId.of("Europe/Berlin"), ZoneId.of("Asia/Kolkata"))) {
            for (List<String> trackingIds : List.of(List.of("LL-S1"), TRACKING_IDS)) {
              MetricsQuery query =
                  new MetricsQuery(
                      metric, granularity, range[0], range[1], zone, Optional.empty(), trackingIds);
              answers.put(query.toString(), source.counts(query));
            }
          }
        }
      }
      for (String eventName : List.of("Purchase", "purchase")) {
        for (Metric metric : List.of(Metric.EVENTS, Metric.USERS)) {
          MetricsQuery query =
              new MetricsQuery(
                  metric,
                  Granularity.DAY,
                  range[0],
                  range[1],
                  ZoneOffset.UTC,
                  Optional.of(eventName),
                  TRACKING_IDS);
          answers.put(query.toString(), source.counts(query));
        }
      }
      for (int limit : List.of(3, 100)) {
        TopPagesQuery query =
            new TopPagesQuery(range[0], range[1], ZoneOffset.UTC, TRACKING_IDS, limit);
        answers.put(query.toString(), source.topPages(query));
      }
      for (Granularity granularity :
          List.of(Granularity.DAY, Granularity.WEEK, Granularity.MONTH)) {
        for (List<String> trackingIds : List.of(List.of("LL-S2"), TRACKING_IDS)) {
          MetricsQuery sessions =
              new MetricsQuery(
                  Metric.SESSIONS,
                  granularity,
                  range[0],
                  range[1],
                  ZoneOffset.UTC,
                  Optional.empty(),
                  trackingIds);
          answers.put(sessions.toString(), source.counts(sessions));
          MetricsQuery revenue =
              new MetricsQuery(
                  Metric.REVENUE,
                  granularity,
                  range[0],
                  range[1],
                  ZoneOffset.UTC,
                  Optional.empty(),
                  trackingIds);
          answers.put(revenue.toString(), source.revenue(revenue));
        }
      }
    }
    for (Dimension dimension : Dimension.values()) {
      for (int limit : List.of(2, 100)) {
        BreakdownQuery query =
            new BreakdownQuery(
                dimension,
                LocalDate.parse("2026-11-18"),
                LocalDate.parse("2026-11-21"),
                TRACKING_IDS,
                limit);
        answers.put(query.toString(), source.breakdown(query));
      }
    }
    return answers;
  }

  private static Instant day(int offset) {
    return FIRST_HOUR.plus(Duration.ofDays(offset));
  }

  /**
   * Rows of every tracking ID, hour in [from, to) and event name; {@code shift} changes the
   * numbers, so that rows of another layer or round differ.
   */
  private static List<Row> events(Random random, Instant from, Instant to, int shift) {
    List<Row> rows = new ArrayList<>();
    for (String trackingId : TRACKING_IDS) {
      for (Instant hour = from; hour.isBefore(to); hour = hour.plus(Duration.ofHours(1))) {
        for (String eventName : EVENT_NAMES) {
          if (random.nextInt(5) == 0) {
            continue; // hours without this event
          }
          int users = 1 + random.nextInt(400);
          int firstUser = shift + random.nextInt(300);
          long valued = random.nextInt(3);
          rows.add(
              RowFactory.create(
                  trackingId,
                  Date.valueOf(LocalDate.ofInstant(hour, ZoneOffset.UTC)),
                  Timestamp.from(hour),
                  eventName,
                  (long) (users + random.nextInt(50) + shift),
                  sketch(firstUser, users),
                  valued == 0 ? null : BigDecimal.valueOf(random.nextInt(100_000), 2).setScale(4),
                  valued,
                  "it",
                  Timestamp.from(Instant.now())));
        }
      }
    }
    return rows;
  }

  private static List<Row> pages(Random random, Instant from, Instant to, int shift) {
    List<Row> rows = new ArrayList<>();
    for (String trackingId : TRACKING_IDS) {
      for (Instant hour = from; hour.isBefore(to); hour = hour.plus(Duration.ofHours(1))) {
        for (String page : PAGES) {
          if (random.nextInt(4) == 0) {
            continue;
          }
          int users = 1 + random.nextInt(200);
          rows.add(
              RowFactory.create(
                  trackingId,
                  Date.valueOf(LocalDate.ofInstant(hour, ZoneOffset.UTC)),
                  Timestamp.from(hour),
                  page,
                  (long) (users + random.nextInt(20) + shift),
                  sketch(shift + random.nextInt(100), users),
                  "it",
                  Timestamp.from(Instant.now())));
        }
      }
    }
    return rows;
  }

  /** A day's sessions and revenue per tracking ID, for the days in [from, to). */
  private static List<Row> eventsDaily(Random random, Instant from, Instant to, int shift) {
    List<Row> rows = new ArrayList<>();
    for (String trackingId : TRACKING_IDS) {
      for (Instant day = from; day.isBefore(to); day = day.plus(Duration.ofDays(1))) {
        Map<String, BigDecimal> revenue = new LinkedHashMap<>();
        for (String currency : List.of("EUR", "USD", "JPY")) {
          if (random.nextBoolean()) {
            revenue.put(currency, BigDecimal.valueOf(random.nextInt(1_000_000) + shift, 4));
          }
        }
        long sessions = 10 + random.nextInt(500) + shift;
        rows.add(
            RowFactory.create(
                trackingId,
                Date.valueOf(LocalDate.ofInstant(day, ZoneOffset.UTC)),
                sessions * 3,
                sessions * 2,
                sketch(shift, 50 + random.nextInt(500)),
                (long) (50 + random.nextInt(500)),
                sessions,
                sessions / 3,
                1.0 / 3,
                sessions * 60,
                (long) revenue.size(),
                CollectionConverters.asScala(revenue),
                "it",
                Timestamp.from(Instant.now())));
      }
    }
    return rows;
  }

  /**
   * Sessions per tracking ID, day and traffic dimensions; some values differ by case or a space.
   */
  private static List<Row> trafficDaily(Random random, Instant from, Instant to, int shift) {
    List<String> sources = List.of("google", "Google", "(none)", "news ", "news");
    List<String> devices = List.of("desktop", "mobile");
    List<String> browsers = List.of("Firefox", "Chrome", "(none)");
    List<Row> rows = new ArrayList<>();
    for (String trackingId : TRACKING_IDS) {
      for (Instant day = from; day.isBefore(to); day = day.plus(Duration.ofDays(1))) {
        for (String source : sources) {
          for (String device : devices) {
            String browser = browsers.get(random.nextInt(browsers.size()));
            if (random.nextInt(3) == 0) {
              continue;
            }
            long sessions = 1 + random.nextInt(40) + shift;
            rows.add(
                RowFactory.create(
                    trackingId,
                    Date.valueOf(LocalDate.ofInstant(day, ZoneOffset.UTC)),
                    source,
                    source.equals("(none)") ? "(none)" : "organic",
                    "(none)",
                    device,
                    browser,
                    sessions,
                    sessions / 2,
                    sessions * 4,
                    sketch(shift + random.nextInt(50), (int) sessions),
                    sessions,
                    "it",
                    Timestamp.from(Instant.now())));
          }
        }
      }
    }
    return rows;
  }

  /**
   * A sketch of {@code count} users from {@code u<first>}, as the views' writers serialize them.
   */
  private static byte[] sketch(int first, int count) {
    HyperLogLog hyperLogLog = HyperLogLog.newInstance(4096);
    for (int user = first; user < first + count; user++) {
      hyperLogLog.add(Slices.utf8Slice("u" + user));
    }
    return hyperLogLog.serialize().getBytes();
  }

  private static void createWithChangeDataFeed(LakeTable table) {
    var builder =
        DeltaTable.createIfNotExists(spark)
            .location(table.location(config.storage()))
            .addColumns(StructType.fromDDL(table.columns()))
            .property("delta.enableChangeDataFeed", "true")
            .property("delta.writePartitionColumnsToParquet", "false");
    if (!table.partitionColumns().isEmpty()) {
      builder = builder.partitionedBy(table.partitionColumns().toArray(String[]::new));
    }
    builder.execute();
  }

  private static Dataset<Row> frame(LakeTable table, List<Row> rows) {
    return spark.createDataFrame(rows, StructType.fromDDL(table.columns()));
  }

  private static void append(LakeTable table, List<Row> rows) {
    frame(table, rows)
        .write()
        .format("delta")
        .mode("append")
        .save(table.location(config.storage()));
  }

  private static void merge(LakeTable table, List<Row> rows, String keyColumn) {
    DeltaTable.forPath(spark, table.location(config.storage()))
        .as("t")
        .merge(
            frame(table, rows).as("s"),
            "t.tracking_id = s.tracking_id AND t.hour = s.hour AND t."
                + keyColumn
                + " = s."
                + keyColumn)
        .whenMatched()
        .updateAll()
        .whenNotMatched()
        .insertAll()
        .execute();
  }

  /** Replaces the day of the rows' first hour, as the batch job publishes a day. */
  private static void overwriteDay(LakeTable table, List<Row> rows) {
    String date = LocalDate.ofInstant(day(1), ZoneOffset.UTC).toString();
    frame(table, rows)
        .write()
        .format("delta")
        .mode("overwrite")
        .option("replaceWhere", "event_date = '" + date + "'")
        .save(table.location(config.storage()));
  }

  private static void moveCoverage(Instant coveredUntil) {
    DeltaTables.ensure(spark, config, LakeTable.BATCH_COVERAGE);
    Timestamp now = Timestamp.from(Instant.now());
    Dataset<Row> rows =
        spark.createDataFrame(
            List.of(
                RowFactory.create("events_hourly", Timestamp.from(coveredUntil), "it", "it", now),
                RowFactory.create("pages_hourly", Timestamp.from(coveredUntil), "it", "it", now)),
            StructType.fromDDL(LakeTable.BATCH_COVERAGE.columns()));
    DeltaTable.forPath(spark, LakeTable.BATCH_COVERAGE.location(config.storage()))
        .as("current")
        .merge(rows.as("proposed"), "current.view = proposed.view")
        .whenMatched()
        .updateAll()
        .whenNotMatched()
        .insertAll()
        .execute();
  }
}
