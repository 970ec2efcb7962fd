package io.lambdalake.serving;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.apache.spark.sql.functions.expr;
import static org.assertj.core.api.Assertions.assertThat;

import io.delta.tables.DeltaTable;
import io.lambdalake.batch.BatchJob;
import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.config.LakeConfigLoader;
import io.lambdalake.common.kafka.KafkaClientProperties;
import io.lambdalake.common.launch.ExitCode;
import io.lambdalake.common.launch.Launcher;
import io.lambdalake.common.table.LakeTable;
import io.lambdalake.ingestion.collector.generate.EventGenerator;
import io.lambdalake.ingestion.collector.generate.GeneratedEvent;
import io.lambdalake.serving.verify.VerifyCommand;
import io.lambdalake.spark.views.HourlyViews;
import io.lambdalake.speed.SpeedJob;
import io.lambdalake.stack.testing.SharedStack;
import io.lambdalake.stack.testing.TestSpark;
import io.lambdalake.stack.testing.TrinoSql;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.spark.sql.SparkSession;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The serving views on the real stack: events land through the speed layer, the batch job covers
 * past days, and the merged views equal an independent computation at every step while the
 * watermark moves, also for readers whose snapshots straddle the move; {@code lake verify} finds
 * nothing, then exactly the batch row this test corrupts.
 */
class ServingLayerIT {
  /** Today for the batch job: it never covers this day. */
  private static final Clock TODAY =
      Clock.fixed(Instant.parse("2026-11-21T12:00:00Z"), ZoneOffset.UTC);

  private static final Instant FIRST_DAY = Instant.parse("2026-11-19T00:00:00Z");
  private static final Instant SECOND_DAY = Instant.parse("2026-11-20T00:00:00Z");
  private static final Instant THIRD_DAY = Instant.parse("2026-11-21T00:00:00Z");

  private static Map<String, String> overrides;
  private static LakeConfig config;
  private static SparkSession spark;
  private static TrinoSql trino;

  @BeforeAll
  static void isolate() {
    spark = TestSpark.session();
    String name = "it" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    overrides = SharedStack.ownLakeAndEventTopics(name);
    config = LakeConfigLoader.load(System.getenv(), overrides);
    trino = new TrinoSql(config);
  }

