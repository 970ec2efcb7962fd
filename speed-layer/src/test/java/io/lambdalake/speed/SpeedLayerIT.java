package io.lambdalake.speed;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.apache.spark.sql.functions.col;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.delta.tables.DeltaTable;
import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.config.LakeConfigLoader;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.common.kafka.KafkaClientProperties;
import io.lambdalake.common.table.LakeTable;
import io.lambdalake.ingestion.collector.generate.EventGenerator;
import io.lambdalake.ingestion.collector.generate.GeneratedEvent;
import io.lambdalake.ingestion.landing.EventLanding;
import io.lambdalake.spark.DeltaTables;
import io.lambdalake.spark.sketch.UniqueUsers;
import io.lambdalake.spark.views.HourlyViews;
import io.lambdalake.stack.testing.JobProcesses;
import io.lambdalake.stack.testing.SharedStack;
import io.lambdalake.stack.testing.TestSpark;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Landing and speed views on the real stack: what lands in raw.events and the speed views equals
 * what an independent computation over the generated events says, with quarantine, deduplication,
 * late events, and kill -9 restarts.
 */
class SpeedLayerIT {
  private static final Instant START = Instant.parse("2026-11-20T08:00:00Z");
  private static final List<String> MERCHANTS = List.of("LL-BIG", "LL-MID", "LL-SMALL");

  /** One test's own topics, tables and checkpoints, so tests never see each other's data. */
  private record Run(String name, LakeConfig config, Map<String, String> overrides) {
    static Run create() {
      return create(Map.of());
    }

    static Run create(Map<String, String> more) {
      String name = "it" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
      Map<String, String> overrides = new HashMap<>(more);
      overrides.putAll(SharedStack.ownLakeAndEventTopics(name));
      return new Run(
          name, LakeConfigLoader.load(System.getenv(), overrides), Map.copyOf(overrides));
    }

    String topicFor(String eventName) {
      return switch (eventName) {
        case "page_view", "purchase" -> config.topics().eventsPrefix() + eventName;
        default -> config.topics().eventsOther();
      };
    }
  }

