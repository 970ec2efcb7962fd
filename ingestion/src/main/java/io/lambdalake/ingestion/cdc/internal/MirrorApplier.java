package io.lambdalake.ingestion.cdc.internal;

import static java.util.Objects.requireNonNull;
import static org.apache.spark.sql.functions.array_contains;
import static org.apache.spark.sql.functions.array_join;
import static org.apache.spark.sql.functions.call_function;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat_ws;
import static org.apache.spark.sql.functions.from_json;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.row_number;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import io.delta.tables.DeltaTable;
import io.lambdalake.common.cdc.ChangeEnvelope.SourceName;
import io.lambdalake.common.cdc.SourcePosition.BinlogPosition;
import io.lambdalake.common.config.StorageConfig;
import io.lambdalake.spark.DeltaTables;
import io.lambdalake.spark.cdc.MirrorTypes;
import io.lambdalake.spark.cdc.ParsedChanges;
import io.lambdalake.spark.cdc.SourceSchemas;
import io.lambdalake.spark.cdc.SourceSchemas.SourceColumn;
import io.lambdalake.spark.cdc.SourceSchemas.TableSchema;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies one source table's row changes to its mirror {@code mirror.<database>__<table>}: in
 * binlog order, the last change per primary key, never an older change over a newer one. Creates
 * the mirror on first sight (change data feed on) and adds the columns the source added.
 */
public final class MirrorApplier {
  private static final Logger LOG = LoggerFactory.getLogger(MirrorApplier.class);
  public static final String MIRROR_ZONE = "mirror";
  public static final String BINLOG_FILE = "_cdc_binlog_file";
  public static final String BINLOG_POSITION = "_cdc_binlog_position";
  public static final String XOFFSET = "_cdc_xoffset";
  public static final String CHANGED_AT = "_cdc_changed_at";
  public static final String SOURCE = "_cdc_source";
  public static final List<String> METADATA_COLUMNS =
      List.of(BINLOG_FILE, BINLOG_POSITION, XOFFSET, CHANGED_AT, SOURCE);

  /** Delta's setting for when MERGE copies its source before reading it twice. */
  static final String MATERIALIZE_SOURCE = "spark.databricks.delta.merge.materializeSource";

  private static final String DELETE = "_cdc_delete";
  private static final String READ_ONLY = "_cdc_read_only";

  static final String NO_PRIMARY_KEY = "no_primary_key";
  static final String SOURCE_TABLE_UNKNOWN = "source_table_unknown";
  static final String UNKNOWN_COLUMN = "unknown_column";
  static final String INCOMPATIBLE_TYPE = "incompatible_type";

  private final StorageConfig storage;
  private final SourceSchemas schemas;

  public MirrorApplier(StorageConfig storage, SourceSchemas schemas) {
    this.storage = requireNonNull(storage, "storage is null");
    this.schemas = requireNonNull(schemas, "schemas is null");
  }

  /** What applying one table's changes gave: what could not be applied, and the newest change. */
  public record Outcome(Optional<Dataset<Row>> quarantined, Optional<BinlogPosition> newest) {
    public Outcome {
      requireNonNull(quarantined, "quarantined is null");
      requireNonNull(newest, "newest is null");
    }
  }

  /** The idempotence key of a MERGE: Delta skips it when this version was committed before. */
  public record Transaction(String applicationId, long version) {
    public Transaction {
      requireNonNull(applicationId, "applicationId is null");
    }
  }

  public String mirrorLocation(SourceName table) {
    return storage.tableLocation(MIRROR_ZONE, table.mirrorTableName());
  }

