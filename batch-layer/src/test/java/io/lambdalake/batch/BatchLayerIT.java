package io.lambdalake.batch;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.hex;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.config.LakeConfigLoader;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.common.kafka.KafkaClientProperties;
import io.lambdalake.common.table.LakeTable;
import io.lambdalake.ingestion.collector.generate.EventGenerator;
import io.lambdalake.ingestion.collector.generate.GeneratedEvent;
import io.lambdalake.spark.DeltaTables;
import io.lambdalake.spark.sketch.UniqueUsers;
import io.lambdalake.spark.views.HourlyViews;
import io.lambdalake.speed.SpeedJob;
import io.lambdalake.stack.testing.JobProcesses;
import io.lambdalake.stack.testing.SharedStack;
import io.lambdalake.stack.testing.TestSpark;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The batch layer on the real stack: events land through the speed layer's landing, and the batch
 * views of each day equal an independent computation, are identical when recomputed, pick up late
 * events on the next run, and move the coverage only forward and never into today.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class BatchLayerIT {
  private static final Clock TODAY =
      Clock.fixed(Instant.parse("2026-11-22T06:00:00Z"), ZoneOffset.UTC);
  private static final LocalDate FIRST_DAY = LocalDate.parse("2026-11-19");
  private static final LocalDate SECOND_DAY = LocalDate.parse("2026-11-20");
  private static final List<LakeTable> VIEWS =
      List.of(
          LakeTable.BATCH_EVENTS_HOURLY,
          LakeTable.BATCH_PAGES_HOURLY,
          LakeTable.BATCH_EVENTS_DAILY,
          LakeTable.BATCH_PAGES_DAILY,
          LakeTable.BATCH_TRAFFIC_DAILY);

  private static Map<String, String> overrides;
  private static LakeConfig config;
  private static List<GeneratedEvent> events;

  /** Two days of events, 2026-11-19 20:00 to 2026-11-20 04:00, landed through the real landing. */
  @BeforeAll
  static void land() {
    String name = "it" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    overrides = SharedStack.ownLakeAndEventTopics(name);
    config = LakeConfigLoader.load(System.getenv(), overrides);
    events =
        new EventGenerator(
                5,
                List.of("LL-A", "LL-B"),
                Instant.parse("2026-11-19T20:00:00Z"),
                Duration.ofHours(8),
                0.1)
            .generate(2_500);
    land(TestSpark.session(), config, events);
  }

  @Test
  @Order(1)
  void recomputesEachDayFromRawIdenticallyAndAdvancesTheCoverage() {
    SparkSession spark = TestSpark.session();
    BatchJob.Options range =
        new BatchJob.Options(FIRST_DAY, SECOND_DAY, "batch-1", HourlyViews.BotPolicy.EXCLUDE_BOTS);

    BatchJob.run(spark, config, range, quietly(), TODAY);

    assertMatches(spark, config, events);
    DailyExpectation.fromRaw(table(spark, config, LakeTable.RAW_EVENTS))
        .assertMatches(spark, config);
    assertThat(coverage(spark, config))
        .containsEntry("events_hourly", Instant.parse("2026-11-21T00:00:00Z"))
        .containsEntry("pages_hourly", Instant.parse("2026-11-21T00:00:00Z"));
    Map<LakeTable, List<String>> first = contents(spark, config);

    BatchJob.run(spark, config, range, quietly(), TODAY);

    assertThat(contents(spark, config)).isEqualTo(first);

    // A late event for the first day: the next run that includes that day counts it.
    GeneratedEvent late = late(events.get(0), Instant.parse("2026-11-19T21:30:00Z"));
    land(spark, config, List.of(late));
    BatchJob.run(
        spark,
        config,
        new BatchJob.Options(
            LocalDate.parse("2026-11-19"),
            LocalDate.parse("2026-11-19"),
            "batch-2",
            HourlyViews.BotPolicy.EXCLUDE_BOTS),
        quietly(),
        TODAY);
    List<GeneratedEvent> all = new ArrayList<>(events);
    all.add(late);
    assertMatches(spark, config, all);
    DailyExpectation.fromRaw(table(spark, config, LakeTable.RAW_EVENTS))
        .assertMatches(spark, config);
    // The second day kept its rows and version; the recomputed day carries the new one.
    Dataset<Row> views = table(spark, config, LakeTable.BATCH_EVENTS_HOURLY);
    assertThat(
            views
                .filter(col("event_date").equalTo("2026-11-19"))
                .select("logic_version")
                .distinct()
                .collectAsList())
        .extracting(row -> row.getString(0))
        .containsExactly("batch-2");
    assertThat(
            views
                .filter(col("event_date").equalTo("2026-11-20"))
                .select("logic_version")
                .distinct()
                .collectAsList())
        .extracting(row -> row.getString(0))
        .containsExactly("batch-1");
    // Recomputing an earlier day does not move the coverage back.
    assertThat(coverage(spark, config))
        .containsEntry("events_hourly", Instant.parse("2026-11-21T00:00:00Z"));
  }

  @Test
  @Order(2)
  void aFailedQualityCheckPublishesNothing() {
    SparkSession spark = TestSpark.session();
    Map<LakeTable, List<String>> before = contents(spark, config);
    List<String> coverageBefore = coverageRows(spark, config);
    // A logic bug: the traffic view loses a row on the second day only, after the first day and
    // every other view passed their checks.
    BatchJob.Definitions faulty =
        (view, input, logicVersion, computedAt) -> {
          Dataset<Row> rows =
              BatchJob.Definitions.STANDARD.compute(view, input, logicVersion, computedAt);
          boolean secondDay =
              input.counted().filter(col("event_date").equalTo(SECOND_DAY.toString())).count() > 0;
          return view == BatchJob.View.TRAFFIC_DAILY && secondDay
              ? rows.orderBy("browser", "device_class", "traffic_source").offset(1)
              : rows;
        };

    assertThatThrownBy(
            () ->
                BatchJob.run(
                    spark,
                    config,
                    new BatchJob.Options(
                        FIRST_DAY, SECOND_DAY, "batch-broken", HourlyViews.BotPolicy.EXCLUDE_BOTS),
                    quietly(),
                    TODAY,
                    faulty))
        .isInstanceOf(LakeException.class)
        .hasMessageStartingWith(
            "Quality check failed, nothing published: batch.traffic_daily for 2026-11-20 adds up to")
        .hasMessageContaining("but the day's input has");

    assertThat(contents(spark, config)).isEqualTo(before);
    assertThat(coverageRows(spark, config)).isEqualTo(coverageBefore);
  }

  @Test
  @Order(3)
  void aJobKilledWhilePublishingLeavesWholeDaysAndTheCoverageAndARerunCompletes() throws Exception {
    SparkSession spark = TestSpark.session();
    List<String> coverageBefore = coverageRows(spark, config);
    Path log = Files.createTempFile("batch-job-", ".log");
    Process job =
        startJobProcess(
            log, "--from=" + FIRST_DAY, "--to=" + SECOND_DAY, "--logic-version=batch-killed");
    try {
      // Kill it without warning as soon as the first day is published, while it publishes the
      // second.
      await()
          .atMost(Duration.ofMinutes(10))
          .pollInterval(Duration.ofMillis(50))
          .until(() -> !job.isAlive() || Files.readString(log).contains(FIRST_DAY + ": published"));
      assertThat(job.isAlive()).as("batch job alive; log: %s", log).isTrue();
    } finally {
      job.destroyForcibly();
      assertThat(job.waitFor(30, TimeUnit.SECONDS)).isTrue();
    }

    assertThat(coverageRows(spark, config)).as("coverage after the kill").isEqualTo(coverageBefore);
    for (LakeTable view : VIEWS) {
      assertThat(logicVersions(spark, config, view, FIRST_DAY))
          .as("%s on the published day", view)
          .containsExactly("batch-killed");
      assertThat(logicVersions(spark, config, view, SECOND_DAY))
          .as(
              "%s on the day being published: the old day (or none) or the new one, never a mix",
              view)
          .hasSizeLessThan(2);
    }

    BatchJob.run(
        spark,
        config,
        new BatchJob.Options(
            FIRST_DAY, SECOND_DAY, "batch-killed", HourlyViews.BotPolicy.EXCLUDE_BOTS),
        quietly(),
        TODAY);

    for (LakeTable view : VIEWS) {
      for (LocalDate day : List.of(FIRST_DAY, SECOND_DAY)) {
        assertThat(logicVersions(spark, config, view, day))
            .as("%s %s", view, day)
            .containsExactly("batch-killed");
      }
    }
    DailyExpectation.fromRaw(table(spark, config, LakeTable.RAW_EVENTS))
        .assertMatches(spark, config);
    assertThat(coverage(spark, config))
        .containsEntry("events_hourly", Instant.parse("2026-11-21T00:00:00Z"));
  }

  private static List<String> logicVersions(
      SparkSession spark, LakeConfig config, LakeTable view, LocalDate day) {
    return table(spark, config, view)
        .filter(col("event_date").equalTo(day.toString()))
        .select("logic_version")
        .distinct()
        .collectAsList()
        .stream()
        .map(row -> row.getString(0))
        .toList();
  }

  private static Process startJobProcess(Path log, String... arguments) throws Exception {
    return JobProcesses.start(BatchJob.class, overrides, List.of(arguments), log);
  }

  private static void assertMatches(
      SparkSession spark, LakeConfig config, List<GeneratedEvent> events) {
    Map<String, Long> expected = new HashMap<>();
    Map<String, BigDecimal> expectedValues = new HashMap<>();
    Map<String, Set<String>> expectedUsers = new HashMap<>();
    Map<String, Long> expectedPages = new HashMap<>();
    for (GeneratedEvent event : events) {
      if (event.bot()) {
        continue;
      }
      String hour = event.eventTime().truncatedTo(ChronoUnit.HOURS).toString();
      String key = event.trackingId() + "|" + hour + "|" + event.eventName();
      expected.merge(key, 1L, Long::sum);
      event.value().ifPresent(value -> expectedValues.merge(key, value, BigDecimal::add));
      expectedUsers.computeIfAbsent(key, ignored -> new HashSet<>()).add(event.countedUser());
      if (event.eventName().equals("page_view")) {
        expectedPages.merge(event.trackingId() + "|" + hour + "|" + event.page(), 1L, Long::sum);
      }
    }
    Map<String, Long> actual = new HashMap<>();
    for (Row row : table(spark, config, LakeTable.BATCH_EVENTS_HOURLY).collectAsList()) {
      String key =
          row.<String>getAs("tracking_id")
              + "|"
              + row.<Timestamp>getAs("hour").toInstant()
              + "|"
              + row.<String>getAs("event_name");
      actual.put(key, row.getAs("events"));
      BigDecimal value = row.getAs("value_sum");
      if (expectedValues.containsKey(key)) {
        assertThat(value).as(key).isEqualByComparingTo(expectedValues.get(key));
      } else {
        assertThat(value).as(key).isNull();
      }
      double users = expectedUsers.get(key).size();
      assertThat((double) UniqueUsers.cardinality(row.getAs("users_sketch")))
          .as("unique users of %s", key)
          .isCloseTo(users, Offset.offset(Math.max(1.0, users * 0.03)));
    }
    assertThat(actual).isEqualTo(expected);
    Map<String, Long> actualPages = new HashMap<>();
    for (Row row : table(spark, config, LakeTable.BATCH_PAGES_HOURLY).collectAsList()) {
      actualPages.put(
          row.<String>getAs("tracking_id")
              + "|"
              + row.<Timestamp>getAs("hour").toInstant()
              + "|"
              + row.<String>getAs("page_url"),
          row.getAs("pageviews"));
    }
    assertThat(actualPages).isEqualTo(expectedPages);
  }

  private static Map<String, Instant> coverage(SparkSession spark, LakeConfig config) {
    Map<String, Instant> coverage = new HashMap<>();
    for (Row row : table(spark, config, LakeTable.BATCH_COVERAGE).collectAsList()) {
      coverage.put(row.getAs("view"), row.<Timestamp>getAs("covered_until").toInstant());
    }
    return coverage;
  }

  private static List<String> coverageRows(SparkSession spark, LakeConfig config) {
    if (!DeltaTables.exists(spark, LakeTable.BATCH_COVERAGE.location(config.storage()))) {
      return List.of();
    }
    return table(spark, config, LakeTable.BATCH_COVERAGE).collectAsList().stream()
        .map(Row::toString)
        .sorted()
        .toList();
  }

  /** Every row of every view as text, sketches as hex, in a stable order. */
  private static Map<LakeTable, List<String>> contents(SparkSession spark, LakeConfig config) {
    Map<LakeTable, List<String>> contents = new LinkedHashMap<>();
    for (LakeTable view : VIEWS) {
      Dataset<Row> rows =
          table(spark, config, view).withColumn("users_sketch", hex(col("users_sketch")));
      contents.put(view, rows.collectAsList().stream().map(Row::toString).sorted().toList());
    }
    return contents;
  }

  private static GeneratedEvent late(GeneratedEvent event, Instant time) {
    return new GeneratedEvent(
        "late-" + event.eventId(),
        event.trackingId(),
        "page_view",
        time,
        event.clientId(),
        event.userId(),
        event.sessionId(),
        event.pageUrl(),
        event.referrer(),
        "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
        false,
        Map.of(),
        Optional.empty(),
        Optional.empty());
  }

  private static void land(SparkSession spark, LakeConfig config, List<GeneratedEvent> events) {
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(KafkaClientProperties.producer(config.kafka(), "batch-it"))) {
      for (GeneratedEvent event : events) {
        producer.send(
            new ProducerRecord<>(
                config.topics().eventsOther(),
                event.clientId().getBytes(UTF_8),
                event.toJson(event.eventTime().plusSeconds(1)).getBytes(UTF_8)));
      }
      producer.flush();
    }
    SpeedJob.Options landing =
        new SpeedJob.Options(
            SpeedJob.Queries.LANDING,
            SpeedJob.Mode.AVAILABLE_NOW,
            Duration.ofSeconds(1),
            Duration.ofHours(1),
            100_000,
            HourlyViews.BotPolicy.EXCLUDE_BOTS,
            Duration.ofSeconds(5));
    SpeedJob.run(spark, config, landing, quietly());
  }

  static Dataset<Row> table(SparkSession spark, LakeConfig config, LakeTable table) {
    return spark.read().format("delta").load(table.location(config.storage()));
  }

  private static PrintStream quietly() {
    return new PrintStream(new ByteArrayOutputStream(), true, UTF_8);
  }
}