  @Test
  void landsEnrichesQuarantinesAndCountsEveryEventOnce() {
    Run run = Run.create();
    SparkSession spark = TestSpark.session();
    EventGenerator generator = new EventGenerator(7, MERCHANTS, START, Duration.ofHours(4), 0.1);
    List<GeneratedEvent> events = generator.generate(3_000);
    List<String> bad = new ArrayList<>();
    bad.add("{not json");
    bad.add("[1, 2, 3]");
    bad.add("\"a string\"");
    bad.add("{\"schema_version\": 2, \"event_id\": \"x\"}");
    bad.add(withoutField(events.get(0), "tracking_id"));
    bad.add(withoutField(events.get(1), "event_id"));
    bad.add(
        events.get(2).toJson(START).replace(format(events.get(2).eventTime()), "yesterday-ish"));
    bad.add(
        events.get(3).toJson(START).replace("\"client_id\":\"", "\"client_id\":\"  \",\"x\":\""));
    String collectorQuarantine =
        "{\"source\":\"collector\",\"reason\":\"unknown_tracking_id\",\"field\":\"tracking_id\","
            + "\"message\":\"LL-NOPE is not registered\",\"received_at\":\"2026-11-20T09:00:00Z\","
            + "\"endpoint\":\"/v1/collect\",\"payload\":\"{}\",\"payload_encoding\":\"utf-8\","
            + "\"payload_size\":2,\"payload_truncated\":false}";

    // Bad records take the place of events 0..3, which are therefore never sent valid.
    List<GeneratedEvent> valid = events.subList(4, events.size());
    try (KafkaProducer<byte[], byte[]> producer = producer()) {
      send(producer, run, valid);
      // A client retrying 200 events: same event ids, sent again.
      send(producer, run, valid.subList(0, 200));
      for (String record : bad) {
        producer.send(
            new ProducerRecord<>(run.config.topics().eventsOther(), record.getBytes(UTF_8)));
      }
      producer.send(
          new ProducerRecord<>(
              run.config.topics().eventsQuarantine(), collectorQuarantine.getBytes(UTF_8)));
      producer.send(
          new ProducerRecord<>(
              run.config.topics().eventsOther(), new byte[] {(byte) 0xff, (byte) 0xfe, '{'}));
      producer.flush();
    }

    SpeedJob.run(spark, run.config, availableNow(), quietly());

    Dataset<Row> raw = table(spark, run, LakeTable.RAW_EVENTS);
    assertThat(raw.count()).isEqualTo(valid.size());
    assertThat(raw.select("event_id").distinct().count()).isEqualTo(valid.size());
    assertThat(raw.filter(col("is_bot")).count())
        .isEqualTo(valid.stream().filter(GeneratedEvent::bot).count());
    Row purchase = raw.filter(col("event_name").equalTo("purchase")).orderBy("event_id").first();
    assertThat(purchase.<BigDecimal>getAs("value")).isPositive();
    assertThat(raw.filter(col("traffic_medium").equalTo("email")).count()).isPositive();
    assertThat(
            raw.filter(
                    col("traffic_source")
                        .equalTo("google")
                        .and(col("traffic_medium").equalTo("organic")))
                .count())
        .isPositive();
    assertThat(raw.filter(col("browser").isNull().and(col("is_bot").equalTo(false))).count())
        .isZero();

    Map<String, Long> reasons =
        table(spark, run, LakeTable.RAW_QUARANTINE)
            .groupBy("reason")
            .count()
            .collectAsList()
            .stream()
            .collect(Collectors.toMap(row -> row.getString(0), row -> row.getLong(1)));
    assertThat(reasons)
        .containsEntry("malformed_json", 4L)
        .containsEntry("unsupported_schema_version", 1L)
        .containsEntry("missing_field", 3L)
        .containsEntry("invalid_field", 1L)
        .containsEntry("unknown_tracking_id", 1L);
    assertThat(reasons.values().stream().mapToLong(Long::longValue).sum())
        .isEqualTo(bad.size() + 2);

    assertViewsMatch(spark, run, valid);

    // Late events: one 90 minutes and one 6 hours behind the newest; both count in their hours.
    Instant newest =
        valid.stream().map(GeneratedEvent::eventTime).max(Instant::compareTo).orElseThrow();
    GeneratedEvent lateInside =
        relabel(valid.get(10), "late-inside", newest.minus(Duration.ofMinutes(90)));
    GeneratedEvent lateOutside =
        relabel(valid.get(11), "late-outside", newest.minus(Duration.ofHours(6)));
    try (KafkaProducer<byte[], byte[]> producer = producer()) {
      send(producer, run, List.of(lateInside, lateOutside));
      producer.flush();
    }
    SpeedJob.run(spark, run.config, availableNow(), quietly());

    assertThat(raw.filter(col("event_id").isin("late-inside", "late-outside")).count())
        .isEqualTo(2);
    List<GeneratedEvent> counted = new ArrayList<>(valid);
    counted.add(lateInside);
    counted.add(lateOutside);
    assertViewsMatch(spark, run, counted);

    // The batch layer now covers everything before 11:00: the speed job drops those hours and
    // does not write them again, even for a new event in a covered hour.
    Instant coveredUntil = Instant.parse("2026-11-20T11:00:00Z");
    spark
        .sql(
            "SELECT 'events_hourly' AS view, TIMESTAMP '2026-11-20 11:00:00' AS covered_until,"
                + " 'test-run' AS run_id, 'batch-1' AS logic_version, current_timestamp() AS updated_at"
                + " UNION ALL SELECT 'pages_hourly', TIMESTAMP '2026-11-20 11:00:00', 'test-run',"
                + " 'batch-1', current_timestamp()")
        .write()
        .format("delta")
        .save(LakeTable.BATCH_COVERAGE.location(run.config.storage()));
    GeneratedEvent inCoveredHour =
        relabel(valid.get(12), "covered-hour", Instant.parse("2026-11-20T10:45:00Z"));
    GeneratedEvent afterCoverage =
        relabel(valid.get(13), "after-coverage", Instant.parse("2026-11-20T11:15:00Z"));
    try (KafkaProducer<byte[], byte[]> producer = producer()) {
      send(producer, run, List.of(inCoveredHour, afterCoverage));
      producer.flush();
    }
    SpeedJob.run(spark, run.config, availableNow(), quietly());

    for (LakeTable view : List.of(LakeTable.SPEED_EVENTS_HOURLY, LakeTable.SPEED_PAGES_HOURLY)) {
      Dataset<Row> rows = table(spark, run, view);
      assertThat(rows.filter(col("hour").lt(Timestamp.from(coveredUntil))).count())
          .as("%s rows before the coverage", view)
          .isZero();
      assertThat(rows.filter(col("hour").geq(Timestamp.from(coveredUntil))).count()).isPositive();
    }
    List<GeneratedEvent> uncovered =
        new ArrayList<>(
            counted.stream().filter(event -> !event.eventTime().isBefore(coveredUntil)).toList());
    uncovered.add(afterCoverage);
    assertViewsMatch(spark, run, uncovered, lateOutside, inCoveredHour);
  }

