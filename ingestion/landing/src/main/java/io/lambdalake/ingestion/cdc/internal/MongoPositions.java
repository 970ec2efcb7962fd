package io.lambdalake.ingestion.cdc.internal;

import static java.util.Objects.requireNonNull;
import static org.apache.spark.sql.functions.call_function;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat_ws;
import static org.apache.spark.sql.functions.current_timestamp;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.row_number;
import static org.apache.spark.sql.functions.struct;

import io.delta.tables.DeltaTable;
import io.lambdalake.common.cdc.ChangeEnvelope.SourceName;
import io.lambdalake.common.cdc.SourcePosition.ClusterTime;
import io.lambdalake.common.config.KafkaConfig;
import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.common.kafka.KafkaClientProperties;
import io.lambdalake.common.table.LakeTable;
import io.lambdalake.spark.DeltaTables;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Mongo CDC writer's ordering state, in two tables only this writer writes.
 *
 * <p><b>state.mongo_positions</b>, keyed by (collection, topic, partition): the newest change read
 * from that partition. The connector writes one change stream in cluster-time order, so within one
 * Kafka partition a change at or before the partition's position is a replay (a connector restart
 * resends from its stored resume token) and is skipped. Across partitions there is no order: the
 * connector keys records by resume token, so partition 1 may still hold changes at 50 when
 * partition 0 has given 100. One position per collection would skip those for good; one per
 * partition skips only what its own partition gave before. A replay lands in its original's
 * partition because the connector keys it the same (resume token by default, or document key).
 *
 * <p><b>state.mongo_tombstones</b>, keyed by (collection, document id): the newest delete seen of
 * each document. With per-partition positions, a delete at 90 read from partition 0 removes the
 * document from its mirror, and an update at 60 read later from partition 1 would insert it again;
 * the mirror MERGE therefore applies no change older than the document's tombstone. A tombstone
 * goes once every partition of the collection's topics has a position at or past it: then every
 * change still to come from any partition is newer than the delete, or a replay the positions skip.
 * A partition that has given nothing of the collection yet keeps the collection's tombstones.
 *
 * <p>Why tombstones in a state table and not deleted documents kept as flagged rows in the mirror:
 * the mirror stays the collection's current documents, which its readers (the mirror tables Trino
 * registers for SQL and Superset, the consumers' jobs, the mirror's change data feed) read without
 * a filter they would each have to learn; and the tombstones stay few, only the deletes the slowest
 * partition has not yet passed, where flagged rows would stay in the mirror for good or need a
 * pruning rewrite of the mirror itself.
 *
 * <p>Both tables are written under the micro-batch's transaction key, so a replayed batch writes
 * nothing twice; the positions never move back (MERGE with a greater-than condition).
 */
public final class MongoPositions {
  private static final Logger LOG = LoggerFactory.getLogger(MongoPositions.class);
  private static final String KEY_SEPARATOR = "\u0000";
  private static final Duration KAFKA_TIMEOUT = Duration.ofSeconds(30);

  private MongoPositions() {}

  /** Where a collection's changes arrive: one partition of one topic. */
  public record Source(String collection, String topic, int partition) {
    public Source {
      requireNonNull(collection, "collection is null");
      requireNonNull(topic, "topic is null");
      if (partition < 0) {
        throw new IllegalArgumentException("partition is negative: " + partition);
      }
    }

    private String key() {
      return String.join(KEY_SEPARATOR, collection, topic, Integer.toString(partition));
    }
  }

  /** The newest change read so far from each partition of each collection. */
  public static Map<Source, ClusterTime> read(SparkSession spark, LakeConfig config) {
    Map<Source, ClusterTime> positions = new HashMap<>();
    String location = LakeTable.STATE_MONGO_POSITIONS.location(config.storage());
    if (!DeltaTables.exists(spark, location)) {
      return positions;
    }
    for (Row row : spark.read().format("delta").load(location).collectAsList()) {
      positions.put(
          new Source(
              row.getAs("source_collection"),
              row.getAs("source_topic"),
              row.<Integer>getAs("source_partition")),
          new ClusterTime(
              row.<Long>getAs("cluster_time_seconds"),
              row.<Long>getAs("cluster_time_increment"),
              row.getAs("resume_token")));
    }
    return positions;
  }