  /**
   * Applies the table's changes (rows of {@link ParsedChanges#SCHEMA} with an op) that are newer
   * than the threshold, running the MERGE in the given session (its SQL configuration carries the
   * MERGE's idempotence key, so concurrent tables each need their own session).
   *
   * @param columns every column name the changes' after images carry (from {@link BatchSurvey})
   */
  public Outcome apply(
      SparkSession spark,
      SourceName table,
      Dataset<Row> changes,
      Optional<BinlogPosition> threshold,
      Set<String> columns,
      Transaction transaction) {
    Dataset<Row> newer = threshold.map(t -> changes.filter(newerThan(t))).orElse(changes);
    Optional<TableSchema> found = schemas.get(table);
    if (found.isEmpty()) {
      return quarantineAll(
          newer,
          SOURCE_TABLE_UNKNOWN,
          table.qualifiedName() + " is not in the source's information_schema (dropped?)");
    }
    if (found.get().primaryKey().isEmpty()) {
      return quarantineAll(
          newer,
          NO_PRIMARY_KEY,
          table.qualifiedName()
              + " has no primary key, so a change cannot say which mirror row it changes;"
              + " add a primary key to the source table");
    }
    TableSchema schema = found.get();
    String location = ensureMirror(spark, schema);
    StructType mirror = schemaOf(spark, location);
    Set<String> unknown = unknownColumns(columns, mirror);
    if (!unknown.isEmpty()) {
      schema = schemas.refresh(table).orElse(schema);
      addColumns(spark, location, schema, unknown);
      mirror = schemaOf(spark, location);
      unknown = unknownColumns(columns, mirror);
    }
    List<Dataset<Row>> quarantined = new ArrayList<>();
    Dataset<Row> known = newer;
    if (!unknown.isEmpty()) {
      Column hasUnknown = lit(false);
      for (String name : unknown) {
        hasUnknown = hasUnknown.or(array_contains(col("after_columns"), name));
      }
      Dataset<Row> withUnknown = newer.filter(hasUnknown);
      // Rare (the source dropped a column the changes still carry): worth a look at the batch.
      if (!withUnknown.isEmpty()) {
        quarantined.add(
            Quarantine.rows(
                withUnknown,
                lit(UNKNOWN_COLUMN),
                lit(String.join(",", unknown)),
                lit("columns the source does not have (any more): " + String.join(", ", unknown))));
      }
      known = newer.filter(hasUnknown.unary_$bang());
    }
    Dataset<Row> checked = typed(known, schema, mirror).persist(StorageLevel.MEMORY_AND_DISK());
    try {
      // One job over the table's changes: how many do not fit, and the newest of those that do.
      Row counts =
          checked
              .agg(
                  sum(when(col("_bad").notEqual(""), 1).otherwise(0)).as("bad"),
                  sum(when(col("_bad").equalTo(""), 1).otherwise(0)).as("good"),
                  call_function(
                          "max",
                          when(
                              col("_bad").equalTo(""),
                              struct(
                                  col("binlog_file").as("f"),
                                  col("binlog_position").as("p"),
                                  col("order_xoffset").as("x"))))
                      .as("newest"))
              .first();
      long bad = counts.isNullAt(0) ? 0 : counts.getLong(0);
      long good = counts.isNullAt(1) ? 0 : counts.getLong(1);
      if (bad > 0) {
        // Kept apart from the cache, which goes when this table is done.
        quarantined.add(
            Quarantine.rows(
                    checked.filter(col("_bad").notEqual("")),
                    lit(INCOMPATIBLE_TYPE),
                    col("_bad"),
                    concat_ws(
                        "", lit("values that do not fit the mirror's column types: "), col("_bad")))
                .localCheckpoint(true));
      }
      if (good > 0) {
        merge(
            spark,
            location,
            effects(checked.filter(col("_bad").equalTo("")), schema, mirror),
            schema.primaryKey(),
            mirror,
            transaction);
      }
      // Only applied changes move the table's position: a quarantined record's position (it may
      // be garbage) must not make later good changes look old.
      Row newest = counts.isNullAt(2) ? null : counts.getStruct(2);
      return new Outcome(
          union(quarantined),
          newest == null
              ? Optional.empty()
              : Optional.of(
                  new BinlogPosition(newest.getString(0), newest.getLong(1), newest.getLong(2))));
    } finally {
      checked.unpersist();
    }
  }

  /**
   * Applies changes when no survey said which columns they carry (a resync): finds them first, in
   * one job.
   */
  public Outcome apply(
      SparkSession spark,
      SourceName table,
      Dataset<Row> changes,
      Optional<BinlogPosition> threshold,
      Transaction transaction) {
    Set<String> columns = new TreeSet<>();
    for (BatchSurvey.TableSurvey part : BatchSurvey.of(changes).tables()) {
      if (part.table().equals(table)) {
        columns.addAll(part.columns());
      }
    }
    return apply(spark, table, changes, threshold, columns, transaction);
  }