  @Test
  void killedAndRestartedSeveralTimesGivesTheSameTables() throws Exception {
    Run run = Run.create();
    SparkSession spark = TestSpark.session();
    List<GeneratedEvent> events =
        // Whatever batch and attempt lands an event, it must be counted exactly once.
        new EventGenerator(11, MERCHANTS, START, Duration.ofMinutes(90), 0.05).generate(6_000);
    int parts = 4;
    int partSize = events.size() / parts;
    Path log = Files.createTempFile("speed-job-", ".log");
    try (KafkaProducer<byte[], byte[]> producer = producer()) {
      for (int part = 0; part < parts - 1; part++) {
        send(producer, run, events.subList(part * partSize, (part + 1) * partSize));
        producer.flush();
        long landedBefore = landedRows(spark, run);
        Process job = startJobProcess(run, log);
        try {
          // Let it land some of the new events, then kill it without warning; each time a little
          // later, so the kills hit different points of the job's batches.
          await()
              .atMost(Duration.ofMinutes(4))
              .pollInterval(Duration.ofMillis(250))
              .until(() -> !job.isAlive() || landedRows(spark, run) > landedBefore);
          assertThat(job.isAlive()).as("speed job alive; log: %s", log).isTrue();
          await().pollDelay(Duration.ofMillis(1 + 1500L * part)).until(() -> true);
        } finally {
          job.destroyForcibly();
          assertThat(job.waitFor(30, TimeUnit.SECONDS)).isTrue();
        }
      }
      send(producer, run, events.subList((parts - 1) * partSize, events.size()));
      // Retries again, after all the restarts.
      send(producer, run, events.subList(0, 300));
      producer.flush();
    }

    SpeedJob.run(spark, run.config, availableNow(), quietly());

    Dataset<Row> raw = table(spark, run, LakeTable.RAW_EVENTS);
    assertThat(raw.count()).isEqualTo(events.size());
    assertThat(raw.select("event_id").distinct().count()).isEqualTo(events.size());
    assertViewsMatch(spark, run, events);
  }