  @AfterAll
  static void unregister() {
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
  void mergedViewsStayExactWhileTheWatermarkMovesAndVerifyFindsACorruptedRow() throws Exception {
    // Three merchants over 2026-11-19 00:00 .. 2026-11-21 06:00; the last day stays speed's.
    List<GeneratedEvent> events =
        new ArrayList<>(
            new EventGenerator(
                    11, List.of("LL-A", "LL-B", "LL-C"), FIRST_DAY, Duration.ofHours(54), 0.1)
                .generate(3_000));
    land(events);

    new ServingSetup(config).run(() -> spark, new PrintWriter(new StringWriter()));

    assertServingEquals(events);
    assertThat(layers()).containsOnlyKeys("speed");

    // The batch job covers the first day; the speed job has not dropped it yet: still counted once.
    batch(LocalDate.parse("2026-11-19"), "batch-1");
    assertThat(coveredUntil()).isEqualTo(SECOND_DAY);
    assertThat(speedEventsBefore(SECOND_DAY)).isPositive();
    assertServingEquals(events);
    assertThat(layers()).containsOnlyKeys("batch", "speed");

    // Readers that took their snapshots before the watermark moves again, in the order the view
    // reads the tables (speed, then coverage, then batch), still get the exact answer of that
    // moment after the batch job moved it and the speed job dropped the hours it covers.
    List<GeneratedEvent> beforeTheMove = List.copyOf(events);
    try (Connection speedRead =
            pinned(LakeTable.SPEED_EVENTS_HOURLY, LakeTable.SPEED_PAGES_HOURLY);
        Connection speedAndCoverageRead =
            pinned(
                LakeTable.SPEED_EVENTS_HOURLY,
                LakeTable.SPEED_PAGES_HOURLY,
                LakeTable.BATCH_COVERAGE);
        Connection wrongOrder =
            pinned(
                LakeTable.BATCH_COVERAGE,
                LakeTable.BATCH_EVENTS_HOURLY,
                LakeTable.BATCH_PAGES_HOURLY)) {
      // Trino drops a transaction idle for transaction.idle-timeout (5 minutes): keep these open.
      ScheduledExecutorService keepAlive = Executors.newSingleThreadScheduledExecutor();
      keepAlive.scheduleWithFixedDelay(
          () -> keepOpen(speedRead, speedAndCoverageRead, wrongOrder), 30, 30, TimeUnit.SECONDS);
      // Meanwhile a reader queries the view over and over: every answer is the total before the
      // fresh events or the one after them, never one with hours missing or counted twice.
      AtomicBoolean moving = new AtomicBoolean(true);
      ExecutorService reader = Executors.newSingleThreadExecutor();
      Future<List<Long>> totalsSeen =
          reader.submit(
              () -> {
                List<Long> seen = new ArrayList<>();
                do {
                  seen.add(servingEvents());
                  // A short pause: back to back, the reads starved the batch job of the 2 cores.
                  Thread.sleep(200);
                } while (moving.get());
                return seen;
              });
      batch(LocalDate.parse("2026-11-20"), "batch-1");
      assertThat(coveredUntil()).isEqualTo(THIRD_DAY);
      // The next speed batch (a few fresh events) drops the hours the batch layer now covers.
      events.addAll(landFresh(22));
      assertThat(speedEventsBefore(THIRD_DAY)).isZero();
      moving.set(false);
      List<Long> totals = totalsSeen.get(5, TimeUnit.MINUTES);
      reader.shutdown();
      keepAlive.shutdown();
      assertThat(keepAlive.awaitTermination(2, TimeUnit.MINUTES)).isTrue();
      long totalBefore = humans(beforeTheMove).size();
      long totalAfter = humans(events).size();
      assertThat(totals)
          .as("totals read while the watermark moved")
          .isNotEmpty()
          .allMatch(total -> total == totalBefore || total == totalAfter)
          .contains(totalAfter);

      assertServingEquals(beforeTheMove, speedRead);
      assertServingEquals(beforeTheMove, speedAndCoverageRead);
      assertServingEquals(events);
      // The control: a reader that took the coverage before speed dropped hours behind the new
      // coverage would miss the second day. The view's order of reads is what rules this out.
      assertThat(servingEventsBetween(wrongOrder, SECOND_DAY, THIRD_DAY)).isZero();
      try (Connection now = trino.connection()) {
        assertThat(servingEventsBetween(now, SECOND_DAY, THIRD_DAY)).isPositive();
      }
    }

    assertRollUpsEqual(events);
    assertBatchOnlyViewsStopAtTheCoverage();

    Result clean = verify("2026-11-19", "2026-11-22");
    assertThat(clean.exitCode()).as(clean.out()).isZero();
    assertThat(clean.out()).contains("the serving views equal raw.events");

    // Corrupt one batch row: lake verify reports exactly it and fails.
    Map<String, Long> expected = expectedEvents(events);
    String corrupted =
        expected.keySet().stream()
            .filter(key -> key.contains("|2026-11-19T10:00:00Z|"))
            .sorted()
            .findFirst()
            .orElseThrow();
    String[] parts = corrupted.split("\\|");
    DeltaTable.forPath(spark, LakeTable.BATCH_EVENTS_HOURLY.location(config.storage()))
        .update(
            expr(
                "tracking_id = '"
                    + parts[0]
                    + "' AND hour = TIMESTAMP '2026-11-19 10:00:00' AND event_name = '"
                    + parts[2]
                    + "'"),
            Map.of("events", expr("events + 1")));

    Result corrupt = verify("2026-11-19", "2026-11-22T00:00Z");
    assertThat(corrupt.exitCode()).isEqualTo(ExitCode.QUALITY_CHECK_FAILED.code());
    List<String> differences =
        corrupt.out().lines().filter(line -> line.startsWith("serving.")).toList();
    assertThat(differences)
        .containsExactly(
            "serving.events_hourly tracking_id="
                + parts[0]
                + " hour=2026-11-19T10:00:00Z event_name="
                + parts[2]
                + " metric=events expected="
                + expected.get(corrupted)
                + " actual="
                + (expected.get(corrupted) + 1));
    assertThat(corrupt.out()).contains("1 difference(s)");
    assertThat(corrupt.err()).contains("events_hourly: ").contains("1 differing");
  }

  // --- the pipeline -------------------------------------------------------------------------

  private static void land(List<GeneratedEvent> events) {
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(KafkaClientProperties.producer(config.kafka(), "serving-it"))) {
      for (GeneratedEvent event : events) {
        producer.send(
            new ProducerRecord<>(
                config.topics().eventsOther(),
                event.clientId().getBytes(UTF_8),
                event.toJson(event.eventTime().plusSeconds(1)).getBytes(UTF_8)));
      }
      producer.flush();
    }
    SpeedJob.run(
        spark,
        config,
        SpeedJob.Options.defaults().withMode(SpeedJob.Mode.AVAILABLE_NOW),
        quietly());
  }

