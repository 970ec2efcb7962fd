package io.lambdalake.spark.cdc;

import static org.apache.spark.sql.functions.array_contains;
import static org.apache.spark.sql.functions.array_join;
import static org.apache.spark.sql.functions.call_function;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat_ws;
import static org.apache.spark.sql.functions.from_json;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.row_number;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.substring_index;
import static org.apache.spark.sql.functions.when;

import io.lambdalake.common.cdc.SourcePosition.BinlogPosition;
import io.lambdalake.spark.cdc.SourceSchemas.SourceColumn;
import io.lambdalake.spark.cdc.SourceSchemas.TableSchema;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.Metadata;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What MySQL/MariaDB row changes (rows of {@link ParsedChanges#SCHEMA}) do to a table of the
 * source's rows: the one definition the CDC mirrors and the batch layer's daily history share.
 *
 * <p>A change's images are read with the table's column types ({@link #typed}); each change becomes
 * its effect on one primary key, an upsert of the after image or a delete of the before image's key
 * (a delete, or an update that moved the row to another key), and only the newest effect per key in
 * binlog order (file, position, xoffset) is kept ({@link #effects}). An effect changes a row only
 * when it is newer than the row's own position, so an older change never overwrites a newer one; a
 * snapshot read (Maxwell's bootstrap-insert) only fills a key that has no row ({@link #applied},
 * and the mirror's MERGE with the same conditions).
 */
public final class ChangeEffects {
  private static final Logger LOG = LoggerFactory.getLogger(ChangeEffects.class);

  public static final String BINLOG_FILE = "_cdc_binlog_file";
  public static final String BINLOG_POSITION = "_cdc_binlog_position";
  public static final String XOFFSET = "_cdc_xoffset";
  public static final String CHANGED_AT = "_cdc_changed_at";
  public static final String SOURCE = "_cdc_source";

  /** The columns every table of source rows carries after the source's own. */
  public static final List<String> METADATA_COLUMNS =
      List.of(BINLOG_FILE, BINLOG_POSITION, XOFFSET, CHANGED_AT, SOURCE);

  /** In effects: whether the effect deletes its key. */
  public static final String DELETE = "_cdc_delete";

  /** In effects: whether the effect is a snapshot read, which only fills a missing key. */
  public static final String READ_ONLY = "_cdc_read_only";

  /** In typed changes: the columns whose value does not fit their type, comma-separated. */
  public static final String BAD = "_bad";

  private ChangeEffects() {}

  public static StructType addMetadataColumns(StructType columns) {
    return columns
        .add(BINLOG_FILE, DataTypes.StringType)
        .add(BINLOG_POSITION, DataTypes.LongType)
        .add(XOFFSET, DataTypes.LongType)
        .add(CHANGED_AT, DataTypes.TimestampType)
        .add(SOURCE, DataTypes.StringType);
  }

  /** The changes later in binlog order than the position (of the same binlog). */
  public static Column newerThan(BinlogPosition threshold) {
    return struct(binlogSequence(col("binlog_file")), col("binlog_position"), col("order_xoffset"))
        .gt(struct(lit(threshold.sequence()), lit(threshold.position()), lit(threshold.xoffset())));
  }

  /**
   * The number of a binlog file ({@code <basename>.<number>}): files sort by it, not by their name,
   * since {@code .1000000} follows {@code .999999}.
   */
  public static Column binlogSequence(Column file) {
    return substring_index(file, ".", -1).cast(DataTypes.LongType);
  }

  /** {@link #binlogSequence} in SQL, over a column named by {@code file}. */
  public static String binlogSequenceSql(String file) {
    return "CAST(substring_index(" + file + ", '.', -1) AS BIGINT)";
  }

  /**
   * A struct that orders positions of one binlog: file number, offset, xoffset (fields {@code s},
   * {@code p}, {@code x}), then the file name itself ({@code f}), which ties only within a file.
   */
  public static Column binlogOrder(Column file, Column position, Column xoffset) {
    return struct(binlogSequence(file).as("s"), position.as("p"), xoffset.as("x"), file.as("f"));
  }

  /** A literal column default (a number or a quoted string); expressions are not evaluated. */
  public static Optional<Column> defaultValue(SourceColumn column, DataType type) {
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
      return Optional.of(lit(new BigDecimal(value)).try_cast(type));
    }
    LOG.warn(
        "Column {} has the default expression {}: rows older than the column stay NULL in the"
            + " mirror and the history",
        column.name(),
        value);
    return Optional.empty();
  }

  /**
   * Reads the after image with the table's types and the before image's key; {@link #BAD} names the
   * columns whose value does not fit (empty when all do), including a primary-key column the image
   * lacks. Keeps only what {@link #effects} and a quarantine row need (the payload only where it
   * does not fit), as callers cache the typed changes.
   *
   * @param table the table's columns (the source's, with or without the metadata columns)
   */
  public static Dataset<Row> typed(Dataset<Row> changes, TableSchema schema, StructType table) {
    StructType wire = new StructType();
    StructType keys = new StructType();
    for (StructField field : table.fields()) {
      if (METADATA_COLUMNS.contains(field.name())) {
        continue;
      }
      StructField wireField =
          new StructField(
              field.name(),
              MirrorTypes.wireType(field.dataType(), schema.column(field.name())),
              true,
              Metadata.empty());
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
    Column isBad = col(BAD).notEqual("");
    return parsed
        .withColumn(
            BAD,
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
            col(BAD),
            col("received_at"),
            when(isBad, col("payload")).as("payload"),
            col("payload_encoding"),
            col("payload_size"),
            col("source_topic"),
            col("source_partition"),
            col("source_offset"));
  }

  /** The value of a table column from a typed image. */
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
   * Each typed change (without {@link #BAD} values) as what it does to one primary key: the table's
   * columns in order, then {@link #DELETE} and {@link #READ_ONLY}. Only the newest effect per key
   * is kept.
   */
  public static Dataset<Row> effects(Dataset<Row> changes, TableSchema schema, StructType table) {
    List<Column> upsert = new ArrayList<>();
    List<Column> delete = new ArrayList<>();
    for (StructField field : table.fields()) {
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
    return upserts
        .unionByName(deletes)
        .withColumn(
            "_rank",
            row_number()
                .over(
                    Window.partitionBy(keyColumns(schema.primaryKey(), ""))
                        .orderBy(
                            binlogSequence(col(BINLOG_FILE)).desc(),
                            col(BINLOG_POSITION).desc(),
                            col(XOFFSET).desc(),
                            col(DELETE).desc())))
        .filter(col("_rank").equalTo(1))
        .drop("_rank");
  }

  /**
   * The SQL condition (over aliases {@code t}, the row, and {@code s}, the effect) under which an
   * effect changes a row that exists: it is later in binlog order.
   */
  public static String newerCondition() {
    return "(t."
        + BINLOG_FILE
        + " IS NULL OR struct("
        + binlogSequenceSql("s." + BINLOG_FILE)
        + ", s."
        + BINLOG_POSITION
        + ", s."
        + XOFFSET
        + ") > struct("
        + binlogSequenceSql("t." + BINLOG_FILE)
        + ", t."
        + BINLOG_POSITION
        + ", t."
        + XOFFSET
        + "))";
  }

  /**
   * The rows after the effects, as the mirror's MERGE leaves them, computed by a join: a key with
   * no effect keeps its row; a newer delete removes it; a newer upsert (not a snapshot read)
   * replaces it; an upsert of a key without a row inserts it.
   *
   * @param rows the table's rows: the columns of {@code table}, metadata included
   * @param effects the {@link #effects} of changes
   */
  public static Dataset<Row> applied(
      Dataset<Row> rows, Dataset<Row> effects, List<String> primaryKey, StructType table) {
    Column on = lit(true);
    for (String key : primaryKey) {
      on = on.and(col("t.`" + key + "`").equalTo(col("s.`" + key + "`")));
    }
    Dataset<Row> joined = rows.as("t").join(effects.as("s"), on, "full_outer");
    Column rowExists = col("t." + BINLOG_FILE).isNotNull().or(keyPresent("t", primaryKey));
    Column effectExists = col("s." + DELETE).isNotNull();
    Column newer = org.apache.spark.sql.functions.expr(newerCondition());
    Column takeEffect =
        effectExists.and(
            rowExists
                .unary_$bang()
                .or(newer.and(col("s." + READ_ONLY).unary_$bang()))
                .or(newer.and(col("s." + DELETE))));
    Column keep =
        when(takeEffect, col("s." + DELETE).unary_$bang()).otherwise(rowExists).as("_keep");
    List<Column> columns = new ArrayList<>();
    for (StructField field : table.fields()) {
      columns.add(
          when(takeEffect, col("s.`" + field.name() + "`"))
              .otherwise(col("t.`" + field.name() + "`"))
              .cast(field.dataType())
              .as(field.name()));
    }
    columns.add(keep);
    return joined.select(columns.toArray(Column[]::new)).filter(col("_keep")).drop("_keep");
  }

  private static Column keyPresent(String alias, List<String> primaryKey) {
    Column present = lit(true);
    for (String key : primaryKey) {
      present = present.and(col(alias + ".`" + key + "`").isNotNull());
    }
    return present;
  }

  private static Column[] keyColumns(List<String> primaryKey, String alias) {
    return primaryKey.stream().map(k -> col(alias + "`" + k + "`")).toArray(Column[]::new);
  }

  private static Column[] concat(List<Column> values, List<Column> metadata, Column... more) {
    List<Column> all = new ArrayList<>(values);
    all.addAll(metadata);
    all.addAll(List.of(more));
    return all.toArray(Column[]::new);
  }
}