  /** The order of changes (rows of {@code MongoParsedChanges.SCHEMA}): cluster time, then token. */
  private static Column order() {
    return struct(
        col("cluster_time_seconds").as("seconds"),
        col("cluster_time_increment").as("increment"),
        col("resume_token").as("token"));
  }

  private static Column order(ClusterTime time) {
    return struct(
        lit(time.seconds()).as("seconds"),
        lit(time.increment()).as("increment"),
        lit(time.resumeToken()).as("token"));
  }

  /**
   * Whether a change (a row of {@code MongoParsedChanges.SCHEMA}) is newer than the position of the
   * partition it was read from: false for a replay.
   */
  public static Column unread(Map<Source, ClusterTime> positions) {
    if (positions.isEmpty()) {
      return lit(true);
    }
    List<Column> entries = new ArrayList<>();
    positions.forEach(
        (source, time) -> {
          entries.add(lit(source.key()));
          entries.add(order(time));
        });
    Column position =
        call_function(
            "try_element_at",
            call_function("map", entries.toArray(Column[]::new)),
            concat_ws(
                KEY_SEPARATOR,
                concat_ws(".", col("source_database"), col("source_collection")),
                col("source_topic"),
                col("source_partition").cast("string")));
    return position.isNull().or(order().gt(position));
  }

  /** The newest change of each partition of each collection among the changes. */
  public static Map<Source, ClusterTime> newest(Dataset<Row> changes) {
    Map<Source, ClusterTime> newest = new HashMap<>();
    for (Row row :
        changes
            .groupBy(
                concat_ws(".", col("source_database"), col("source_collection")),
                col("source_topic"),
                col("source_partition"))
            .agg(call_function("max", order()))
            .collectAsList()) {
      Row time = row.getStruct(3);
      newest.put(
          new Source(row.getString(0), row.getString(1), row.getInt(2)),
          new ClusterTime(time.getLong(0), time.getLong(1), time.getString(2)));
    }
    return newest;
  }

  /** Records the newest changes read per partition, never moving a position back. */
  public static void advance(
      SparkSession spark,
      LakeConfig config,
      Map<Source, ClusterTime> newest,
      MirrorApplier.Transaction transaction) {
    if (newest.isEmpty()) {
      return;
    }
    String location = DeltaTables.ensure(spark, config, LakeTable.STATE_MONGO_POSITIONS);
    Timestamp now = Timestamp.from(Instant.now());
    List<Row> rows = new ArrayList<>();
    newest.forEach(
        (source, time) ->
            rows.add(
                RowFactory.create(
                    source.collection(),
                    source.topic(),
                    source.partition(),
                    time.seconds(),
                    time.increment(),
                    time.resumeToken(),
                    now)));
    Dataset<Row> updates =
        spark.createDataFrame(rows, StructType.fromDDL(LakeTable.STATE_MONGO_POSITIONS.columns()));
    // The source is a handful of rows in the driver: nothing to materialize against change.
    spark.conf().set(MirrorApplier.MATERIALIZE_SOURCE, "none");
    try {
      inTransaction(
          spark,
          transaction,
          () ->
              DeltaTable.forPath(spark, location)
                  .as("t")
                  .merge(
                      updates.as("s"),
                      "t.source_collection = s.source_collection"
                          + " AND t.source_topic = s.source_topic"
                          + " AND t.source_partition = s.source_partition")
                  .whenMatched(newer("s", "t"))
                  .updateAll()
                  .whenNotMatched()
                  .insertAll()
                  .execute());
    } finally {
      spark.conf().unset(MirrorApplier.MATERIALIZE_SOURCE);
    }
  }

  /** Creates state.mongo_tombstones unless it exists; returns its location. */
  public static String ensureTombstones(SparkSession spark, LakeConfig config) {
    return DeltaTables.ensure(spark, config, LakeTable.STATE_MONGO_TOMBSTONES);
  }