  /** A few more events in the newest hour: the speed job's next batch also prunes. */
  private static List<GeneratedEvent> landFresh(long seed) {
    List<GeneratedEvent> fresh =
        new EventGenerator(
                seed,
                List.of("LL-A", "LL-B"),
                Instant.parse("2026-11-21T05:00:00Z"),
                Duration.ofMinutes(30),
                0.0)
            .generate(20);
    land(fresh);
    return fresh;
  }

  private static void batch(LocalDate day, String logicVersion) {
    BatchJob.run(
        spark,
        config,
        new BatchJob.Options(day, day, logicVersion, HourlyViews.BotPolicy.EXCLUDE_BOTS),
        quietly(),
        TODAY);
  }

  // --- what the views must say ------------------------------------------------------------

  private static Map<String, Long> expectedEvents(List<GeneratedEvent> events) {
    Map<String, Long> expected = new HashMap<>();
    for (GeneratedEvent event : humans(events)) {
      expected.merge(eventKey(event), 1L, Long::sum);
    }
    return expected;
  }

  private static List<GeneratedEvent> humans(List<GeneratedEvent> events) {
    return events.stream().filter(event -> !event.bot()).toList();
  }

  private static String eventKey(GeneratedEvent event) {
    return event.trackingId()
        + "|"
        + event.eventTime().truncatedTo(ChronoUnit.HOURS)
        + "|"
        + event.eventName();
  }

  private static void assertServingEquals(List<GeneratedEvent> events) throws SQLException {
    try (Connection connection = trino.connection()) {
      assertServingEquals(events, connection);
    }
  }