  /**
   * A rolling upgrade: SIGTERM stops the job between two micro-batches (each query's checkpoint
   * holds as many commits as offsets: no batch half done), the next version starts from the same
   * checkpoints, and every event is counted once across two stops.
   */
  @Test
  @Tag("fault")
  void aStoppedJobEndsBetweenMicroBatchesAndTheNextVersionGoesOnFromThere() throws Exception {
    Run run = Run.create();
    SparkSession spark = TestSpark.session();
    List<GeneratedEvent> events =
        new EventGenerator(29, MERCHANTS, START, Duration.ofMinutes(90), 0.05).generate(3_000);
    int half = events.size() / 2;
    Path log = Files.createTempFile("speed-job-stop-", ".log");
    try (KafkaProducer<byte[], byte[]> producer = producer()) {
      for (List<GeneratedEvent> part :
          List.of(events.subList(0, half), events.subList(half, events.size()))) {
        long landedBefore = landedRows(spark, run);
        send(producer, run, part);
        producer.flush();
        Process job = startJobProcess(run, log);
        try {
          await()
              .atMost(Duration.ofMinutes(4))
              .pollInterval(Duration.ofMillis(250))
              .until(() -> !job.isAlive() || landedRows(spark, run) > landedBefore);
          assertThat(job.isAlive()).as("speed job alive; log: %s", log).isTrue();
          job.destroy(); // SIGTERM, as a supervisor or a rolling upgrade stops it
          assertThat(job.waitFor(3, TimeUnit.MINUTES))
              .as("stopped within the stop timeout; log: %s", log)
              .isTrue();
        } finally {
          job.destroyForcibly();
        }
        String output = Files.readString(log);
        for (String query : queryNames()) {
          assertThat(output).contains(String.format("%-20s stopped between micro-batches", query));
          assertThat(uncommittedBatches(spark, run, query))
              .as("batches of %s with offsets but no commit", query)
              .isEmpty();
        }
      }
    }

    SpeedJob.run(spark, run.config, availableNow(), quietly());

    Dataset<Row> raw = table(spark, run, LakeTable.RAW_EVENTS);
    assertThat(raw.count()).isEqualTo(events.size());
    assertThat(raw.select("event_id").distinct().count()).isEqualTo(events.size());
    assertViewsMatch(spark, run, events);
  }

  private static List<String> queryNames() {
    return List.of(EventLanding.QUERY_NAME);
  }

  /** The batch ids of a query's checkpoint that have offsets but no commit. */
  private static Set<Long> uncommittedBatches(SparkSession spark, Run run, String query)
      throws IOException {
    org.apache.hadoop.fs.Path checkpoint =
        new org.apache.hadoop.fs.Path(run.config.storage().checkpointLocation(query));
    FileSystem fs = checkpoint.getFileSystem(spark.sparkContext().hadoopConfiguration());
    Set<Long> offsets = batchIds(fs, new org.apache.hadoop.fs.Path(checkpoint, "offsets"));
    offsets.removeAll(batchIds(fs, new org.apache.hadoop.fs.Path(checkpoint, "commits")));
    return offsets;
  }

  private static Set<Long> batchIds(FileSystem fs, org.apache.hadoop.fs.Path folder)
      throws IOException {
    Set<Long> ids = new HashSet<>();
    if (!fs.exists(folder)) {
      return ids;
    }
    for (FileStatus file : fs.listStatus(folder)) {
      if (file.getPath().getName().matches("\\d+")) {
        ids.add(Long.parseLong(file.getPath().getName()));
      }
    }
    return ids;
  }

  /**
   * Landing in small batches compacts raw.events (here once written in 2 batches instead of 100;
   * the vacuum after each is MirrorUpkeepIT's), and the views, whose stream reads raw.events across
   * those compactions, still count every event once.
   */
  @Test
  void smallLandingBatchesCompactRawEventsAndTheViewsCountEveryEventOnce() {
    Run run = Run.create(Map.of("lake.speed.compact-every-batches", "2"));
    SparkSession spark = TestSpark.session();
    List<GeneratedEvent> events =
        new EventGenerator(23, MERCHANTS, START, Duration.ofMinutes(90), 0.05).generate(2_400);
    String location = LakeTable.RAW_EVENTS.location(run.config.storage());
    SpeedJob.Options smallBatches = availableNow(300);
    // Two runs: the views' second run goes on from its checkpoint in raw.events, past the
    // compactions the landing committed since; a compaction read as new rows counts them twice.
    int half = events.size() / 2;
    for (List<GeneratedEvent> part :
        List.of(events.subList(0, half), events.subList(half, events.size()))) {
      try (KafkaProducer<byte[], byte[]> producer = producer()) {
        send(producer, run, part);
        producer.flush();
      }
      SpeedJob.run(spark, run.config, smallBatches, quietly());
    }

    Dataset<Row> raw = table(spark, run, LakeTable.RAW_EVENTS);
    assertThat(raw.count()).isEqualTo(events.size());
    assertThat(raw.select("event_id").distinct().count()).isEqualTo(events.size());
    assertViewsMatch(spark, run, events);
    List<Row> history =
        DeltaTable.forPath(spark, location).history().select("operation").collectAsList();
    long appends = history.stream().filter(row -> row.getString(0).equals("WRITE")).count();
    assertThat(appends).as("landing batches").isGreaterThanOrEqualTo(6);
    assertThat(history.stream().filter(row -> row.getString(0).equals("OPTIMIZE")).count())
        .as("compactions of raw.events")
        .isGreaterThanOrEqualTo(2);
    assertThat(raw.inputFiles().length)
        .as("files of raw.events after %d appends", appends)
        .isLessThan((int) appends);
  }

