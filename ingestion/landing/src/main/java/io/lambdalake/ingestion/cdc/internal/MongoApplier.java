package io.lambdalake.ingestion.cdc.internal;

import static java.util.Objects.requireNonNull;
import static org.apache.spark.sql.functions.broadcast;
import static org.apache.spark.sql.functions.call_function;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat_ws;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.row_number;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.when;

import io.delta.tables.DeltaTable;
import io.lambdalake.common.cdc.ChangeEnvelope.SourceName;
import io.lambdalake.common.config.StorageConfig;
import io.lambdalake.spark.DeltaTables;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies one collection's changes to {@code mirror.<database>__<collection>}: {@code _id}, the
 * document as relaxed Extended JSON, the configured promoted fields as typed columns; ordered by
 * cluster time (then resume token), the newest change per document, never an older one over a newer
 * one, and never one older than the document's newest delete (its tombstone, see {@link
 * MongoPositions}): changes arrive from several Kafka partitions in no order across them, and a
 * late update must not bring a deleted document back.
 */
public final class MongoApplier {
  private static final Logger LOG = LoggerFactory.getLogger(MongoApplier.class);
  public static final String ID = "_id";
  public static final String DOCUMENT = "document";
  public static final String CLUSTER_TIME_SECONDS = "_cdc_cluster_time_seconds";
  public static final String CLUSTER_TIME_INCREMENT = "_cdc_cluster_time_increment";
  public static final String RESUME_TOKEN = "_cdc_resume_token";
  private static final String DELETE = "_cdc_delete";

  private final StorageConfig storage;

  public MongoApplier(StorageConfig storage) {
    this.storage = requireNonNull(storage, "storage is null");
  }

  public String mirrorLocation(SourceName collection) {
    return storage.tableLocation(MirrorApplier.MIRROR_ZONE, collection.mirrorTableName());
  }

  /** What applying a collection's changes gave: what could not be applied. */
  public record Outcome(Optional<Dataset<Row>> quarantined) {
    public Outcome {
      requireNonNull(quarantined, "quarantined is null");
    }
  }

  /**
   * Applies the collection's changes (rows of {@link MongoParsedChanges#SCHEMA} with an op, replays
   * already left out) that are not older than their document's tombstone ({@link
   * MongoPositions#tombstones}); {@code promoted} maps field names to Spark SQL types.
   */
  public Outcome apply(
      SparkSession spark,
      SourceName collection,
      Dataset<Row> changes,
      Dataset<Row> tombstones,
      Map<String, String> promoted,
      MirrorApplier.Transaction transaction) {
    String location = ensureMirror(spark, collection, promoted);
    Map<String, DataType> types = new LinkedHashMap<>();
    promoted.forEach((field, type) -> types.put(field, DataType.fromDDL(type)));
    List<Column> bad = new ArrayList<>();
    for (Map.Entry<String, DataType> field : types.entrySet()) {
      Column text = col("promoted").getItem(field.getKey());
      bad.add(
          when(
              text.isNotNull().and(text.try_cast(field.getValue()).isNull()), lit(field.getKey())));
    }
    Dataset<Row> checked =
        changes.withColumn(
            "_bad",
            bad.isEmpty()
                ? lit("")
                : concat_ws(",", call_function("array", bad.toArray(Column[]::new))));
    Dataset<Row> quarantine = checked.filter(col("_bad").notEqual(""));
    Dataset<Row> good = checked.filter(col("_bad").equalTo(""));
    List<Column> upsert = new ArrayList<>();
    List<Column> delete = new ArrayList<>();
    upsert.add(col("document_key").as(ID));
    delete.add(col("document_key").as(ID));
    upsert.add(col("full_document").as(DOCUMENT));
    delete.add(lit(null).cast("string").as(DOCUMENT));
    for (Map.Entry<String, DataType> field : types.entrySet()) {
      upsert.add(
          col("promoted").getItem(field.getKey()).try_cast(field.getValue()).as(field.getKey()));
      delete.add(lit(null).cast(field.getValue()).as(field.getKey()));
    }
    List<Column> metadata =
        List.of(
            col("cluster_time_seconds").as(CLUSTER_TIME_SECONDS),
            col("cluster_time_increment").as(CLUSTER_TIME_INCREMENT),
            col("resume_token").as(RESUME_TOKEN),
            col("committed_at").as(MirrorApplier.CHANGED_AT),
            lit("mongo").as(MirrorApplier.SOURCE));
    upsert.addAll(metadata);
    delete.addAll(metadata);
    upsert.add(lit(false).as(DELETE));
    delete.add(lit(true).as(DELETE));
    Dataset<Row> effects =
        good.filter(col("op").isin("c", "u"))
            .select(upsert.toArray(Column[]::new))
            .unionByName(good.filter(col("op").equalTo("d")).select(delete.toArray(Column[]::new)))
            .withColumn(
                "_rank",
                row_number()
                    .over(
                        Window.partitionBy(col(ID))
                            .orderBy(
                                col(CLUSTER_TIME_SECONDS).desc(),
                                col(CLUSTER_TIME_INCREMENT).desc(),
                                col(RESUME_TOKEN).desc())))
            .filter(col("_rank").equalTo(1))
            .drop("_rank");
    merge(spark, location, notBeforeTombstone(effects, tombstones), transaction);
    Optional<Dataset<Row>> quarantined =
        quarantine.isEmpty()
            ? Optional.empty()
            : Optional.of(
                Quarantine.rows(
                    quarantine,
                    lit(MirrorApplier.INCOMPATIBLE_TYPE),
                    col("_bad"),
                    concat_ws(
                        "",
                        lit("promoted fields that do not fit their column types: "),
                        col("_bad"))));
    return new Outcome(quarantined);
  }

