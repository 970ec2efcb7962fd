package io.lambdalake.ingestion.cdc;

import static java.util.Objects.requireNonNull;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.current_timestamp;
import static org.apache.spark.sql.functions.to_date;

import io.lambdalake.common.cdc.ChangeEnvelope.SourceName;
import io.lambdalake.common.cdc.SourcePosition.ClusterTime;
import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.table.LakeTable;
import io.lambdalake.ingestion.cdc.internal.MirrorApplier;
import io.lambdalake.ingestion.cdc.internal.MongoApplier;
import io.lambdalake.ingestion.cdc.internal.MongoPositions;
import io.lambdalake.ingestion.cdc.internal.QuarantineRows;
import io.lambdalake.ingestion.landing.LandingBatch;
import io.lambdalake.ingestion.landing.LandingStream;
import io.lambdalake.spark.CatalogNames;
import io.lambdalake.spark.DeltaTables;
import io.lambdalake.spark.TableUpkeep;
import io.lambdalake.spark.cdc.MongoParsedChanges;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * MongoDB change streams (as the MongoDB Kafka source connector writes them) into the lake, with
 * the same rules as {@link MaxwellIngestion}: raw.mongo_changes as received, each collection's
 * current documents in its mirror, ordered by cluster time, exactly once. Topics may have any
 * number of partitions: replays are recognised per partition and deletes are remembered until no
 * older change can arrive ({@link MongoPositions}).
 */
public final class MongoIngestion {
  private static final Logger LOG = LoggerFactory.getLogger(MongoIngestion.class);
  public static final String QUERY_NAME = "cdc-mongo";

  private MongoIngestion() {}

  /** The connector's topics {@code <prefix><database>.<collection>} of the matching databases. */
  public static String topicPattern(LakeConfig config, String databases) {
    return "^" + Pattern.quote(config.topics().cdcMongoPrefix()) + "(?:" + databases + ")\\..+$";
  }

  /** The MongoDB connector's stream on the {@link LandingStream} skeleton. */
  public static LandingStream.Source source(
      LakeConfig config, String databases, long maxRecordsPerBatch) {
    return new Source(config, databases, maxRecordsPerBatch);
  }

  private static final class Source implements LandingStream.Source {
    private final LakeConfig config;
    private final String databases;
    private final long maxRecordsPerBatch;
    private final Map<String, List<String>> promote = new HashMap<>();
    private final TableUpkeep upkeep;

    Source(LakeConfig config, String databases, long maxRecordsPerBatch) {
      this.config = requireNonNull(config, "config is null");
      this.databases = requireNonNull(databases, "databases is null");
      this.maxRecordsPerBatch = maxRecordsPerBatch;
      config
          .cdc()
          .mongoPromotedFields()
          .forEach((collection, fields) -> promote.put(collection, List.copyOf(fields.keySet())));
      this.upkeep = new TableUpkeep("cdc", config.cdc().compactEveryBatches());
    }

    @Override
    public String name() {
      return QUERY_NAME;
    }

    @Override
    public String topicPattern() {
      return MongoIngestion.topicPattern(config, databases);
    }

    @Override
    public long maxRecordsPerBatch() {
      return maxRecordsPerBatch;
    }

    @Override
    public List<String> appendOnlyTables() {
      return List.of(
          LakeTable.RAW_MONGO_CHANGES.location(config.storage()),
          LakeTable.RAW_CDC_QUARANTINE.location(config.storage()));
    }

    @Override
    public TableUpkeep upkeep() {
      return upkeep;
    }

    @Override
    public void write(Dataset<Row> batch, LandingBatch landing) {
      long started = System.nanoTime();
      SparkSession spark = batch.sparkSession();
      Dataset<Row> parsed =
          batch
              .mapPartitions(
                  MongoParsedChanges.fromKafka(config.topics().cdcMongoPrefix(), promote),
                  Encoders.row(MongoParsedChanges.SCHEMA))
              .persist(StorageLevel.MEMORY_AND_DISK());
      try {
        if (!parsed.isEmpty()) {
          apply(spark, config, parsed, landing);
        }
        LOG.info(
            "Mongo CDC batch {} in {} ms",
            landing.version(),
            (System.nanoTime() - started) / 1_000_000);
      } finally {
        parsed.unpersist();
      }
    }
  }

