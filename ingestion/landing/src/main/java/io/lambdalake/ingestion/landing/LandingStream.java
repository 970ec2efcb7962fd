package io.lambdalake.ingestion.landing;

import static java.util.Objects.requireNonNull;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.common.kafka.KafkaClientProperties;
import io.lambdalake.ingestion.landing.internal.KafkaEnds;
import io.lambdalake.ingestion.landing.internal.LandedBatch;
import io.lambdalake.spark.Checkpoints;
import io.lambdalake.spark.KafkaCheckpoints;
import io.lambdalake.spark.TableUpkeep;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.apache.hadoop.conf.Configuration;
import org.apache.kafka.common.TopicPartition;
import org.apache.spark.api.java.function.VoidFunction2;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.apache.spark.sql.streaming.Trigger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The skeleton every Kafka -> raw.* stream runs on: reads the source's topics, lets the source
 * parse, quarantine and write each micro-batch, and owns what makes the writes exactly once.
 *
 * <ul>
 *   <li>The Delta idempotence key of every write is the stream's name plus the query's persistent
 *       id (kept in the checkpoint's {@code metadata}), and the batch id: a replayed batch of the
 *       same checkpoint is skipped; a new checkpoint is a new query, so nothing is skipped.
 *   <li>Every commit records, in its userMetadata, the Kafka end offsets of the batch (see {@link
 *       LandedBatch}); every non-empty batch commits to each append-only table of the stream.
 *   <li>Started with no checkpoint (new, deleted, or discarded by {@link ResetFrom}) while the
 *       tables hold commits of this stream, the stream resumes from the offsets they recorded (per
 *       partition the lowest of its tables), not from Kafka's earliest. A table that recorded
 *       nothing of a partition holds nothing of it, so that partition starts at the earliest: a
 *       crash between the first commits of two tables, or in the batch that first read a topic,
 *       leaves the lagging table the records the other one has.
 *   <li>Each append-only table leaves out the records it holds already (below the offsets of its
 *       newest commit of this stream), so a table one batch ahead of another after a crash between
 *       their commits, or a reset from the earliest, lands nothing twice.
 * </ul>
 *
 * <p>State kept in a checkpoint and not in the tables is lost with the checkpoint: the landing
 * deduplication window of event ids starts empty again.
 */
public final class LandingStream {
  private static final Logger LOG = LoggerFactory.getLogger(LandingStream.class);

  /** The SparkContext local property that holds the running query's persistent id. */
  static final String QUERY_ID_PROPERTY = "sql.streaming.queryId";

  /** Delta's session setting for the userMetadata of commits made without a write option. */
  static final String USER_METADATA = "spark.databricks.delta.commitInfo.userMetadata";

  /** Delta leaves out commits that add no file unless this is false. */
  static final String SKIP_EMPTY_COMMITS = "spark.databricks.delta.skipRecordingEmptyCommits";

  private static final long EARLIEST = -2;

  private LandingStream() {}

  /** What an operator's reset does with the stream's checkpoint (`--reset-from`). */
  public enum ResetFrom {
    /** Discard the checkpoint; resume from the offsets the tables' commits recorded. */
    TABLE,
    /**
     * Discard the checkpoint; read what Kafka holds from its start. The tables still skip what they
     * hold, so this only lands again what a removed table had.
     */
    EARLIEST;

    /** The reset an option's value names: {@code table} or {@code earliest}. */
    public static ResetFrom parse(String value) {
      requireNonNull(value, "value is null");
      for (ResetFrom reset : values()) {
        if (reset.name().equalsIgnoreCase(value.trim())) {
          return reset;
        }
      }
      throw new LakeException(
          ErrorCode.INVALID_ARGUMENT,
          "--reset-from must be table or earliest, not '" + value + "'");
    }
  }

  /** One source's part: its topics, its tables, and how it writes a micro-batch. */
  public interface Source {
    /** The stream's name: its query, checkpoint and idempotence key. */
    String name();

    /** Kafka's subscribe pattern of its topics. */
    String topicPattern();

    long maxRecordsPerBatch();

    /**
     * The locations of the append-only tables it writes with {@link LandingBatch#append} in every
     * batch; their commits are where the stream resumes from.
     */
    List<String> appendOnlyTables();

    /** The upkeep of the tables it writes, run after each batch. */
    TableUpkeep upkeep();

    /** A streaming step before the writer (parsing, deduplication); none by default. */
    default Dataset<Row> prepare(Dataset<Row> kafkaRecords) {
      return kafkaRecords;
    }

    /** Parses, quarantines and writes one micro-batch of Kafka records (as prepared). */
    void write(Dataset<Row> batch, LandingBatch landing);
  }

  /**
   * Starts the source's stream: checks its checkpoint against Kafka (or discards it on a reset),
   * finds what its tables hold, and starts the query.
   */
  public static StreamingQuery start(
      SparkSession spark,
      LakeConfig config,
      Source source,
      Trigger trigger,
      Optional<ResetFrom> resetFrom)
      throws TimeoutException {
    requireNonNull(spark, "spark is null");
    requireNonNull(config, "config is null");
    requireNonNull(source, "source is null");
    requireNonNull(trigger, "trigger is null");
    requireNonNull(resetFrom, "resetFrom is null");
    String checkpoint = config.storage().checkpointLocation(source.name());
    Configuration hadoop = spark.sessionState().newHadoopConf();
    if (resetFrom.isPresent()) {
      LOG.warn(
          "Stream {}: reset from {}: discarding the checkpoint {}",
          source.name(),
          resetFrom.get().name().toLowerCase(Locale.ROOT),
          checkpoint);
      Checkpoints.delete(spark, checkpoint);
    } else {
      KafkaCheckpoints.requireWithinKafka(spark, checkpoint, config.kafka(), source.name());
    }
    Map<TopicPartition, Long> ends = KafkaEnds.of(config.kafka(), source.topicPattern());
    Map<String, LandedBatch> newest = newestBatches(hadoop, source);
    Map<String, Map<TopicPartition, Long>> held = held(source, newest, ends);
    String startingOffsets = "earliest";
    if (KafkaCheckpoints.lastOffsets(hadoop, checkpoint).isEmpty()
        && resetFrom.orElse(ResetFrom.TABLE) == ResetFrom.TABLE) {
      held = heldBeforeNewest(hadoop, source, checkpoint, newest, held, ends);
      startingOffsets = resumeFrom(source, checkpoint, newest, held, ends);
    }
    Dataset<Row> records =
        spark
            .readStream()
            .format("kafka")
            .options(KafkaClientProperties.sparkOptions(config.kafka()))
            .option("subscribePattern", source.topicPattern())
            .option("startingOffsets", startingOffsets)
            .option("maxOffsetsPerTrigger", source.maxRecordsPerBatch())
            .option("failOnDataLoss", "true")
            .load();
    return source
        .prepare(records)
        .writeStream()
        .queryName(source.name())
        .option("checkpointLocation", checkpoint)
        .trigger(trigger)
        .foreachBatch(writer(source, checkpoint, held))
        .start();
  }

  private static Map<String, LandedBatch> newestBatches(Configuration hadoop, Source source) {
    Map<String, LandedBatch> newest = new LinkedHashMap<>();
    for (String table : source.appendOnlyTables()) {
      LandedBatch.newest(hadoop, table, source.name()).ifPresent(b -> newest.put(table, b));
    }
    return newest;
  }

  /**
   * Per table, the offsets below which it holds every record; partitions whose recorded offset is
   * past Kafka's end are left out (Kafka's data was reset: its new records are not the table's).
   */
  private static Map<String, Map<TopicPartition, Long>> held(
      Source source, Map<String, LandedBatch> newest, Map<TopicPartition, Long> ends) {
    Map<String, Map<TopicPartition, Long>> held = new LinkedHashMap<>();
    List<String> reset = new ArrayList<>();
    newest.forEach(
        (table, batch) -> {
          Map<TopicPartition, Long> offsets = new LinkedHashMap<>();
          batch
              .offsets()
              .forEach(
                  (partition, offset) -> {
                    if (offset <= ends.getOrDefault(partition, 0L)) {
                      offsets.put(partition, offset);
                    } else if (offset > 0) {
                      reset.add(partition + " at " + offset + " in " + table);
                    }
                  });
          held.put(table, Map.copyOf(offsets));
        });
    if (!reset.isEmpty()) {
      LOG.warn(
          "Stream {}: the tables recorded offsets past Kafka's end, so Kafka's data was reset;"
              + " those partitions are read from their earliest offset and nothing of them is"
              + " skipped: {}",
          source.name(),
          reset);
    }
    return held;
  }

  /**
   * Per table, what it holds of each partition when the stream starts without a checkpoint: the
   * offsets of its newest batch, and for the partitions that batch does not name (a topic followed
   * before, then not, then again) what an older batch recorded. A partition no batch of a table
   * named is one the table holds nothing of.
   */
  private static Map<String, Map<TopicPartition, Long>> heldBeforeNewest(
      Configuration hadoop,
      Source source,
      String checkpoint,
      Map<String, LandedBatch> newest,
      Map<String, Map<TopicPartition, Long>> held,
      Map<TopicPartition, Long> ends) {
    String primary = source.appendOnlyTables().get(0);
    Map<String, Map<TopicPartition, Long>> all = new LinkedHashMap<>();
    for (String table : source.appendOnlyTables()) {
      if (!newest.containsKey(table)) {
        // Only the primary table is this stream's alone; the others (a quarantine) may hold rows
        // of other writers.
        if (table.equals(primary) && LandedBatch.hasWrites(hadoop, table)) {
          throw new LakeException(
              ErrorCode.INVALID_ARGUMENT,
              "Stream "
                  + source.name()
                  + " has no checkpoint at "
                  + checkpoint
                  + ", and "
                  + table
                  + " has rows but no commit that records which Kafka offsets it landed (written"
                  + " before lambda-lake recorded them), so there is nothing to resume from."
                  + " Restore the checkpoint, or run once with `--reset-from earliest` to land"
                  + " again everything Kafka holds (rows the table has are then landed twice)");
        }
        // Nothing of this stream: the table holds none of its records, so every partition starts
        // at the earliest (the other tables leave out what they hold).
        all.put(table, Map.of());
        continue;
      }
      Map<TopicPartition, Long> holds = new LinkedHashMap<>(held.getOrDefault(table, Map.of()));
      Set<TopicPartition> unnamed = new HashSet<>(ends.keySet());
      unnamed.removeAll(newest.get(table).offsets().keySet());
      LandedBatch.recorded(hadoop, table, source.name(), unnamed)
          .forEach(
              (partition, offset) -> {
                if (offset <= ends.getOrDefault(partition, 0L)) {
                  holds.put(partition, offset);
                }
              });
      all.put(table, Map.copyOf(holds));
    }
    return all;
  }

  /**
   * The startingOffsets of a stream without checkpoint: per partition the lowest offset its tables
   * hold, the earliest where one of them holds nothing of it.
   */
  private static String resumeFrom(
      Source source,
      String checkpoint,
      Map<String, LandedBatch> newest,
      Map<String, Map<TopicPartition, Long>> held,
      Map<TopicPartition, Long> ends) {
    Map<TopicPartition, Long> resume = new LinkedHashMap<>();
    for (TopicPartition partition : ends.keySet()) {
      long lowest = Long.MAX_VALUE;
      for (Map<TopicPartition, Long> holds : held.values()) {
        lowest = Math.min(lowest, holds.getOrDefault(partition, EARLIEST));
      }
      resume.put(partition, held.isEmpty() ? EARLIEST : lowest);
    }
    if (resume.values().stream().allMatch(offset -> offset == EARLIEST)) {
      return "earliest";
    }
    Map<String, Map<String, Long>> json = new TreeMap<>();
    ends.keySet()
        .forEach(
            partition ->
                json.computeIfAbsent(partition.topic(), topic -> new TreeMap<>())
                    .put(
                        Integer.toString(partition.partition()),
                        resume.getOrDefault(partition, EARLIEST)));
    String startingOffsets =
        json.entrySet().stream()
            .map(
                topic ->
                    "\""
                        + topic.getKey()
                        + "\":{"
                        + topic.getValue().entrySet().stream()
                            .map(p -> "\"" + p.getKey() + "\":" + p.getValue())
                            .collect(Collectors.joining(","))
                        + "}")
            .collect(Collectors.joining(",", "{", "}"));
    LOG.warn(
        "Stream {}: no checkpoint at {}, but its tables hold batches it landed ({}): resuming from"
            + " the Kafka offsets they recorded, not from the earliest: {}",
        source.name(),
        checkpoint,
        newest.entrySet().stream()
            .map(
                e ->
                    e.getKey()
                        + " batch "
                        + e.getValue().batchId()
                        + " of query "
                        + e.getValue().queryId())
            .collect(Collectors.joining(", ")),
        startingOffsets);
    return startingOffsets;
  }

  private static VoidFunction2<Dataset<Row>, Long> writer(
      Source source, String checkpoint, Map<String, Map<TopicPartition, Long>> held) {
    TableUpkeep upkeep = source.upkeep();
    return (batch, batchId) -> {
      SparkSession spark = batch.sparkSession();
      String queryId = spark.sparkContext().getLocalProperty(QUERY_ID_PROPERTY);
      if (queryId == null) {
        throw new LakeException(
            ErrorCode.INTERNAL_ERROR,
            "Stream " + source.name() + ": batch " + batchId + " runs without a query id");
      }
      Map<TopicPartition, Long> offsets =
          KafkaCheckpoints.batchOffsets(spark.sessionState().newHadoopConf(), checkpoint, batchId);
      LandingBatch landing =
          new LandingBatch(new LandedBatch(source.name(), queryId, batchId, offsets), held, upkeep);
      // For the commits the source makes without the write options (MERGE): the same record.
      spark.conf().set(USER_METADATA, landing.userMetadata());
      spark.conf().set(SKIP_EMPTY_COMMITS, "false");
      try {
        source.write(batch, landing);
      } finally {
        spark.conf().unset(USER_METADATA);
        spark.conf().unset(SKIP_EMPTY_COMMITS);
      }
      upkeep.afterBatch(spark, batchId);
    };
  }
}