  /** serving.events_hourly and pages_hourly, read on this connection, equal the events. */
  private static void assertServingEquals(List<GeneratedEvent> events, Connection connection)
      throws SQLException {
    Map<String, BigDecimal> expectedValues = new HashMap<>();
    Map<String, Set<String>> expectedUsers = new HashMap<>();
    Map<String, Long> expectedPages = new HashMap<>();
    for (GeneratedEvent event : humans(events)) {
      String key = eventKey(event);
      event.value().ifPresent(value -> expectedValues.merge(key, value, BigDecimal::add));
      expectedUsers.computeIfAbsent(key, ignored -> new HashSet<>()).add(event.countedUser());
      if (event.eventName().equals(HourlyViews.PAGE_VIEW)) {
        expectedPages.merge(
            event.trackingId()
                + "|"
                + event.eventTime().truncatedTo(ChronoUnit.HOURS)
                + "|"
                + event.page(),
            1L,
            Long::sum);
      }
    }
    Map<String, Long> actual = new HashMap<>();
    for (List<Object> row :
        query(
            connection,
            "SELECT tracking_id, to_unixtime(hour), event_name, events, value_sum,"
                + " cardinality(CAST(users_sketch AS HyperLogLog)) FROM "
                + ServingView.EVENTS_HOURLY.qualifiedName(config.trino()))) {
      String key = key(row);
      assertThat(actual.put(key, ((Number) row.get(3)).longValue())).as("twice: " + key).isNull();
      BigDecimal value = (BigDecimal) row.get(4);
      if (expectedValues.containsKey(key)) {
        assertThat(value).as(key).isEqualByComparingTo(expectedValues.get(key));
      } else {
        assertThat(value).as(key).isNull();
      }
      double users = expectedUsers.getOrDefault(key, Set.of()).size();
      assertThat(((Number) row.get(5)).doubleValue())
          .as("unique users of %s", key)
          .isCloseTo(users, Offset.offset(Math.max(1.0, users * 0.03)));
    }
    assertThat(actual).isEqualTo(expectedEvents(events));
    Map<String, Long> actualPages = new HashMap<>();
    for (List<Object> row :
        query(
            connection,
            "SELECT tracking_id, to_unixtime(hour), page_url, pageviews FROM "
                + ServingView.PAGES_HOURLY.qualifiedName(config.trino()))) {
      String key = key(row);
      assertThat(actualPages.put(key, ((Number) row.get(3)).longValue()))
          .as("twice: " + key)
          .isNull();
    }
    assertThat(actualPages).isEqualTo(expectedPages);
  }

  /** Daily, weekly and monthly roll-ups: the events of their periods, uniques merged. */
  private static void assertRollUpsEqual(List<GeneratedEvent> events) {
    for (ServingView view :
        List.of(ServingView.EVENTS_DAILY, ServingView.EVENTS_WEEKLY, ServingView.EVENTS_MONTHLY)) {
      Map<String, Long> expected = new HashMap<>();
      Map<String, Set<String>> users = new HashMap<>();
      for (GeneratedEvent event : humans(events)) {
        LocalDate day = LocalDate.ofInstant(event.eventTime(), ZoneOffset.UTC);
        LocalDate start =
            switch (view) {
              case EVENTS_WEEKLY -> day.minusDays(day.getDayOfWeek().getValue() - 1L);
              case EVENTS_MONTHLY -> day.withDayOfMonth(1);
              default -> day;
            };
        String key = event.trackingId() + "|" + start + "|" + event.eventName();
        expected.merge(key, 1L, Long::sum);
        users.computeIfAbsent(key, ignored -> new HashSet<>()).add(event.countedUser());
      }
      Map<String, Long> actual = new HashMap<>();
      for (List<Object> row :
          trino.query(
              "SELECT tracking_id, CAST(period_start AS varchar), event_name, events, users,"
                  + " cardinality(CAST(users_sketch AS HyperLogLog)) FROM "
                  + view.qualifiedName(config.trino()))) {
        String key = row.get(0) + "|" + row.get(1) + "|" + row.get(2);
        actual.put(key, ((Number) row.get(3)).longValue());
        double expectedUsers = users.get(key).size();
        assertThat(((Number) row.get(4)).doubleValue())
            .as("%s unique users of %s", view, key)
            .isCloseTo(expectedUsers, Offset.offset(Math.max(1.0, expectedUsers * 0.03)))
            .isEqualTo(((Number) row.get(5)).doubleValue());
      }
      assertThat(actual).as(view.viewName()).isEqualTo(expected);
    }
  }

  /** The batch-only daily views exist (empty tables created by init) and stop at the coverage. */
  private static void assertBatchOnlyViewsStopAtTheCoverage() {
    for (ServingView view :
        List.of(
            ServingView.SESSIONS_DAILY, ServingView.TOP_PAGES_DAILY, ServingView.TRAFFIC_DAILY)) {
      List<List<Object>> late =
          trino.query(
              "SELECT count(*) FROM "
                  + view.qualifiedName(config.trino())
                  + " WHERE event_date >= DATE '2026-11-21'");
      assertThat(((Number) late.get(0).get(0)).longValue()).as(view.viewName()).isZero();
    }
  }