  private static void apply(
      SparkSession spark, LakeConfig config, Dataset<Row> parsed, LandingBatch landing) {
    String applicationId = landing.applicationId();
    long version = landing.version();
    TableUpkeep upkeep = landing.upkeep();
    String rawLocation = DeltaTables.ensure(spark, config, LakeTable.RAW_MONGO_CHANGES);
    landing.append(raw(parsed), rawLocation);
    List<Dataset<Row>> quarantined = new ArrayList<>();
    quarantined.add(QuarantineRows.of(parsed.filter(col("reason").isNotNull())));
    Dataset<Row> changes = parsed.filter(col("reason").isNull().and(col("op").isNotNull()));
    // Per partition: a change at or before what its own partition gave before is a replay.
    Map<MongoPositions.Source, ClusterTime> positions = MongoPositions.read(spark, config);
    Dataset<Row> unread = changes.filter(MongoPositions.unread(positions));
    String tombstones = MongoPositions.ensureTombstones(spark, config);
    MongoApplier applier = new MongoApplier(config.storage());
    MirrorApplier.Transaction transaction = new MirrorApplier.Transaction(applicationId, version);
    for (Row row :
        changes.select("source_database", "source_collection").distinct().collectAsList()) {
      SourceName collection = new SourceName(row.getString(0), row.getString(1));
      MongoApplier.Outcome outcome =
          applier.apply(
              spark,
              collection,
              unread.filter(
                  col("source_database")
                      .equalTo(collection.database())
                      .and(col("source_collection").equalTo(collection.table()))),
              MongoPositions.tombstones(spark, tombstones, collection),
              config.cdc().mongoPromotedFields().getOrDefault(collection.qualifiedName(), Map.of()),
              transaction);
      upkeep.wrote(applier.mirrorLocation(collection));
      CatalogNames.registerWritten(
          spark,
          config,
          MirrorApplier.MIRROR_ZONE,
          collection.mirrorTableName(),
          applier.mirrorLocation(collection));
      outcome.quarantined().ifPresent(quarantined::add);
    }
    // Committed in every batch, so that the quarantine records the batch's offsets too.
    landing.append(
        quarantined.stream().reduce(Dataset::unionByName).orElseThrow(),
        DeltaTables.ensure(spark, config, LakeTable.RAW_CDC_QUARANTINE));
    // Every mirror first, then the tombstones, then the positions: a batch replayed after a crash
    // reads the state it was first applied with, up to the commit that did not happen.
    MongoPositions.recordDeletes(spark, config, unread, transaction);
    Map<MongoPositions.Source, ClusterTime> newest = MongoPositions.newest(unread);
    MongoPositions.advance(spark, config, newest, transaction);
    newest.forEach((source, time) -> positions.merge(source, time, MongoIngestion::later));
    MongoPositions.prune(spark, config, positions, newest);
  }

  private static ClusterTime later(ClusterTime one, ClusterTime other) {
    return one.compareTo(other) >= 0 ? one : other;
  }

  private static Dataset<Row> raw(Dataset<Row> parsed) {
    return parsed
        .filter(col("source_database").isNotNull())
        .select(
            col("source_database"),
            col("source_collection"),
            col("operation_type"),
            col("op"),
            col("cluster_time_seconds"),
            col("cluster_time_increment"),
            col("resume_token"),
            col("document_key"),
            col("full_document"),
            col("update_description"),
            col("committed_at"),
            col("event"),
            col("source_topic"),
            col("source_partition"),
            col("source_offset"),
            col("received_at"),
            current_timestamp().as("landed_at"),
            to_date(coalesce(col("committed_at"), col("received_at"), current_timestamp()))
                .as("change_date"));
  }
}
