package io.lambdalake.batch;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.sum;
import static org.assertj.core.api.Assertions.assertThat;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.config.LakeConfigLoader;
import io.lambdalake.common.kafka.KafkaClientProperties;
import io.lambdalake.common.table.LakeTable;
import io.lambdalake.ingestion.collector.generate.EventGenerator;
import io.lambdalake.ingestion.collector.generate.GeneratedEvent;
import io.lambdalake.spark.DirtyHours;
import io.lambdalake.spark.views.HourlyViews;
import io.lambdalake.speed.SpeedJob;
import io.lambdalake.stack.testing.SharedStack;
import io.lambdalake.stack.testing.TestSpark;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import org.apache.hadoop.fs.Path;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Issue 24, item 1: an event for a day the batch layer already covers, landed after that day's last
 * recompute, is counted by the next nightly run even when the day is outside the nightly's range.
 * In the {@code fault} tier ({@code scripts/test --all}) for its time: three batch runs and three
 * landings, over a minute alone.
 */
@Tag("fault")
class LateEventsIT {
  private static final Clock TODAY =
      Clock.fixed(Instant.parse("2026-11-25T06:00:00Z"), ZoneOffset.UTC);
  private static final LocalDate FIRST_DAY = LocalDate.parse("2026-11-19");
  private static final LocalDate SECOND_DAY = LocalDate.parse("2026-11-20");
  private static final Instant LATE_HOUR = Instant.parse("2026-11-19T21:00:00Z");

  @Test
  void aLateEventForACoveredDayIsCountedByTheNextNightlyOutsideItsRange() {
    SparkSession spark = TestSpark.session();
    LakeConfig config = isolatedConfig();
    List<GeneratedEvent> events =
        new EventGenerator(
                7, List.of("LL-L"), Instant.parse("2026-11-19T20:00:00Z"), Duration.ofHours(6), 0.0)
            .generate(300);
    land(spark, config, events);
    BatchJob.run(
        spark,
        config,
        new BatchJob.Options(FIRST_DAY, SECOND_DAY, "late-1", HourlyViews.BotPolicy.EXCLUDE_BOTS),
        quietly(),
        TODAY);
    assertThat(coveredUntil(spark, config)).isEqualTo(Instant.parse("2026-11-21T00:00:00Z"));
    long before = batchEvents(spark, config, LATE_HOUR);

    // Days later, an event of 2026-11-19 21:30 lands: its day is covered and out of the next
    // nightly's range (yesterday, 2026-11-24).
    String rawLocation = LakeTable.RAW_EVENTS.location(config.storage());
    Set<String> filesBefore = Set.of(table(spark, config, LakeTable.RAW_EVENTS).inputFiles());
    land(spark, config, List.of(late(events.get(0), LATE_HOUR.plusSeconds(30 * 60))));
    Set<String> filesAdded =
        new TreeSet<>(List.of(table(spark, config, LakeTable.RAW_EVENTS).inputFiles()));
    filesAdded.removeAll(filesBefore);

    // The dirty hours: that one hour, found by reading only the file the late landing added.
    DirtyHours.Result dirty =
        DirtyHours.find(spark, config, DirtyHours.currentVersion(spark, rawLocation));
    assertThat(dirty.days())
        .containsExactly(
            new DirtyHours.DirtyDay(
                FIRST_DAY, List.of(LATE_HOUR), DirtyHours.Reason.ADDED_SINCE_COMPUTED));
    assertThat(dirty.filesRead()).hasSize(1);
    assertThat(qualified(spark, Set.copyOf(dirty.filesRead())))
        .hasSameElementsAs(qualified(spark, filesAdded));
    assertThat(filesBefore).hasSizeGreaterThan(1);

    ByteArrayOutputStream output = new ByteArrayOutputStream();
    BatchJob.run(
        spark,
        config,
        new BatchJob.Options(
            LocalDate.parse("2026-11-24"),
            LocalDate.parse("2026-11-24"),
            "late-2",
            HourlyViews.BotPolicy.EXCLUDE_BOTS),
        new PrintStream(output, true, UTF_8),
        TODAY);

    assertThat(batchEvents(spark, config, LATE_HOUR))
        .as("events of %s in batch.events_hourly after the nightly", LATE_HOUR)
        .isEqualTo(before + 1);
    assertThat(batchEvents(spark, config, LATE_HOUR)).isEqualTo(rawEvents(spark, config));
    assertThat(output.toString(UTF_8))
        .contains("  2026-11-19 21:00: events landed after the day was last computed");
    assertThat(coveredUntil(spark, config)).isEqualTo(Instant.parse("2026-11-21T00:00:00Z"));
    assertThat(DirtyHours.find(spark, config, DirtyHours.currentVersion(spark, rawLocation)).days())
        .as("dirty hours after the nightly")
        .isEmpty();

    // lake batch --dirty: only the dirty days, the coverage stays.
    Instant lateHourOfSecondDay = Instant.parse("2026-11-20T01:00:00Z");
    long beforeSecond = batchEvents(spark, config, lateHourOfSecondDay);
    land(spark, config, List.of(late(events.get(1), lateHourOfSecondDay.plusSeconds(5 * 60))));
    BatchJob.run(
        spark,
        config,
        new BatchJob.Options(
            LocalDate.parse("2026-11-24"),
            LocalDate.parse("2026-11-24"),
            "late-3",
            HourlyViews.BotPolicy.EXCLUDE_BOTS,
            BatchJob.Scope.DIRTY_HOURS_ONLY),
        quietly(),
        TODAY);
    assertThat(batchEvents(spark, config, lateHourOfSecondDay)).isEqualTo(beforeSecond + 1);
    assertThat(coveredUntil(spark, config)).isEqualTo(Instant.parse("2026-11-21T00:00:00Z"));
    assertThat(
            table(spark, config, LakeTable.BATCH_EVENTS_HOURLY)
                .select("event_date", "logic_version")
                .distinct()
                .collectAsList()
                .stream()
                .map(row -> row.get(0) + " " + row.getString(1))
                .sorted()
                .toList())
        .as("only the dirty day was recomputed by --dirty")
        .containsExactly("2026-11-19 late-2", "2026-11-20 late-3");
  }