  /** The tombstones of one collection: document_id and its newest delete's order as {@code at}. */
  public static Dataset<Row> tombstones(
      SparkSession spark, String location, SourceName collection) {
    return spark
        .read()
        .format("delta")
        .load(location)
        .filter(col("source_collection").equalTo(collection.qualifiedName()))
        .select(
            col("document_id"),
            struct(
                    col("cluster_time_seconds").as("seconds"),
                    col("cluster_time_increment").as("increment"),
                    col("resume_token").as("token"))
                .as("at"));
  }

  /**
   * Records the deletes among the changes (rows of {@code MongoParsedChanges.SCHEMA}), keeping per
   * document the newest.
   */
  public static void recordDeletes(
      SparkSession spark,
      LakeConfig config,
      Dataset<Row> changes,
      MirrorApplier.Transaction transaction) {
    Dataset<Row> deletes =
        changes
            .filter(col("op").equalTo("d"))
            .select(
                concat_ws(".", col("source_database"), col("source_collection"))
                    .as("source_collection"),
                col("document_key").as("document_id"),
                col("cluster_time_seconds"),
                col("cluster_time_increment"),
                col("resume_token"),
                col("committed_at").as("deleted_at"),
                current_timestamp().as("recorded_at"))
            .withColumn(
                "_rank",
                row_number()
                    .over(
                        Window.partitionBy(col("source_collection"), col("document_id"))
                            .orderBy(
                                col("cluster_time_seconds").desc(),
                                col("cluster_time_increment").desc(),
                                col("resume_token").desc())))
            .filter(col("_rank").equalTo(1))
            .drop("_rank");
    if (deletes.isEmpty()) {
      return;
    }
    String location = ensureTombstones(spark, config);
    inTransaction(
        spark,
        transaction,
        () ->
            DeltaTable.forPath(spark, location)
                .as("t")
                .merge(
                    deletes.as("s"),
                    "t.source_collection = s.source_collection AND t.document_id = s.document_id")
                .whenMatched(newer("s", "t"))
                .updateAll()
                .whenNotMatched()
                .insertAll()
                .execute());
  }

  /**
   * Drops the tombstones every partition of their collection's topics has passed: nothing older
   * than them can arrive any more. Looks only at the collections whose positions just moved (the
   * only way a tombstone comes to be passed), and asks Kafka for the topics' partitions only when
   * some tombstone is at or before the oldest position known for its collection.
   *
   * @param positions every position, the ones just moved included
   * @param moved the positions that just moved
   */
  public static void prune(
      SparkSession spark,
      LakeConfig config,
      Map<Source, ClusterTime> positions,
      Map<Source, ClusterTime> moved) {
    Set<String> movedCollections =
        moved.keySet().stream().map(Source::collection).collect(Collectors.toSet());
    if (movedCollections.isEmpty()) {
      return;
    }
    String location = ensureTombstones(spark, config);
    Map<String, List<Source>> sources =
        positions.keySet().stream().collect(Collectors.groupingBy(Source::collection));
    Map<String, ClusterTime> oldestKnown = new HashMap<>();
    positions.forEach(
        (source, time) -> oldestKnown.merge(source.collection(), time, MongoPositions::earlier));
    List<String> candidates = new ArrayList<>();
    for (Row row :
        spark
            .read()
            .format("delta")
            .load(location)
            .filter(col("source_collection").isin(movedCollections.toArray()))
            .groupBy(col("source_collection"))
            .agg(
                call_function(
                    "min",
                    struct(
                        col("cluster_time_seconds"),
                        col("cluster_time_increment"),
                        col("resume_token"))))
            .collectAsList()) {
      String collection = row.getString(0);
      Row oldest = row.getStruct(1);
      ClusterTime oldestTombstone =
          new ClusterTime(oldest.getLong(0), oldest.getLong(1), oldest.getString(2));
      if (oldestKnown.containsKey(collection)
          && oldestTombstone.compareTo(oldestKnown.get(collection)) <= 0) {
        candidates.add(collection);
      }
    }
    if (candidates.isEmpty()) {
      return;
    }
    Set<String> topics = new TreeSet<>();
    candidates.forEach(collection -> sources.get(collection).forEach(s -> topics.add(s.topic())));
    Map<String, Integer> partitions = partitionCounts(config.kafka(), topics);
    Optional<Column> passed = Optional.empty();
    for (String collection : candidates) {
      Optional<ClusterTime> floor =
          floor(collection, sources.get(collection), positions, partitions);
      if (floor.isEmpty()) {
        continue;
      }
      Column condition =
          col("source_collection")
              .equalTo(collection)
              .and(
                  struct(
                          col("cluster_time_seconds").as("seconds"),
                          col("cluster_time_increment").as("increment"),
                          col("resume_token").as("token"))
                      .leq(order(floor.get())));
      passed = Optional.of(passed.map(c -> c.or(condition)).orElse(condition));
    }
    // Idempotent: positions never move back, so a tombstone once passed stays passed.
    passed.ifPresent(
        condition -> {
          DeltaTable.forPath(spark, location).delete(condition);
          LOG.info("Dropped the Mongo tombstones every partition has passed: {}", condition);
        });
  }