  private static StructType schemaOf(SparkSession spark, String location) {
    return spark.read().format("delta").load(location).schema();
  }

  private static Column newerThan(BinlogPosition threshold) {
    return struct(col("binlog_file"), col("binlog_position"), col("order_xoffset"))
        .gt(struct(lit(threshold.file()), lit(threshold.position()), lit(threshold.xoffset())));
  }

  private Outcome quarantineAll(Dataset<Row> changes, String reason, String message) {
    return new Outcome(
        Optional.of(Quarantine.rows(changes, lit(reason), lit(null), lit(message))),
        Optional.empty());
  }

  private static Optional<Dataset<Row>> union(List<Dataset<Row>> parts) {
    return parts.stream().reduce(Dataset::unionByName);
  }

  private static Set<String> unknownColumns(Set<String> columns, StructType mirror) {
    Set<String> known = new TreeSet<>(String.CASE_INSENSITIVE_ORDER);
    known.addAll(List.of(mirror.fieldNames()));
    Set<String> unknown = new TreeSet<>();
    for (String column : columns) {
      if (!known.contains(column)) {
        unknown.add(column);
      }
    }
    return unknown;
  }

  /** Creates the mirror with the source's columns and the CDC metadata, unless it exists. */
  String ensureMirror(SparkSession spark, TableSchema schema) {
    String location = mirrorLocation(schema.name());
    if (DeltaTables.exists(spark, location)) {
      return location;
    }
    StructType columns = new StructType();
    for (SourceColumn column : schema.columns()) {
      columns = columns.add(column.name(), MirrorTypes.mirrorType(column));
    }
    columns = addMetadataColumns(columns);
    DeltaTable.createIfNotExists(spark)
        .location(location)
        .addColumns(columns)
        .property("delta.enableChangeDataFeed", "true")
        .property("delta.autoOptimize.optimizeWrite", "false")
        .execute();
    LOG.info("Created mirror {} for {}", location, schema.name().qualifiedName());
    return location;
  }

  public static StructType addMetadataColumns(StructType columns) {
    return columns
        .add(BINLOG_FILE, DataTypes.StringType)
        .add(BINLOG_POSITION, DataTypes.LongType)
        .add(XOFFSET, DataTypes.LongType)
        .add(CHANGED_AT, DataTypes.TimestampType)
        .add(SOURCE, DataTypes.StringType);
  }

  /**
   * Adds columns the source added (ALTER TABLE ADD COLUMN). Rows already in the mirror predate the
   * column, so they get its default, as the source's existing rows did.
   */
  private static void addColumns(
      SparkSession spark, String location, TableSchema schema, Set<String> names) {
    for (String name : names) {
      Optional<SourceColumn> column = schema.column(name);
      if (column.isEmpty()) {
        continue;
      }
      DataType type = MirrorTypes.mirrorType(column.get());
      spark.sql(
          "ALTER TABLE delta.`"
              + location
              + "` ADD COLUMNS (`"
              + column.get().name()
              + "` "
              + type.sql()
              + ")");
      Optional<Column> defaultValue = defaultValue(column.get(), type);
      if (defaultValue.isPresent()) {
        DeltaTable.forPath(spark, location)
            .update(Map.of("`" + column.get().name() + "`", defaultValue.get()));
      }
      LOG.info("Mirror {}: added column {} {}", location, column.get().name(), type.sql());
    }
  }

  /** A literal column default (a number or a quoted string); expressions are not evaluated. */
  static Optional<Column> defaultValue(SourceColumn column, DataType type) {
    Optional<String> text = column.defaultValue();
    if (text.isEmpty() || text.get().equalsIgnoreCase("NULL")) {
      return Optional.empty();
    }
    String value = text.get();
    if (value.length() >= 2 && value.startsWith("'") && value.endsWith("'")) {
      return Optional.of(
          lit(value.substring(1, value.length() - 1).replace("''", "'")).try_cast(type));
    }
    if (value.matches("-?[0-9]+(\\.[0-9]+)?")) {
      return Optional.of(lit(new java.math.BigDecimal(value)).try_cast(type));
    }
    LOG.warn(
        "Column {} has the default expression {}: rows older than the column stay NULL in the"
            + " mirror",
        column.name(),
        value);
    return Optional.empty();
  }