  /** The files as the file system names them, as Delta's log resolves them. */
  private static List<String> qualified(SparkSession spark, Set<String> files) {
    return files.stream()
        .map(
            file -> {
              try {
                Path path = new Path(file);
                return path.getFileSystem(spark.sessionState().newHadoopConf())
                    .makeQualified(path)
                    .toString();
              } catch (IOException e) {
                throw new UncheckedIOException(e);
              }
            })
        .toList();
  }

  /** The counted events of the hour in batch.events_hourly, the view serving reads below it. */
  static long batchEvents(SparkSession spark, LakeConfig config, Instant hour) {
    Row row =
        table(spark, config, LakeTable.BATCH_EVENTS_HOURLY)
            .filter(col("hour").equalTo(lit(Timestamp.from(hour))))
            .agg(sum(col("events")))
            .first();
    return row.isNullAt(0) ? 0 : row.getLong(0);
  }

  /** The counted events of {@link #LATE_HOUR} in raw.events: what a recompute gives. */
  static long rawEvents(SparkSession spark, LakeConfig config) {
    return HourlyViews.countedEvents(
            table(spark, config, LakeTable.RAW_EVENTS), HourlyViews.BotPolicy.EXCLUDE_BOTS)
        .filter(col("event_time").geq(lit(Timestamp.from(LATE_HOUR))))
        .filter(col("event_time").lt(lit(Timestamp.from(LATE_HOUR.plusSeconds(3600)))))
        .count();
  }

  static Instant coveredUntil(SparkSession spark, LakeConfig config) {
    return table(spark, config, LakeTable.BATCH_COVERAGE)
        .filter(col("view").equalTo("events_hourly"))
        .first()
        .<Timestamp>getAs("covered_until")
        .toInstant();
  }

  static LakeConfig isolatedConfig() {
    String name = "it" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    return LakeConfigLoader.load(System.getenv(), SharedStack.ownLakeAndEventTopics(name));
  }

  static GeneratedEvent late(GeneratedEvent event, Instant time) {
    return new GeneratedEvent(
        "late-" + UUID.randomUUID(),
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

  /** Produces the events to Kafka and lands them into raw.events with the real landing query. */
  static void land(SparkSession spark, LakeConfig config, List<GeneratedEvent> events) {
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(KafkaClientProperties.producer(config.kafka(), "late-events-it"))) {
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
        new SpeedJob.Options(
            SpeedJob.Queries.LANDING,
            SpeedJob.Mode.AVAILABLE_NOW,
            Duration.ofSeconds(1),
            Duration.ofHours(1),
            100_000,
            HourlyViews.BotPolicy.EXCLUDE_BOTS,
            Duration.ofSeconds(5)),
        quietly());
  }

  static Dataset<Row> table(SparkSession spark, LakeConfig config, LakeTable table) {
    return spark.read().format("delta").load(table.location(config.storage()));
  }

  static PrintStream quietly() {
    return new PrintStream(new ByteArrayOutputStream(), true, UTF_8);
  }
}
