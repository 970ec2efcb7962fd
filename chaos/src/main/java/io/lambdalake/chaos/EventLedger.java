package io.lambdalake.chaos;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.date_trunc;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.not;

import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.common.kafka.KafkaClientProperties;
import io.lambdalake.common.table.LakeTable;
import io.lambdalake.ingestion.collector.generate.EventGenerator;
import io.lambdalake.ingestion.collector.generate.GeneratedEvent;
import io.lambdalake.spark.DeltaTables;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;

/**
 * The events a scenario had accepted: produced to the run's event topics in the collector's wire
 * format and routing, each counted only once Kafka acknowledged it, as the collector's 202 is. The
 * ledger then counts, from the data, which of them raw.events lacks or holds twice, and which keys
 * of an hourly view differ from a recompute over raw.events.
 */
public final class EventLedger {
  private static final List<String> MERCHANTS = List.of("LL-CHAOS-1", "LL-CHAOS-2", "LL-CHAOS-3");

  private final ChaosRun run;
  private final EventGenerator generator;
  private final List<String> accepted = new ArrayList<>();

  public EventLedger(ChaosRun run, long seed, Instant from, Duration span) {
    this.run = run;
    this.generator = new EventGenerator(seed, MERCHANTS, from, span, 0.05);
  }

  /** Produces {@code events} more events and waits until Kafka acknowledged every one. */
  public void produce(int events) throws InterruptedException, ExecutionException {
    produce(events, false);
  }

  /**
   * Produces {@code events} more events as the collector would accept them now (received now,
   * whatever their event time: late events when the generator's span is in the past).
   */
  void produceReceivedNow(int events) throws InterruptedException, ExecutionException {
    produce(events, true);
  }

  private void produce(int events, boolean receivedNow)
      throws InterruptedException, ExecutionException {
    Instant now = Instant.now();
    var properties = KafkaClientProperties.producer(run.config().kafka(), "lake-chaos");
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(properties)) {
      List<GeneratedEvent> sent = generator.generate(events);
      List<Future<RecordMetadata>> acknowledgements = new ArrayList<>(sent.size());
      for (GeneratedEvent event : sent) {
        acknowledgements.add(
            producer.send(
                new ProducerRecord<>(
                    topicFor(event),
                    event.clientId().getBytes(UTF_8),
                    event
                        .toJson(receivedNow ? now : event.eventTime().plusMillis(300))
                        .getBytes(UTF_8))));
      }
      producer.flush();
      for (int i = 0; i < sent.size(); i++) {
        acknowledgements.get(i).get();
        accepted.add(sent.get(i).eventId());
      }
    }
  }

  /** Generates events without sending them: a scenario sends them through the collector. */
  synchronized List<GeneratedEvent> generate(int events) {
    return generator.generate(events);
  }

  /** Counts events as accepted, e.g. once the collector answered 202 for them. */
  synchronized void accept(List<GeneratedEvent> events) {
    events.forEach(event -> accepted.add(event.eventId()));
  }

  public int accepted() {
    return accepted.size();
  }

  /** How many rows raw.events holds now (0 before its first commit). */
  public long landed() {
    return run.rows(LakeTable.RAW_EVENTS.location(run.config().storage()));
  }

  /** Accepted events missing from raw.events, and rows of raw.events beyond one per event ID. */
  public Tally checkRaw() {
    Dataset<Row> raw = raw();
    Dataset<Row> ids =
        run.spark().createDataset(accepted, Encoders.STRING()).toDF("event_id").distinct();
    long lost = ids.join(raw.select("event_id").distinct(), "event_id", "left_anti").count();
    long duplicated = raw.count() - raw.select("event_id").distinct().count();
    return new Tally(lost, duplicated, 0);
  }

  /**
   * Keys (tracking ID, hour, event name) of an hourly events view whose count differs from a
   * recompute over raw.events without bots, within [from, to), in either direction.
   */
  public Tally checkEventsHourly(LakeTable view, Instant from, Instant to) {
    Column inRange =
        col("event_time")
            .geq(lit(Timestamp.from(from)))
            .and(col("event_time").lt(lit(Timestamp.from(to))));
    Dataset<Row> recomputed =
        raw()
            .filter(not(col("is_bot")).and(inRange))
            .groupBy(
                col("tracking_id"),
                date_trunc("hour", col("event_time")).as("hour"),
                col("event_name"))
            .agg(count(lit(1)).as("expected"))
            .as("r");
    String location = view.location(run.config().storage());
    if (!DeltaTables.exists(run.spark(), location)) {
      return new Tally(0, 0, recomputed.count());
    }
    Dataset<Row> served =
        run.spark()
            .read()
            .format("delta")
            .load(location)
            .filter(
                col("hour")
                    .geq(lit(Timestamp.from(from)))
                    .and(col("hour").lt(lit(Timestamp.from(to)))))
            .select("tracking_id", "hour", "event_name", "events")
            .as("s");
    long diverged =
        recomputed
            .join(
                served,
                col("r.tracking_id")
                    .equalTo(col("s.tracking_id"))
                    .and(col("r.hour").equalTo(col("s.hour")))
                    .and(col("r.event_name").equalTo(col("s.event_name"))),
                "full_outer")
            .filter(
                not(
                    coalesce(col("r.expected"), lit(-1L))
                        .equalTo(coalesce(col("s.events"), lit(-1L)))))
            .count();
    return new Tally(0, 0, diverged);
  }

  private Dataset<Row> raw() {
    return run.spark()
        .read()
        .format("delta")
        .load(LakeTable.RAW_EVENTS.location(run.config().storage()));
  }

  private String topicFor(GeneratedEvent event) {
    String topic =
        run.config()
            .collector()
            .routes()
            .getOrDefault(event.eventName(), run.config().topics().eventsOther());
    if (!topic.startsWith(run.name())) {
      throw new LakeException(
          ErrorCode.INTERNAL_ERROR,
          "Event "
              + event.eventName()
              + " routes to topic "
              + topic
              + ", not one of the run's own topics "
              + run.name()
              + ".events.*: a route in conf does not follow lake.topics.events-prefix");
    }
    return topic;
  }
}