  /**
   * Reads the after image with the mirror's types and the before image's key; {@code _bad} names
   * the columns whose value does not fit (empty when all do). Keeps only what the MERGE and the
   * quarantine need (the payload only where it does not fit), as the table's changes are cached.
   */
  private static Dataset<Row> typed(Dataset<Row> changes, TableSchema schema, StructType mirror) {
    StructType wire = new StructType();
    StructType keys = new StructType();
    for (StructField field : mirror.fields()) {
      if (METADATA_COLUMNS.contains(field.name())) {
        continue;
      }
      StructField wireField =
          new StructField(
              field.name(),
              MirrorTypes.wireType(field.dataType(), schema.column(field.name())),
              true,
              org.apache.spark.sql.types.Metadata.empty());
      wire = wire.add(wireField);
      if (schema.primaryKey().stream().anyMatch(k -> k.equalsIgnoreCase(field.name()))) {
        keys = keys.add(wireField);
      }
    }
    Map<String, String> options = new LinkedHashMap<>();
    options.put("timestampFormat", "yyyy-MM-dd HH:mm:ss[.SSSSSS]");
    options.put("timestampNTZFormat", "yyyy-MM-dd HH:mm:ss[.SSSSSS]");
    options.put("dateFormat", "yyyy-MM-dd");
    options.put("mode", "PERMISSIVE");
    Dataset<Row> parsed =
        changes
            .withColumn("_after", from_json(col("after_json"), wire, options))
            .withColumn("_before", from_json(col("before_json"), keys, options));
    List<Column> bad = new ArrayList<>();
    for (StructField field : wire.fields()) {
      String name = field.name();
      // A value the image has (not JSON null) that the column type cannot hold reads as null.
      bad.add(
          when(
              array_contains(col("after_columns"), name)
                  .and(array_contains(col("after_null_columns"), name).unary_$bang())
                  .and(col("_after").getField(name).isNull()),
              lit(name)));
    }
    for (String key : schema.primaryKey()) {
      // A delete names its row by the before image's key; every other change by the after image's.
      Column missing =
          when(col("op").equalTo("d"), col("_before").getField(key).isNull())
              .otherwise(col("_after").getField(key).isNull());
      bad.add(when(missing, lit(key)));
    }
    Column isBad = col("_bad").notEqual("");
    return parsed
        .withColumn(
            "_bad",
            concat_ws(
                ",",
                call_function(
                    "array_distinct", call_function("array", bad.toArray(Column[]::new)))))
        .select(
            col("op"),
            col("binlog_file"),
            col("binlog_position"),
            col("order_xoffset"),
            col("committed_at"),
            col("after_columns"),
            col("_after"),
            col("_before"),
            col("_bad"),
            col("received_at"),
            when(isBad, col("payload")).as("payload"),
            col("payload_encoding"),
            col("payload_size"),
            col("source_topic"),
            col("source_partition"),
            col("source_offset"));
  }

  /** The value of a mirror column from a typed image. */
  private static Column value(
      String image, StructField field, TableSchema schema, boolean defaultWhenAbsent) {
    Column wireValue = col(image).getField(field.name());
    Optional<SourceColumn> source = schema.column(field.name());
    Column value;
    if (source.isPresent() && source.get().dataType().equals("set")) {
      value = array_join(wireValue, ",");
    } else if (field.dataType().equals(DataTypes.BooleanType)) {
      value = wireValue.notEqual(0);
    } else {
      value = wireValue;
    }
    value = value.cast(field.dataType());
    if (defaultWhenAbsent && source.isPresent()) {
      Optional<Column> defaultValue = defaultValue(source.get(), field.dataType());
      if (defaultValue.isPresent()) {
        value =
            when(array_contains(col("after_columns"), field.name()), value)
                .otherwise(defaultValue.get());
      }
    }
    return value;
  }