  private static long landedRows(SparkSession spark, Run run) {
    String location = LakeTable.RAW_EVENTS.location(run.config.storage());
    if (!DeltaTables.exists(spark, location)) {
      return 0;
    }
    return spark.read().format("delta").load(location).count();
  }

  private static Process startJobProcess(Run run, Path log) throws Exception {
    return JobProcesses.start(
        SpeedJob.class, run.overrides, List.of("--trigger=1s", "--progress=2s"), log);
  }

  private static void assertViewsMatch(
      SparkSession spark, Run run, List<GeneratedEvent> events, GeneratedEvent... notCounted) {
    List<GeneratedEvent> humans = events.stream().filter(event -> !event.bot()).toList();
    Map<String, Long> expectedCounts = new HashMap<>();
    Map<String, BigDecimal> expectedValues = new HashMap<>();
    Map<String, Set<String>> expectedUsers = new HashMap<>();
    for (GeneratedEvent event : humans) {
      String key =
          event.trackingId()
              + "|"
              + event.eventTime().truncatedTo(ChronoUnit.HOURS)
              + "|"
              + event.eventName();
      expectedCounts.merge(key, 1L, Long::sum);
      event.value().ifPresent(value -> expectedValues.merge(key, value, BigDecimal::add));
      expectedUsers.computeIfAbsent(key, ignored -> new HashSet<>()).add(event.countedUser());
    }
    Map<String, Long> actualCounts = new HashMap<>();
    Map<String, BigDecimal> actualValues = new HashMap<>();
    Map<String, Long> actualUsers = new HashMap<>();
    for (Row row : table(spark, run, LakeTable.SPEED_EVENTS_HOURLY).collectAsList()) {
      String key =
          row.<String>getAs("tracking_id")
              + "|"
              + row.<Timestamp>getAs("hour").toInstant()
              + "|"
              + row.<String>getAs("event_name");
      actualCounts.put(key, row.getAs("events"));
      BigDecimal valueSum = row.getAs("value_sum");
      if (valueSum != null) {
        actualValues.put(key, valueSum);
      }
      actualUsers.put(key, UniqueUsers.cardinality(row.getAs("users_sketch")));
    }
    assertThat(actualCounts).isEqualTo(expectedCounts);
    assertThat(actualValues.keySet()).isEqualTo(expectedValues.keySet());
    expectedValues.forEach(
        (key, value) -> assertThat(actualValues.get(key)).as(key).isEqualByComparingTo(value));
    expectedUsers.forEach(
        (key, users) ->
            assertThat((double) actualUsers.get(key))
                .as("unique users of %s", key)
                .isCloseTo(users.size(), Offset.offset(Math.max(1.0, users.size() * 0.03))));
    for (GeneratedEvent late : notCounted) {
      String key =
          late.trackingId()
              + "|"
              + late.eventTime().truncatedTo(ChronoUnit.HOURS)
              + "|"
              + late.eventName();
      assertThat(actualCounts)
          .as("an event in an hour the batch layer covers is not in the speed view")
          .doesNotContainKey(key);
    }

    Map<String, Long> expectedPages = new HashMap<>();
    for (GeneratedEvent event : humans) {
      if (event.eventName().equals("page_view")) {
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
    Map<String, Long> actualPages =
        table(spark, run, LakeTable.SPEED_PAGES_HOURLY).collectAsList().stream()
            .collect(
                Collectors.toMap(
                    row ->
                        row.<String>getAs("tracking_id")
                            + "|"
                            + row.<Timestamp>getAs("hour").toInstant()
                            + "|"
                            + row.<String>getAs("page_url"),
                    row -> row.<Long>getAs("pageviews")));
    for (GeneratedEvent late : notCounted) {
      expectedPages.computeIfPresent(
          late.trackingId()
              + "|"
              + late.eventTime().truncatedTo(ChronoUnit.HOURS)
              + "|"
              + late.page(),
          (key, count) -> count);
    }
    assertThat(actualPages).isEqualTo(expectedPages);
  }

  private static GeneratedEvent relabel(GeneratedEvent event, String eventId, Instant time) {
    return new GeneratedEvent(
        eventId,
        event.trackingId(),
        event.eventName(),
        time,
        event.clientId(),
        event.userId(),
        event.sessionId(),
        event.pageUrl(),
        event.referrer(),
        "Mozilla/5.0 (X11; Linux x86_64;" + " rv:125.0) Gecko/20100101 Firefox/125.0",
        false,
        event.params(),
        event.value(),
        event.currency());
  }

  private static String withoutField(GeneratedEvent event, String field) {
    return event.toJson(START).replaceFirst("\"" + field + "\":\"[^\"]*\",", "");
  }

  private static String format(Instant instant) {
    return DateTimeFormatter.ISO_INSTANT.format(instant.truncatedTo(ChronoUnit.MILLIS));
  }

  /**
   * Kafka's data is reset (the run's topics deleted and written anew) while the lake keeps its
   * checkpoint: the landing refuses to start, names the topic and the way out, and lands nothing.
   */
  @Test
  void aCheckpointAheadOfKafkaStopsTheLandingWithTheTopicAndTheWayOut() throws Exception {
    Run run = Run.create();
    SparkSession spark = TestSpark.session();
    List<GeneratedEvent> events =
        new EventGenerator(11, MERCHANTS, START, Duration.ofHours(1), 0.0).generate(300);
    try (KafkaProducer<byte[], byte[]> producer = producer()) {
      send(producer, run, events);
      producer.flush();
    }
    SpeedJob.run(spark, run.config, landingOnly(), quietly());
    long landed = landedRows(spark, run);
    assertThat(landed).isEqualTo(events.size());

    try (Admin admin =
        Admin.create(KafkaClientProperties.admin(SharedStack.config().kafka(), "speed-it"))) {
      Set<String> topics =
          admin.listTopics().names().get(30, TimeUnit.SECONDS).stream()
              .filter(topic -> topic.startsWith(run.name + "."))
              .collect(Collectors.toSet());
      assertThat(topics).isNotEmpty();
      admin.deleteTopics(topics).all().get(30, TimeUnit.SECONDS);
      await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () ->
                  admin.listTopics().names().get(30, TimeUnit.SECONDS).stream()
                      .noneMatch(topics::contains));
    }
    try (KafkaProducer<byte[], byte[]> producer = producer()) {
      send(producer, run, events.subList(0, 3));
      producer.flush();
    }

    assertThatThrownBy(() -> SpeedJob.run(spark, run.config, landingOnly(), quietly()))
        .isInstanceOfSatisfying(
            LakeException.class,
            e -> assertThat(e.errorCode()).isEqualTo(ErrorCode.CHECKPOINT_AHEAD_OF_SOURCE))
        .hasMessageContaining("The landing checkpoint has read further than Kafka holds")
        .hasMessageContaining(run.name + ".events.")
        .hasMessageContaining("scripts/stack reset --yes")
        .hasMessageContaining(run.config.storage().checkpointLocation("landing"));
    assertThat(landedRows(spark, run)).isEqualTo(landed);
  }

  /**
   * Events hours late count in their hour (there is no lateness, only the batch coverage); a run
   * that only lands leaves the views behind raw.events, and the next run with the views recomputes
   * them before its first batch; an explicit rebuild gives the same views.
   */
  @Test
  void lateEventsCountAndViewsBehindRawEventsAreRecomputedBeforeTheNextBatch() {
    Run run = Run.create();
    SparkSession spark = TestSpark.session();
    List<GeneratedEvent> recent =
        new EventGenerator(13, MERCHANTS, START.plus(Duration.ofHours(6)), Duration.ofHours(1), 0.0)
            .generate(400);
    List<GeneratedEvent> late =
        new EventGenerator(17, MERCHANTS, START, Duration.ofHours(1), 0.0).generate(300);
    List<GeneratedEvent> landedOnly =
        new EventGenerator(19, MERCHANTS, START.plus(Duration.ofHours(3)), Duration.ofHours(1), 0.0)
            .generate(200);
    List<GeneratedEvent> afterwards =
        new EventGenerator(23, MERCHANTS, START.plus(Duration.ofHours(7)), Duration.ofHours(1), 0.0)
            .generate(100);
    List<GeneratedEvent> all = new ArrayList<>(recent);
    try (KafkaProducer<byte[], byte[]> producer = producer()) {
      send(producer, run, recent);
      producer.flush();
    }
    SpeedJob.run(spark, run.config, availableNow(), quietly());
    try (KafkaProducer<byte[], byte[]> producer = producer()) {
      send(producer, run, late);
      producer.flush();
    }
    SpeedJob.run(spark, run.config, availableNow(), quietly());
    all.addAll(late);
    assertThat(landedRows(spark, run)).isEqualTo(all.size());
    assertViewsMatch(spark, run, all);

    try (KafkaProducer<byte[], byte[]> producer = producer()) {
      send(producer, run, landedOnly);
      producer.flush();
    }
    SpeedJob.run(spark, run.config, landingOnly(), quietly());
    all.addAll(landedOnly);
    assertThat(landedRows(spark, run)).isEqualTo(all.size());
    assertThat(speedEvents(spark, run))
        .as("a landing-only run leaves the views as they were")
        .isEqualTo(recent.size() + late.size());

    try (KafkaProducer<byte[], byte[]> producer = producer()) {
      send(producer, run, afterwards);
      producer.flush();
    }
    SpeedJob.run(spark, run.config, availableNow(), quietly());
    all.addAll(afterwards);
    assertViewsMatch(spark, run, all);

    SpeedJob.rebuildViews(spark, run.config, HourlyViews.BotPolicy.EXCLUDE_BOTS, quietly());
    assertViewsMatch(spark, run, all);
    // Nothing new: the rebuilt views record every landing batch, so a run recomputes nothing.
    SpeedJob.run(spark, run.config, availableNow(), quietly());
    assertViewsMatch(spark, run, all);
  }

  private static long speedEvents(SparkSession spark, Run run) {
    Row total =
        table(spark, run, LakeTable.SPEED_EVENTS_HOURLY)
            .agg(org.apache.spark.sql.functions.sum("events"))
            .first();
    return total.isNullAt(0) ? 0 : total.getLong(0);
  }

  private static SpeedJob.Options landingOnly() {
    return availableNow().withQueries(SpeedJob.Queries.LANDING);
  }

  private static SpeedJob.Options availableNow() {
    return availableNow(100_000);
  }

  private static SpeedJob.Options availableNow(long maxRecordsPerBatch) {
    return new SpeedJob.Options(
        SpeedJob.Queries.ALL,
        SpeedJob.Mode.AVAILABLE_NOW,
        Duration.ofSeconds(1),
        Duration.ofHours(1),
        maxRecordsPerBatch,
        HourlyViews.BotPolicy.EXCLUDE_BOTS,
        Duration.ofSeconds(5));
  }

  private static PrintStream quietly() {
    return new PrintStream(new ByteArrayOutputStream(), true, UTF_8);
  }

  private static Dataset<Row> table(SparkSession spark, Run run, LakeTable table) {
    return spark.read().format("delta").load(table.location(run.config.storage()));
  }

  private static KafkaProducer<byte[], byte[]> producer() {
    return new KafkaProducer<>(
        KafkaClientProperties.producer(SharedStack.config().kafka(), "speed-it"));
  }

  private static void send(
      KafkaProducer<byte[], byte[]> producer, Run run, List<GeneratedEvent> events) {
    for (GeneratedEvent event : events) {
      producer.send(
          new ProducerRecord<>(
              run.topicFor(event.eventName()),
              event.clientId().getBytes(UTF_8),
              event.toJson(event.eventTime().plusSeconds(1)).getBytes(UTF_8)));
    }
  }
}
