package io.lambdalake.ingestion.cdc;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.current_timestamp;
import static org.apache.spark.sql.functions.to_date;

import io.lambdalake.common.cdc.ChangeEnvelope.SourceName;
import io.lambdalake.common.cdc.SourcePosition.BinlogPosition;
import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.kafka.KafkaClientProperties;
import io.lambdalake.common.table.LakeTable;
import io.lambdalake.ingestion.cdc.internal.CdcPositions;
import io.lambdalake.ingestion.cdc.internal.MirrorApplier;
import io.lambdalake.spark.DeltaTables;
import io.lambdalake.spark.cdc.ParsedChanges;
import io.lambdalake.spark.cdc.SourceSchemas;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import org.apache.spark.api.java.function.VoidFunction2;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Maxwell's topics into the lake, exactly once: every change as received into raw.mysql_changes (an
 * idempotent append keyed by the query and batch id), each source table's current state into its
 * mirror by MERGE (idempotent per batch, and ordered by binlog position so that nothing older
 * overwrites something newer), and what cannot be applied into raw.cdc_quarantine with its reason.
 */
public final class MaxwellIngestion {
  private static final Logger LOG = LoggerFactory.getLogger(MaxwellIngestion.class);
  public static final String QUERY_NAME = "cdc-maxwell";

  private MaxwellIngestion() {}

  /** Kafka's subscribe pattern for the Maxwell topics of the databases the regex matches. */
  public static String topicPattern(LakeConfig config, String databases) {
    return "^"
        + Pattern.quote(config.topics().cdcMaxwellPrefix())
        + "(?:"
        + databases
        + ")\\.[^.]+$";
  }

  public static Dataset<Row> stream(
      SparkSession spark, LakeConfig config, String databases, long maxRecordsPerBatch) {
    return spark
        .readStream()
        .format("kafka")
        .options(KafkaClientProperties.sparkOptions(config.kafka()))
        .option("subscribePattern", topicPattern(config, databases))
        .option("startingOffsets", "earliest")
        .option("maxOffsetsPerTrigger", maxRecordsPerBatch)
        .option("failOnDataLoss", "true")
        .load();
  }

  /** Reads Kafka's rows into changes (or reasons why not). */
  static Dataset<Row> parse(Dataset<Row> kafkaRows) {
    return kafkaRows.mapPartitions(ParsedChanges.fromKafka(), Encoders.row(ParsedChanges.SCHEMA));
  }

  public static VoidFunction2<Dataset<Row>, Long> writer(LakeConfig config, String checkpoint) {
    String applicationId = "lambda-lake-cdc:" + checkpoint;
    return (batch, batchId) -> {
      long started = System.nanoTime();
      SparkSession spark = batch.sparkSession();
      Dataset<Row> parsed = parse(batch).persist(StorageLevel.MEMORY_AND_DISK());
      try {
        if (parsed.isEmpty()) {
          return;
        }
        apply(spark, config, parsed, applicationId, batchId, true);
        LOG.info("CDC batch {} in {} ms", batchId, (System.nanoTime() - started) / 1_000_000);
      } finally {
        parsed.unpersist();
      }
    };
  }

  /**
   * Lands parsed changes: raw log (when {@code landRaw}), mirrors, quarantine, positions. Every
   * write is keyed by (applicationId, version), so running it again with the same key changes
   * nothing.
   */
  static void apply(
      SparkSession spark,
      LakeConfig config,
      Dataset<Row> parsed,
      String applicationId,
      long version,
      boolean landRaw) {
    if (landRaw) {
      DeltaTables.ensure(spark, config, LakeTable.RAW_MYSQL_CHANGES);
      append(
          raw(parsed),
          LakeTable.RAW_MYSQL_CHANGES.location(config.storage()),
          applicationId,
          version);
    }
    List<Dataset<Row>> quarantined = new ArrayList<>();
    Dataset<Row> unreadable = parsed.filter(col("reason").isNotNull());
    quarantined.add(io.lambdalake.ingestion.cdc.internal.QuarantineRows.of(unreadable));
    Dataset<Row> changes = parsed.filter(col("reason").isNull().and(col("op").isNotNull()));
    List<SourceName> tables = new ArrayList<>();
    for (Row row : changes.select("source_database", "source_table").distinct().collectAsList()) {
      tables.add(new SourceName(row.getString(0), row.getString(1)));
    }
    Map<String, BinlogPosition> thresholds = CdcPositions.thresholds(spark, config);
    MirrorApplier applier =
        new MirrorApplier(config.storage(), new SourceSchemas(config.mariaDb()));
    Map<String, BinlogPosition> newest = new HashMap<>();
    MirrorApplier.Transaction transaction = new MirrorApplier.Transaction(applicationId, version);
    for (SourceName table : tables) {
      Dataset<Row> ofTable =
          changes.filter(
              col("source_database")
                  .equalTo(table.database())
                  .and(col("source_table").equalTo(table.table())));
      MirrorApplier.Outcome outcome =
          applier.apply(
              spark,
              table,
              ofTable,
              Optional.ofNullable(thresholds.get(table.qualifiedName())),
              transaction);
      outcome.quarantined().ifPresent(quarantined::add);
      outcome.newest().ifPresent(position -> newest.put(table.qualifiedName(), position));
    }
    Dataset<Row> toQuarantine = quarantined.stream().reduce(Dataset::unionByName).orElseThrow();
    if (!toQuarantine.isEmpty()) {
      DeltaTables.ensure(spark, config, LakeTable.RAW_CDC_QUARANTINE);
      append(
          toQuarantine,
          LakeTable.RAW_CDC_QUARANTINE.location(config.storage()),
          applicationId,
          version);
    }
    CdcPositions.advance(spark, config, newest, transaction);
  }

  private static Dataset<Row> raw(Dataset<Row> parsed) {
    return parsed
        .filter(col("source_database").isNotNull())
        .select(
            col("source_database"),
            col("source_table"),
            col("type"),
            col("op"),
            col("binlog_file"),
            col("binlog_position"),
            col("xoffset"),
            col("xid"),
            col("commit"),
            col("server_id"),
            col("committed_at"),
            col("primary_key"),
            col("data"),
            col("old"),
            col("source_topic"),
            col("source_partition"),
            col("source_offset"),
            col("received_at"),
            current_timestamp().as("landed_at"),
            to_date(coalesce(col("committed_at"), col("received_at"), current_timestamp()))
                .as("change_date"));
  }

  static void append(Dataset<Row> rows, String location, String applicationId, long version) {
    rows.write()
        .format("delta")
        .mode(SaveMode.Append)
        .option("txnAppId", applicationId)
        .option("txnVersion", version)
        .save(location);
  }
}