  /**
   * Each change as what it does to one primary key: an upsert of the after image, or a delete of
   * the before image's key (a delete, or an update that changed the key). Only the newest effect
   * per key is kept.
   */
  private static Dataset<Row> effects(Dataset<Row> changes, TableSchema schema, StructType mirror) {
    List<Column> upsert = new ArrayList<>();
    List<Column> delete = new ArrayList<>();
    for (StructField field : mirror.fields()) {
      if (METADATA_COLUMNS.contains(field.name())) {
        continue;
      }
      upsert.add(value("_after", field, schema, true).as(field.name()));
      boolean key = schema.primaryKey().stream().anyMatch(k -> k.equalsIgnoreCase(field.name()));
      delete.add(
          (key ? value("_before", field, schema, false) : lit(null).cast(field.dataType()))
              .as(field.name()));
    }
    List<Column> metadata =
        List.of(
            col("binlog_file").as(BINLOG_FILE),
            col("binlog_position").as(BINLOG_POSITION),
            col("order_xoffset").as(XOFFSET),
            col("committed_at").as(CHANGED_AT),
            lit("maxwell").as(SOURCE));
    Column keyChanged = lit(false);
    for (String key : schema.primaryKey()) {
      keyChanged =
          keyChanged.or(
              col("_before").getField(key).eqNullSafe(col("_after").getField(key)).unary_$bang());
    }
    Dataset<Row> upserts =
        changes
            .filter(col("op").isin("c", "u", "r"))
            .select(
                concat(
                    upsert, metadata, lit(false).as(DELETE), col("op").equalTo("r").as(READ_ONLY)));
    Dataset<Row> deletes =
        changes
            .filter(col("op").equalTo("d").or(col("op").equalTo("u").and(keyChanged)))
            .select(concat(delete, metadata, lit(true).as(DELETE), lit(false).as(READ_ONLY)));
    Column[] partitionKey =
        schema.primaryKey().stream().map(k -> col("`" + k + "`")).toArray(Column[]::new);
    return upserts
        .unionByName(deletes)
        .withColumn(
            "_rank",
            row_number()
                .over(
                    Window.partitionBy(partitionKey)
                        .orderBy(
                            col(BINLOG_FILE).desc(),
                            col(BINLOG_POSITION).desc(),
                            col(XOFFSET).desc(),
                            col(DELETE).desc())))
        .filter(col("_rank").equalTo(1))
        .drop("_rank");
  }

  private static Column[] concat(List<Column> values, List<Column> metadata, Column... more) {
    List<Column> all = new ArrayList<>(values);
    all.addAll(metadata);
    all.addAll(List.of(more));
    return all.toArray(Column[]::new);
  }

  private static void merge(
      SparkSession spark,
      String location,
      Dataset<Row> effects,
      List<String> primaryKey,
      StructType mirror,
      Transaction transaction) {
    String on =
        String.join(
            " AND ", primaryKey.stream().map(k -> "t.`" + k + "` = s.`" + k + "`").toList());
    String newer =
        "(t."
            + BINLOG_FILE
            + " IS NULL OR struct(s."
            + BINLOG_FILE
            + ", s."
            + BINLOG_POSITION
            + ", s."
            + XOFFSET
            + ") > struct(t."
            + BINLOG_FILE
            + ", t."
            + BINLOG_POSITION
            + ", t."
            + XOFFSET
            + "))";
    Map<String, String> assignments = new LinkedHashMap<>();
    for (StructField field : mirror.fields()) {
      assignments.put("`" + field.name() + "`", "s.`" + field.name() + "`");
    }
    // Delta records the transaction in the mirror's log: a replayed batch's MERGE is skipped.
    spark.conf().set("spark.databricks.delta.write.txnAppId", transaction.applicationId());
    spark
        .conf()
        .set("spark.databricks.delta.write.txnVersion", Long.toString(transaction.version()));
    // Delta copies the source (the newest effect per key, from the cached typed changes) once and
    // reads the copy twice; with materializeSource=none it refuses a cached source outright.
    try {
      DeltaTable.forPath(spark, location)
          .as("t")
          .merge(effects.as("s"), on)
          .whenMatched("s." + DELETE + " AND " + newer)
          .delete()
          .whenMatched("NOT s." + DELETE + " AND NOT s." + READ_ONLY + " AND " + newer)
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