  /**
   * The effects not older than their document's tombstone. The delete a tombstone records passes
   * (same order): a batch replayed after its tombstones committed still deletes.
   */
  private static Dataset<Row> notBeforeTombstone(Dataset<Row> effects, Dataset<Row> tombstones) {
    Column order =
        struct(
            col(CLUSTER_TIME_SECONDS).as("seconds"),
            col(CLUSTER_TIME_INCREMENT).as("increment"),
            col(RESUME_TOKEN).as("token"));
    return effects
        .join(broadcast(tombstones), col(ID).equalTo(col("document_id")), "left_outer")
        .filter(col("at").isNull().or(order.geq(col("at"))))
        .drop("document_id", "at");
  }

  private String ensureMirror(
      SparkSession spark, SourceName collection, Map<String, String> promoted) {
    String location = mirrorLocation(collection);
    if (!DeltaTables.exists(spark, location)) {
      StructType columns =
          new StructType().add(ID, DataTypes.StringType).add(DOCUMENT, DataTypes.StringType);
      for (Map.Entry<String, String> field : promoted.entrySet()) {
        columns = columns.add(field.getKey(), DataType.fromDDL(field.getValue()));
      }
      columns =
          columns
              .add(CLUSTER_TIME_SECONDS, DataTypes.LongType)
              .add(CLUSTER_TIME_INCREMENT, DataTypes.LongType)
              .add(RESUME_TOKEN, DataTypes.StringType)
              .add(MirrorApplier.CHANGED_AT, DataTypes.TimestampType)
              .add(MirrorApplier.SOURCE, DataTypes.StringType);
      DeltaTable.createIfNotExists(spark)
          .location(location)
          .addColumns(columns)
          .property("delta.enableChangeDataFeed", "true")
          .execute();
      LOG.info("Created mirror {} for {}", location, collection.qualifiedName());
      return location;
    }
    StructType existing = spark.read().format("delta").load(location).schema();
    List<String> names = List.of(existing.fieldNames());
    for (Map.Entry<String, String> field : promoted.entrySet()) {
      if (!names.contains(field.getKey())) {
        // A field promoted later: documents written before have it only in document.
        spark.sql(
            "ALTER TABLE delta.`"
                + location
                + "` ADD COLUMNS (`"
                + field.getKey()
                + "` "
                + DataType.fromDDL(field.getValue()).sql()
                + ")");
      }
    }
    return location;
  }

  private static void merge(
      SparkSession spark,
      String location,
      Dataset<Row> effects,
      MirrorApplier.Transaction transaction) {
    String newer =
        "(t."
            + CLUSTER_TIME_SECONDS
            + " IS NULL OR struct(s."
            + CLUSTER_TIME_SECONDS
            + ", s."
            + CLUSTER_TIME_INCREMENT
            + ", s."
            + RESUME_TOKEN
            + ") > struct(t."
            + CLUSTER_TIME_SECONDS
            + ", t."
            + CLUSTER_TIME_INCREMENT
            + ", t."
            + RESUME_TOKEN
            + "))";
    Map<String, String> assignments = new LinkedHashMap<>();
    for (String column : effects.columns()) {
      if (!column.equals(DELETE)) {
        assignments.put("`" + column + "`", "s.`" + column + "`");
      }
    }
    spark.conf().set("spark.databricks.delta.write.txnAppId", transaction.applicationId());
    spark
        .conf()
        .set("spark.databricks.delta.write.txnVersion", Long.toString(transaction.version()));
    try {
      DeltaTable.forPath(spark, location)
          .as("t")
          .merge(effects.as("s"), "t._id = s._id")
          .whenMatched("s." + DELETE + " AND " + newer)
          .delete()
          .whenMatched("NOT s." + DELETE + " AND " + newer)
          .updateExpr(assignments)
          .whenNotMatched("NOT s." + DELETE)
          .insertExpr(assignments)
          .execute();
    } finally {
      spark.conf().unset("spark.databricks.delta.write.txnAppId");
      spark.conf().unset("spark.databricks.delta.write.txnVersion");
    }
  }
}