  /**
   * The oldest position among every partition of the collection's topics, or empty when some
   * partition has given nothing of the collection yet.
   */
  private static Optional<ClusterTime> floor(
      String collection,
      List<Source> known,
      Map<Source, ClusterTime> positions,
      Map<String, Integer> partitions) {
    Set<String> topics = known.stream().map(Source::topic).collect(Collectors.toSet());
    Optional<ClusterTime> floor = Optional.empty();
    for (String topic : topics) {
      for (int partition = 0; partition < partitions.getOrDefault(topic, 0); partition++) {
        ClusterTime position = positions.get(new Source(collection, topic, partition));
        if (position == null) {
          return Optional.empty();
        }
        floor = Optional.of(floor.map(f -> earlier(f, position)).orElse(position));
      }
    }
    return floor;
  }

  /** The number of partitions of each topic, asked of Kafka. */
  private static Map<String, Integer> partitionCounts(KafkaConfig kafka, Set<String> topics) {
    try (Admin admin =
        Admin.create(KafkaClientProperties.admin(kafka, "lambda-lake-cdc-mongo-positions"))) {
      Map<String, TopicDescription> descriptions =
          admin
              .describeTopics(topics)
              .allTopicNames()
              .get(KAFKA_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
      Map<String, Integer> counts = new HashMap<>();
      descriptions.forEach(
          (topic, description) -> counts.put(topic, description.partitions().size()));
      return counts;
    } catch (ExecutionException | TimeoutException e) {
      throw new LakeException(
          ErrorCode.SERVER_NOT_AVAILABLE,
          "Cannot ask Kafka for the partitions of " + topics + ": " + e.getMessage(),
          e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new LakeException(
          ErrorCode.SERVER_NOT_AVAILABLE,
          "Interrupted while asking Kafka for the partitions of " + topics,
          e);
    }
  }

  private static ClusterTime earlier(ClusterTime one, ClusterTime other) {
    return one.compareTo(other) <= 0 ? one : other;
  }

  /** A MERGE condition: the source row's change is newer than the target row's. */
  private static String newer(String source, String target) {
    return String.format(
        "struct(%1$s.cluster_time_seconds, %1$s.cluster_time_increment, %1$s.resume_token)"
            + " > struct(%2$s.cluster_time_seconds, %2$s.cluster_time_increment,"
            + " %2$s.resume_token)",
        source, target);
  }

  private static void inTransaction(
      SparkSession spark, MirrorApplier.Transaction transaction, Runnable write) {
    spark.conf().set("spark.databricks.delta.write.txnAppId", transaction.applicationId());
    spark
        .conf()
        .set("spark.databricks.delta.write.txnVersion", Long.toString(transaction.version()));
    try {
      write.run();
    } finally {
      spark.conf().unset("spark.databricks.delta.write.txnAppId");
      spark.conf().unset("spark.databricks.delta.write.txnVersion");
    }
  }
}