  // --- reading --------------------------------------------------------------------------------

  private static String key(List<Object> row) {
    return row.get(0)
        + "|"
        + Instant.ofEpochSecond(((Number) row.get(1)).longValue())
        + "|"
        + row.get(2);
  }

  private static Map<String, Long> layers() {
    Map<String, Long> layers = new HashMap<>();
    for (List<Object> row :
        trino.query(
            "SELECT layer, count(*) FROM "
                + ServingView.EVENTS_HOURLY.qualifiedName(config.trino())
                + " GROUP BY layer")) {
      layers.put((String) row.get(0), ((Number) row.get(1)).longValue());
    }
    return layers;
  }

  private static Instant coveredUntil() {
    Object value =
        trino.scalar(
            "SELECT to_unixtime(max(covered_until)) FROM "
                + config.trino().schema("batch")
                + ".coverage WHERE view = 'events_hourly'");
    return Instant.ofEpochSecond(((Number) value).longValue());
  }

  private static long speedEventsBefore(Instant hour) {
    return ((Number)
            trino.scalar(
                "SELECT count(*) FROM "
                    + config.trino().schema("speed")
                    + ".events_hourly WHERE hour < from_unixtime("
                    + hour.getEpochSecond()
                    + ")"))
        .longValue();
  }

  private static long servingEvents() throws SQLException {
    try (Connection connection = trino.connection()) {
      return servingEventsBetween(connection, FIRST_DAY, Instant.parse("2026-11-22T00:00:00Z"));
    }
  }

  private static long servingEventsBetween(Connection connection, Instant from, Instant to)
      throws SQLException {
    List<List<Object>> rows =
        query(
            connection,
            "SELECT coalesce(sum(events), 0) FROM "
                + ServingView.EVENTS_HOURLY.qualifiedName(config.trino())
                + " WHERE hour >= from_unixtime("
                + from.getEpochSecond()
                + ") AND hour < from_unixtime("
                + to.getEpochSecond()
                + ")");
    return ((Number) rows.get(0).get(0)).longValue();
  }

  /**
   * A connection in a transaction that has read these tables: Trino keeps the snapshot of each
   * table a transaction first read, so the view later reads them as they were now.
   */
  private static Connection pinned(LakeTable... tables) throws SQLException {
    Connection connection = trino.connection();
    connection.setAutoCommit(false);
    for (LakeTable table : tables) {
      query(
          connection,
          "SELECT count(*) FROM " + config.trino().schema(table.zone()) + "." + table.table());
    }
    return connection;
  }

  /** A query that reads no table: it keeps a transaction open without pinning anything more. */
  private static void keepOpen(Connection... connections) {
    for (Connection connection : connections) {
      try {
        query(connection, "SELECT 1");
      } catch (SQLException e) {
        throw new IllegalStateException("A pinned transaction was closed: " + e.getMessage(), e);
      }
    }
  }

  /** Every row, read to the end: closing a result early cancels the query and the transaction. */
  private static List<List<Object>> query(Connection connection, String sql) throws SQLException {
    try (Statement statement = connection.createStatement();
        ResultSet result = statement.executeQuery(sql)) {
      int columns = result.getMetaData().getColumnCount();
      List<List<Object>> rows = new ArrayList<>();
      while (result.next()) {
        List<Object> row = new ArrayList<>(columns);
        for (int column = 1; column <= columns; column++) {
          row.add(result.getObject(column));
        }
        rows.add(row);
      }
      return rows;
    }
  }

  private record Result(int exitCode, String out, String err) {}

  private static Result verify(String from, String to) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int exitCode =
        new Launcher(
                System.getenv(),
                overrides,
                new PrintWriter(out, true),
                new PrintWriter(err, true),
                Clock.systemUTC())
            .execute(new VerifyCommand(), "--from", from, "--to", to, "--chunk-hours", "48");
    return new Result(exitCode, out.toString(), err.toString());
  }

  private static PrintStream quietly() {
    return new PrintStream(new ByteArrayOutputStream(), true, UTF_8);
  }
}
