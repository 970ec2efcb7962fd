package io.lambdalake.ingestion.cdc.internal;

import static java.util.Objects.requireNonNull;
import static org.apache.spark.sql.functions.array_contains;
import static org.apache.spark.sql.functions.call_function;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat_ws;
import static org.apache.spark.sql.functions.explode;
import static org.apache.spark.sql.functions.get_json_object;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.split;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import io.delta.tables.DeltaTable;
import io.lambdalake.common.cdc.ChangeEnvelope.SourceName;
import io.lambdalake.common.cdc.ChangeOperation;
import io.lambdalake.common.cdc.SourcePosition.BinlogPosition;
import io.lambdalake.common.config.StorageConfig;
import io.lambdalake.common.table.LakeTable;
import io.lambdalake.spark.DeltaTables;
import io.lambdalake.spark.cdc.ChangeEffects;
import io.lambdalake.spark.cdc.MirrorTypes;
import io.lambdalake.spark.cdc.ParsedChanges;
import io.lambdalake.spark.cdc.SourceSchemas;
import io.lambdalake.spark.cdc.SourceSchemas.SourceColumn;
import io.lambdalake.spark.cdc.SourceSchemas.TableSchema;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.jdk.javaapi.CollectionConverters;

/**
 * Applies one source table's row changes to its mirror {@code mirror.<database>__<table>}: in
 * binlog order, the last change per primary key, never an older change over a newer one. Creates
 * the mirror on first sight (change data feed on) and adds the columns the source added.
 */
public final class MirrorApplier {
  private static final Logger LOG = LoggerFactory.getLogger(MirrorApplier.class);
  public static final String MIRROR_ZONE = "mirror";
  public static final String CHANGED_AT = ChangeEffects.CHANGED_AT;
  public static final String SOURCE = ChangeEffects.SOURCE;

  /** Delta's setting for when MERGE copies its source before reading it twice. */
  static final String MATERIALIZE_SOURCE = "spark.databricks.delta.merge.materializeSource";

  static final String NO_PRIMARY_KEY = "no_primary_key";
  public static final String SOURCE_TABLE_UNKNOWN = "source_table_unknown";
  static final String UNKNOWN_COLUMN = "unknown_column";
  static final String INCOMPATIBLE_TYPE = "incompatible_type";
  static final String SOURCE_TABLE_DROPPED = "source_table_dropped";

  /**
   * The mirror's property holding the binlog position ({@code <file>:<offset>}) of the newest
   * TRUNCATE TABLE applied to it: every row older than it is gone, and no older change is applied.
   */
  public static final String TRUNCATED_AT = "lake.source.truncated-at";

  /**
   * The mirror's property holding the binlog position of the DROP TABLE that retired it: its rows
   * stay as they were at the drop; changes after it (a table created again under the name) are
   * quarantined.
   */
  public static final String DROPPED_AT = "lake.source.dropped-at";

  /**
   * On the mirror of a table renamed away ({@code RENAME TABLE a TO b}): the new name, {@code
   * <database>.<table>}. Such a mirror also has {@link #DROPPED_AT}, the rename's position.
   */
  public static final String RENAMED_TO = "lake.source.renamed-to";

  /** On the mirror a rename carried over: the former name, {@code <database>.<table>}. */
  public static final String RENAMED_FROM = "lake.source.renamed-from";

  /**
   * On the mirror a rename carried over: the rename's position. Changes of the name at or before it
   * belong to the table that had the name before and are quarantined when they arrive late.
   */
  public static final String RENAMED_FROM_AT = "lake.source.renamed-from-at";

  static final String SOURCE_TABLE_RENAMED = "source_table_renamed";

  /**
   * On a mirror that still holds the table a rename's new name had before it (the old {@code t} of
   * a cut-over whose {@code _t_new -> t} was read before {@code t -> _t_old}): the renames waiting
   * for this table to be renamed away, {@code <from>|<to>|<file>:<offset>|<order>} separated by
   * {@code ;}.
   */
  public static final String WAITING_RENAME = "lake.source.waiting-rename";

  private final StorageConfig storage;
  private final SourceSchemas schemas;
  // Former name -> new name, from the renames this job applied or read from a retired mirror: a
  // renamed-away table's late changes are typed by its new name's schema.
  private final Map<SourceName, SourceName> renamedTo = new ConcurrentHashMap<>();

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

  /**
   * One table renamed by a {@code RENAME TABLE} or {@code ALTER TABLE ... RENAME TO}, as the DDL
   * relay publishes it into the former name's topic.
   *
   * @param at the statement's position
   * @param order the rename's place in its statement (the cut-over renames two tables at once)
   */
  public record Rename(SourceName from, SourceName to, BinlogPosition at, int order)
      implements Comparable<Rename> {
    public Rename {
      requireNonNull(from, "from is null");
      requireNonNull(to, "to is null");
      requireNonNull(at, "at is null");
    }

    @Override
    public int compareTo(Rename other) {
      int byPosition = at.compareTo(other.at);
      return byPosition != 0 ? byPosition : Integer.compare(order, other.order);
    }
  }

  /** The renames among parsed changes, in binlog order (one small job). */
  public static List<Rename> renames(Dataset<Row> parsed) {
    List<Rename> renames = new ArrayList<>();
    for (Row row :
        parsed
            .filter(col("reason").isNull().and(col("type").equalTo("table-rename")))
            .select(
                col("source_database"),
                col("source_table"),
                get_json_object(col("data"), "$.database"),
                get_json_object(col("data"), "$.table"),
                get_json_object(col("data"), "$.order"),
                col("binlog_file"),
                col("binlog_position"))
            .collectAsList()) {
      if (row.anyNull()) {
        LOG.warn("A table-rename record without its new name or position is ignored: {}", row);
        continue;
      }
      renames.add(
          new Rename(
              new SourceName(row.getString(0), row.getString(1)),
              new SourceName(row.getString(2), row.getString(3)),
              new BinlogPosition(
                  row.getString(5), row.getLong(6), BinlogPosition.LAST_IN_TRANSACTION),
              Integer.parseInt(row.getString(4))));
    }
    // Distinct: the stack's relay and another may both publish one statement.
    return renames.stream().distinct().sorted().toList();
  }

  /**
   * Carries a mirror over to the table's new name at the rename's position: the new name's mirror
   * becomes the former name's rows up to the rename (by their {@code _cdc_binlog_*} position; rows
   * without one, from a snapshot import, count as older), plus whatever the new name's mirror
   * already holds after the rename (Maxwell's records of the new name may land before the relay's
   * rename), which wins per key. The former name's mirror is retired like a drop ({@link
   * #DROPPED_AT}, {@link #RENAMED_TO}); the new one remembers the rename ({@link #RENAMED_FROM},
   * {@link #RENAMED_FROM_AT}), which also makes applying it again a no-op. Apply the former name's
   * changes up to the rename first, and renames in binlog order.
   */
  public RenameOutcome applyRename(SparkSession spark, Rename rename) {
    renamedTo.put(rename.from(), rename.to());
    String from = mirrorLocation(rename.from());
    String to = mirrorLocation(rename.to());
    boolean fromExists = DeltaTables.exists(spark, from);
    boolean toExists = DeltaTables.exists(spark, to);
    if (toExists) {
      Map<String, String> toProperties = properties(spark, to);
      Optional<BinlogPosition> done = positionProperty(toProperties, RENAMED_FROM_AT);
      if (done.isPresent() && done.get().compareTo(rename.at()) >= 0) {
        return RenameOutcome.UNCHANGED;
      }
      if (!toProperties.containsKey(DROPPED_AT) && holdsRowsUpTo(spark, to, rename.at())) {
        // The source had no table of the new name at the rename, so the record that renamed the
        // old one away is still to come: Kafka keeps no order between two topics.
        addWaiting(spark, to, toProperties, rename);
        LOG.warn(
            "{} renamed to {} at {}: waits until the table that had the name before is renamed"
                + " away (its record is not read yet); the mirror {} holds that table",
            rename.from().qualifiedName(),
            rename.to().qualifiedName(),
            format(rename.at()),
            to);
        return RenameOutcome.WAITING;
      }
    }
    if (fromExists) {
      Optional<BinlogPosition> givenAway =
          positionProperty(properties(spark, from), RENAMED_FROM_AT);
      if (givenAway.isPresent() && givenAway.get().compareTo(rename.at()) >= 0) {
        // A later rename of the statement gave the name to another table first (the old table's
        // mirror held no row then, so that rename did not wait): the mirror is not this table's.
        LOG.warn(
            "{} renamed to {} at {}: its mirror {} already holds the table that took the name at"
                + " {}; nothing carried over",
            rename.from().qualifiedName(),
            rename.to().qualifiedName(),
            format(rename.at()),
            from,
            format(givenAway.get()));
        return RenameOutcome.UNCHANGED;
      }
    }
    if (!fromExists && !toExists) {
      LOG.info(
          "{} renamed to {} at {}: no mirror to carry over",
          rename.from().qualifiedName(),
          rename.to().qualifiedName(),
          format(rename.at()));
      return RenameOutcome.UNCHANGED;
    }
    Column newer = mirrorRowNewerThan(rename.at());
    Optional<Dataset<Row>> carried =
        fromExists
            ? Optional.of(
                spark
                    .read()
                    .format("delta")
                    .load(from)
                    .filter(newer.isNull().or(newer.unary_$bang())))
            : Optional.empty();
    Optional<Dataset<Row>> kept =
        toExists
            ? Optional.of(
                spark.read().format("delta").load(to).filter(newer.isNotNull().and(newer)))
            : Optional.empty();
    Optional<TableSchema> toSchema = schemas.get(rename.to());
    List<String> key =
        toSchema.map(TableSchema::primaryKey).filter(k -> !k.isEmpty()).orElse(List.of());
    Dataset<Row> rows;
    if (carried.isPresent()) {
      Dataset<Row> older = carried.get();
      if (!key.isEmpty()) {
        Column[] keyColumns = key.stream().map(k -> col("`" + k + "`")).toArray(Column[]::new);
        // The new name's state after the rename wins for every key it changed: the rows it holds,
        // and the keys it deleted, which left no row to win (Maxwell's records of the new name
        // read a micro-batch before the relay's rename; the carried row must not come back).
        Optional<Dataset<Row>> changed =
            keysChangedAfter(spark, rename, toSchema.get(), older.schema(), key);
        List<Dataset<Row>> winning = new ArrayList<>();
        changed.ifPresent(winning::add);
        kept.ifPresent(k -> winning.add(k.select(keyColumns)));
        Optional<Dataset<Row>> winningKeys = winning.stream().reduce(Dataset::union);
        if (winningKeys.isPresent()) {
          older =
              older.join(
                  winningKeys.get().distinct(),
                  CollectionConverters.asScala(key).toSeq(),
                  "left_anti");
        }
      }
      Dataset<Row> carriedRows = older;
      rows = kept.map(k -> carriedRows.unionByName(k, true)).orElse(carriedRows);
    } else {
      rows = kept.orElseThrow();
    }
    // Written once, then read by the overwrite: the overwrite must not read its own target twice.
    rows = rows.localCheckpoint(true);
    if (!toExists) {
      DeltaTable.createIfNotExists(spark)
          .location(to)
          .addColumns(rows.schema())
          .property("delta.enableChangeDataFeed", "true")
          .property("delta.autoOptimize.optimizeWrite", "false")
          .execute();
    }
    rows.write().format("delta").mode("overwrite").option("overwriteSchema", "true").save(to);
    if (fromExists) {
      Map<String, String> properties = properties(spark, from);
      setIfLater(spark, from, properties, DROPPED_AT, rename.at());
      spark.sql(
          "ALTER TABLE delta.`"
              + from
              + "` SET TBLPROPERTIES ('"
              + RENAMED_TO
              + "' = '"
              + rename.to().qualifiedName()
              + "')");
    }
    spark.sql(
        "ALTER TABLE delta.`"
            + to
            + "` UNSET TBLPROPERTIES IF EXISTS ('"
            + DROPPED_AT
            + "', '"
            + RENAMED_TO
            + "', '"
            + TRUNCATED_AT
            + "', '"
            + WAITING_RENAME
            + "')");
    // Before the mark: a try that crashed in between carries over and replays again (the
    // overwrite keeps what the earlier try replayed, and a change is not newer than itself).
    Outcome replayed = replayAfterRename(spark, rename);
    // Last: it marks the rename as applied.
    spark.sql(
        "ALTER TABLE delta.`"
            + to
            + "` SET TBLPROPERTIES ('"
            + RENAMED_FROM
            + "' = '"
            + rename.from().qualifiedName()
            + "', '"
            + RENAMED_FROM_AT
            + "' = '"
            + format(rename.at())
            + "')");
    LOG.info(
        "Mirror {}: carried over from {} ({} renamed to {} at {})",
        to,
        from,
        rename.from().qualifiedName(),
        rename.to().qualifiedName(),
        format(rename.at()));
    return new RenameOutcome(false, true, replayed);
  }

  /**
   * The keys of the new name's row changes after the rename in raw.mysql_changes (the batches
   * landed before this one), typed as the carried mirror's key columns; empty without a log.
   */
  private Optional<Dataset<Row>> keysChangedAfter(
      SparkSession spark, Rename rename, TableSchema schema, StructType table, List<String> key) {
    String log = LakeTable.RAW_MYSQL_CHANGES.location(storage);
    if (!DeltaTables.exists(spark, log)) {
      return Optional.empty();
    }
    Dataset<Row> changes =
        spark
            .read()
            .format("delta")
            .load(log)
            .filter(
                col("source_database")
                    .equalTo(rename.to().database())
                    .and(col("source_table").equalTo(rename.to().table())))
            .mapPartitions(ParsedChanges.fromRawLog(), Encoders.row(ParsedChanges.SCHEMA))
            .filter(col("reason").isNull().and(col("op").isNotNull()))
            .filter(ChangeEffects.isRowChange())
            .filter(ChangeEffects.newerThan(rename.at()));
    Dataset<Row> typed = ChangeEffects.typed(changes, schema, table);
    List<Column> keys = new ArrayList<>();
    Column present = lit(true);
    for (String name : key) {
      StructField field =
          List.of(table.fields()).stream()
              .filter(f -> f.name().equalsIgnoreCase(name))
              .findFirst()
              .orElse(null);
      if (field == null) {
        return Optional.empty();
      }
      // A delete names its row by the before image's key; every other change by the after image's.
      Column value =
          when(col("op").equalTo(ChangeOperation.DELETE.code()), col("_before").getField(name))
              .otherwise(col("_after").getField(name))
              .cast(field.dataType());
      keys.add(value.as(field.name()));
      present = present.and(value.isNotNull());
    }
    return Optional.of(typed.filter(present).select(keys.toArray(Column[]::new)));
  }

  /**
   * What applying a rename did.
   *
   * @param waiting whether it waits for the table that has its new name to be renamed away
   * @param wrote whether the new name's mirror was written
   * @param replayed the new name's quarantined changes applied after it ({@link
   *     #replayQuarantined})
   */
  public record RenameOutcome(boolean waiting, boolean wrote, Outcome replayed) {
    static final RenameOutcome UNCHANGED =
        new RenameOutcome(false, false, new Outcome(Optional.empty(), Optional.empty()));
    static final RenameOutcome WAITING =
        new RenameOutcome(true, false, new Outcome(Optional.empty(), Optional.empty()));

    public RenameOutcome {
      requireNonNull(replayed, "replayed is null");
    }
  }

  /** Whether the rename was applied: the new name's mirror was carried over at or after it. */
  public boolean isApplied(SparkSession spark, Rename rename) {
    String to = mirrorLocation(rename.to());
    if (!DeltaTables.exists(spark, to)) {
      return false;
    }
    Optional<BinlogPosition> done = positionProperty(properties(spark, to), RENAMED_FROM_AT);
    return done.isPresent() && done.get().compareTo(rename.at()) >= 0;
  }

  /**
   * The renames plus those waiting ({@link #WAITING_RENAME}) on the mirrors of the tables that
   * leave (renamed away or dropped), without repeats, in binlog order: a rename that waited for its
   * new name's old table is applied in the batch that renames that table away, right after it.
   */
  public List<Rename> withWaiting(
      SparkSession spark, List<Rename> renames, Set<SourceName> leaving) {
    Set<Rename> all = new TreeSet<>(renames);
    for (SourceName table : leaving) {
      String location = mirrorLocation(table);
      if (DeltaTables.exists(spark, location)) {
        all.addAll(waiting(properties(spark, location)));
      }
    }
    return List.copyOf(all);
  }

  private static List<Rename> waiting(Map<String, String> properties) {
    String value = properties.get(WAITING_RENAME);
    if (value == null || value.isBlank()) {
      return List.of();
    }
    List<Rename> renames = new ArrayList<>();
    for (String entry : value.split(";")) {
      String[] parts = entry.split("\\|");
      renames.add(
          new Rename(
              qualified(parts[0]),
              qualified(parts[1]),
              BinlogPosition.parse(parts[2], BinlogPosition.LAST_IN_TRANSACTION),
              Integer.parseInt(parts[3])));
    }
    return renames;
  }

  private static void addWaiting(
      SparkSession spark, String location, Map<String, String> properties, Rename rename) {
    Set<Rename> all = new TreeSet<>(waiting(properties));
    if (!all.add(rename)) {
      return;
    }
    List<String> entries = new ArrayList<>();
    for (Rename one : all) {
      entries.add(
          one.from().qualifiedName()
              + "|"
              + one.to().qualifiedName()
              + "|"
              + format(one.at())
              + "|"
              + one.order());
    }
    spark.sql(
        "ALTER TABLE delta.`"
            + location
            + "` SET TBLPROPERTIES ('"
            + WAITING_RENAME
            + "' = '"
            + String.join(";", entries)
            + "')");
  }

  /** Whether the mirror has a row written at or before the position (or without a position). */
  private static boolean holdsRowsUpTo(SparkSession spark, String location, BinlogPosition at) {
    Column newer = mirrorRowNewerThan(at);
    return !spark
        .read()
        .format("delta")
        .load(location)
        .filter(newer.isNull().or(newer.unary_$bang()))
        .isEmpty();
  }

  /**
   * The new name's changes after the rename that were quarantined because they came before it: as
   * {@code source_table_dropped} (the cut-over's {@code t -> _t_old} retired the mirror of {@code
   * t} a micro-batch before {@code _t_new -> t} was read) or as {@code source_table_unknown}.
   */
  private Outcome replayAfterRename(SparkSession spark, Rename rename) {
    return replayQuarantined(
        spark,
        rename.to(),
        Set.of(SOURCE_TABLE_DROPPED, SOURCE_TABLE_UNKNOWN),
        ChangeEffects.newerThan(rename.at()),
        // Each try its own key: a try that crashed before the rename's mark carries over again,
        // and its replay must run again on the overwritten mirror.
        new Transaction("lambda-lake-cdc-replay:" + UUID.randomUUID(), 0));
  }

  /**
   * Applies the table's row changes that earlier micro-batches quarantined for one of the reasons
   * and that the filter selects, read from raw.mysql_changes by their Kafka offsets in
   * raw.cdc_quarantine: changes that a rename read later made applicable (a renamed-away name's
   * rows read before the rename was known, {@code source_table_unknown}; the new name's rows that
   * met a mirror retired a micro-batch too early). The quarantine keeps its rows: it records what
   * happened when.
   */
  public Outcome replayQuarantined(
      SparkSession spark,
      SourceName table,
      Set<String> reasons,
      Column filter,
      Transaction transaction) {
    String quarantine = LakeTable.RAW_CDC_QUARANTINE.location(storage);
    String log = LakeTable.RAW_MYSQL_CHANGES.location(storage);
    Outcome nothing = new Outcome(Optional.empty(), Optional.empty());
    if (!DeltaTables.exists(spark, quarantine) || !DeltaTables.exists(spark, log)) {
      return nothing;
    }
    List<String> offsets = List.of("source_topic", "source_partition", "source_offset");
    Dataset<Row> quarantined =
        spark
            .read()
            .format("delta")
            .load(quarantine)
            .filter(
                col("source").equalTo(Quarantine.SOURCE).and(col("reason").isin(reasons.toArray())))
            .select(offsets.stream().map(functions::col).toArray(Column[]::new))
            .distinct();
    Dataset<Row> changes =
        spark
            .read()
            .format("delta")
            .load(log)
            .filter(
                col("source_database")
                    .equalTo(table.database())
                    .and(col("source_table").equalTo(table.table())))
            .join(quarantined, CollectionConverters.asScala(offsets).toSeq(), "left_semi")
            .mapPartitions(ParsedChanges.fromRawLog(), Encoders.row(ParsedChanges.SCHEMA))
            .filter(col("reason").isNull().and(col("op").isNotNull()))
            .filter(ChangeEffects.isRowChange())
            .filter(filter)
            // Read once: what it quarantines again is derived from it after this call.
            .localCheckpoint(true);
    long count = changes.count();
    if (count == 0) {
      return nothing;
    }
    LOG.info(
        "{}: applying {} changes quarantined earlier ({}) that a rename made applicable",
        table.qualifiedName(),
        count,
        String.join(", ", new TreeSet<>(reasons)));
    return apply(spark, table, changes, Optional.empty(), transaction);
  }

  /**
   * Remembers the batch's renames before any change of it is applied: the former names' changes are
   * typed by the new names' schemas (the source has the former names no more).
   */
  public void expect(List<Rename> renames) {
    for (Rename rename : renames) {
      renamedTo.put(rename.from(), rename.to());
    }
  }

  private static SourceName qualified(String name) {
    int dot = name.indexOf('.');
    return new SourceName(name.substring(0, dot), name.substring(dot + 1));
  }

  /** Whether a mirror row's own position is after the given one (null without a position). */
  private static Column mirrorRowNewerThan(BinlogPosition position) {
    return when(
        col(ChangeEffects.BINLOG_FILE).isNotNull(),
        struct(
                ChangeEffects.binlogSequence(col(ChangeEffects.BINLOG_FILE)),
                col(ChangeEffects.BINLOG_POSITION),
                col(ChangeEffects.XOFFSET))
            .gt(
                struct(
                    lit(position.sequence()), lit(position.position()), lit(position.xoffset()))));
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
    String mirrorLocation = mirrorLocation(table);
    Optional<BinlogPosition> truncatedAt = Optional.empty();
    Optional<BinlogPosition> droppedAt = Optional.empty();
    Optional<BinlogPosition> renamedFromAt = Optional.empty();
    Optional<String> renamedAway = Optional.empty();
    if (DeltaTables.exists(spark, mirrorLocation)) {
      Map<String, String> properties = properties(spark, mirrorLocation);
      truncatedAt = positionProperty(properties, TRUNCATED_AT);
      droppedAt = positionProperty(properties, DROPPED_AT);
      renamedFromAt = positionProperty(properties, RENAMED_FROM_AT);
      renamedAway = Optional.ofNullable(properties.get(RENAMED_TO));
    }
    // Nothing at or before the newest truncate is applied: the truncate removed it.
    Optional<BinlogPosition> floor = later(threshold, truncatedAt);
    Dataset<Row> rowChanges = changes.filter(ChangeEffects.isRowChange());
    Dataset<Row> unapplied =
        floor.map(t -> rowChanges.filter(ChangeEffects.newerThan(t))).orElse(rowChanges);
    List<Dataset<Row>> misplaced = new ArrayList<>();
    if (renamedFromAt.isPresent()) {
      // Written under this name before a rename gave the name to this mirror's table: they
      // belonged to the table that had the name then, and their mirror was carried over already.
      misplaced.add(
          quarantineAll(
                  unapplied.filter(ChangeEffects.newerThan(renamedFromAt.get()).unary_$bang()),
                  SOURCE_TABLE_RENAMED,
                  "written to "
                      + table.qualifiedName()
                      + " before another table took the name by a rename at "
                      + format(renamedFromAt.get())
                      + ", and read after the rename was applied, so neither "
                      + mirrorLocation
                      + " nor the mirror of the table renamed away has it. To repair a mirror, stop"
                      + " lake cdc, load its table with lake import-jdbc --target"
                      + " mirror.<database>__<table> and start lake cdc again")
              .quarantined()
              .orElseThrow());
      unapplied = unapplied.filter(ChangeEffects.newerThan(renamedFromAt.get()));
    }
    if (renamedAway.isPresent() && droppedAt.isPresent()) {
      renamedTo.put(table, qualified(renamedAway.get()));
      // Written before the rename, read after it was applied: they belong to the new name's
      // mirror, which was carried over without them.
      misplaced.add(
          quarantineAll(
                  unapplied.filter(ChangeEffects.newerThan(droppedAt.get()).unary_$bang()),
                  SOURCE_TABLE_RENAMED,
                  "written to "
                      + table.qualifiedName()
                      + " before it was renamed to "
                      + renamedAway.get()
                      + " at "
                      + format(droppedAt.get())
                      + ", and read after the rename was applied, so the mirror of "
                      + renamedAway.get()
                      + " does not have it. To repair it, stop lake cdc, load "
                      + renamedAway.get()
                      + " with lake import-jdbc --target mirror."
                      + renamedAway.get().replace(".", "__")
                      + " and start lake cdc again")
              .quarantined()
              .orElseThrow());
      unapplied = unapplied.filter(ChangeEffects.newerThan(droppedAt.get()));
    }
    Optional<Dataset<Row>> afterDrop = Optional.empty();
    Dataset<Row> newer = unapplied;
    if (droppedAt.isPresent()) {
      // Rows before the drop still belong to the retired mirror; rows after it to a new table.
      newer = unapplied.filter(ChangeEffects.newerThan(droppedAt.get()).unary_$bang());
      afterDrop =
          quarantineAll(
                  unapplied.filter(ChangeEffects.newerThan(droppedAt.get())),
                  SOURCE_TABLE_DROPPED,
                  table.qualifiedName()
                      + " was dropped at "
                      + format(droppedAt.get())
                      + " and its mirror "
                      + mirrorLocation
                      + " retired with the rows it had then; a table created again under the name does"
                      + " not continue it. To mirror the new table, move the old mirror's folder away"
                      + " (keep it if its rows matter) and load the new table with lake import-jdbc"
                      + " --target mirror."
                      + table.mirrorTableName()
                      + "; CDC then follows it from the import's position")
              .quarantined();
    }
    Outcome outcome = applyRows(spark, table, newer, columns, transaction);
    if (afterDrop.isEmpty() && misplaced.isEmpty()) {
      return outcome;
    }
    List<Dataset<Row>> quarantined = new ArrayList<>(misplaced);
    outcome.quarantined().ifPresent(quarantined::add);
    afterDrop.ifPresent(quarantined::add);
    return new Outcome(union(quarantined), outcome.newest());
  }

  private Outcome applyRows(
      SparkSession spark,
      SourceName table,
      Dataset<Row> newer,
      Set<String> columns,
      Transaction transaction) {
    Optional<TableSchema> found = schemaOf(table);
    if (found.isEmpty()) {
      return quarantineAll(
          newer,
          SOURCE_TABLE_UNKNOWN,
          table.qualifiedName()
              + " is not in the source's information_schema: dropped, or renamed by a statement"
              + " whose record lake cdc has not read yet (it applies these changes when it reads"
              + " the rename)");
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
      schema = refreshedSchemaOf(table).orElse(schema);
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
    Dataset<Row> checked =
        ChangeEffects.typed(known, schema, mirror).persist(StorageLevel.MEMORY_AND_DISK());
    Row counts = counts(checked);
    if (!counts.isNullAt(0) && counts.getLong(0) > 0) {
      // Values that do not fit: when the source widened their columns (ALTER TABLE ... MODIFY),
      // the mirror's columns are widened too and the changes typed again.
      Optional<TableSchema> refreshed = refreshedSchemaOf(table);
      if (refreshed.isPresent()
          && widen(spark, location, refreshed.get(), mirror, badColumns(checked))) {
        schema = refreshed.get();
        mirror = schemaOf(spark, location);
        checked.unpersist();
        checked =
            ChangeEffects.typed(known, schema, mirror).persist(StorageLevel.MEMORY_AND_DISK());
        counts = counts(checked);
      }
    }
    try {
      long bad = counts.isNullAt(0) ? 0 : counts.getLong(0);
      long good = counts.isNullAt(1) ? 0 : counts.getLong(1);
      if (bad > 0) {
        // Kept apart from the cache, which goes when this table is done.
        quarantined.add(
            Quarantine.rows(
                    checked.filter(col(ChangeEffects.BAD).notEqual("")),
                    lit(INCOMPATIBLE_TYPE),
                    col(ChangeEffects.BAD),
                    concat_ws(
                        "",
                        lit("values that do not fit the mirror's column types: "),
                        col(ChangeEffects.BAD)))
                .localCheckpoint(true));
      }
      if (good > 0) {
        merge(
            spark,
            location,
            ChangeEffects.effects(
                checked.filter(col(ChangeEffects.BAD).equalTo("")), schema, mirror),
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
                  new BinlogPosition(
                      newest.getAs("f"), newest.<Long>getAs("p"), newest.<Long>getAs("x"))));
    } finally {
      checked.unpersist();
    }
  }

  /** One job over typed changes: how many do not fit, how many do, and the newest that does. */
  private static Row counts(Dataset<Row> checked) {
    return checked
        .agg(
            sum(when(col(ChangeEffects.BAD).notEqual(""), 1).otherwise(0)).as("bad"),
            sum(when(col(ChangeEffects.BAD).equalTo(""), 1).otherwise(0)).as("good"),
            call_function(
                    "max",
                    when(
                        col(ChangeEffects.BAD).equalTo(""),
                        ChangeEffects.binlogOrder(
                            col("binlog_file"), col("binlog_position"), col("order_xoffset"))))
                .as("newest"))
        .first();
  }

  private static Set<String> badColumns(Dataset<Row> checked) {
    Set<String> names = new TreeSet<>();
    for (Row row :
        checked
            .filter(col(ChangeEffects.BAD).notEqual(""))
            .select(explode(split(col(ChangeEffects.BAD), ",")))
            .distinct()
            .collectAsList()) {
      names.add(row.getString(0));
    }
    return names;
  }

  /**
   * Widens the mirror's columns among the given ones whose source type is now wider (Delta type
   * widening: INT to BIGINT, FLOAT to DOUBLE, a DECIMAL with more digits, DATE to TIMESTAMP_NTZ). A
   * narrowing or any other change (INT to VARCHAR) leaves the column as it is: values it cannot
   * hold are quarantined. Returns whether a column changed.
   */
  private static boolean widen(
      SparkSession spark,
      String location,
      TableSchema schema,
      StructType mirror,
      Set<String> columns) {
    boolean widened = false;
    for (StructField field : mirror.fields()) {
      if (columns.stream().noneMatch(field.name()::equalsIgnoreCase)) {
        continue;
      }
      Optional<SourceColumn> column = schema.column(field.name());
      if (column.isEmpty()) {
        continue;
      }
      DataType wider = MirrorTypes.mirrorType(column.get());
      if (!MirrorTypes.widens(field.dataType(), wider)) {
        continue;
      }
      if (!widened) {
        spark.sql(
            "ALTER TABLE delta.`"
                + location
                + "` SET TBLPROPERTIES ('delta.enableTypeWidening' = 'true')");
      }
      spark.sql(
          "ALTER TABLE delta.`"
              + location
              + "` ALTER COLUMN `"
              + field.name()
              + "` TYPE "
              + wider.sql());
      LOG.info(
          "Mirror {}: widened column {} from {} to {} ({} {})",
          location,
          field.name(),
          field.dataType().sql(),
          wider.sql(),
          schema.name().qualifiedName(),
          column.get().columnType());
      widened = true;
    }
    return widened;
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
    Outcome tableOutcome = applyTableChanges(spark, table, changes);
    Outcome rowOutcome = apply(spark, table, changes, threshold, columns, transaction);
    return new Outcome(rowOutcome.quarantined(), later(rowOutcome.newest(), tableOutcome.newest()));
  }

  /**
   * Applies the truncates and drops of the whole table among the changes (rows of {@link
   * ParsedChanges#SCHEMA}), whatever their position: a truncate deletes the mirror's rows older
   * than it and is remembered as {@link #TRUNCATED_AT}; a drop retires the mirror ({@link
   * #DROPPED_AT}). Both may arrive after newer row changes (the DDL relay and Maxwell publish
   * independently), and applying either again changes nothing. Run it before {@link #apply}, which
   * then skips the row changes the truncate removed.
   *
   * <p>The outcome's newest position is the newest truncate's, never a drop's: a drop must not move
   * the table's position, or a row written before it whose record lands later (Maxwell behind the
   * relay) would look applied and be skipped; {@link #DROPPED_AT} keeps the drop instead.
   */
  public Outcome applyTableChanges(SparkSession spark, SourceName table, Dataset<Row> changes) {
    Optional<BinlogPosition> newestTruncate = Optional.empty();
    Optional<BinlogPosition> newestDrop = Optional.empty();
    for (Row change :
        changes
            .filter(ChangeEffects.isTableChange())
            .select("op", "binlog_file", "binlog_position", "order_xoffset")
            .collectAsList()) {
      Optional<BinlogPosition> position =
          Optional.of(
              new BinlogPosition(change.getString(1), change.getLong(2), change.getLong(3)));
      if (change.getString(0).equals(ChangeOperation.TRUNCATE.code())) {
        newestTruncate = later(newestTruncate, position);
      } else {
        newestDrop = later(newestDrop, position);
      }
    }
    String location = mirrorLocation(table);
    if (DeltaTables.exists(spark, location)) {
      Map<String, String> properties = properties(spark, location);
      if (newestTruncate.isPresent()) {
        BinlogPosition truncate = newestTruncate.get();
        DeltaTable.forPath(spark, location)
            .delete(
                col(ChangeEffects.BINLOG_FILE)
                    .isNull()
                    .or(
                        struct(
                                ChangeEffects.binlogSequence(col(ChangeEffects.BINLOG_FILE)),
                                col(ChangeEffects.BINLOG_POSITION),
                                col(ChangeEffects.XOFFSET))
                            .lt(
                                struct(
                                    lit(truncate.sequence()),
                                    lit(truncate.position()),
                                    lit(truncate.xoffset())))));
        setIfLater(spark, location, properties, TRUNCATED_AT, truncate);
        LOG.info(
            "Mirror {}: truncated at {} ({})", location, format(truncate), table.qualifiedName());
      }
      if (newestDrop.isPresent()) {
        setIfLater(spark, location, properties, DROPPED_AT, newestDrop.get());
        LOG.info(
            "Mirror {}: retired, {} dropped at {}",
            location,
            table.qualifiedName(),
            format(newestDrop.get()));
      }
    }
    return new Outcome(Optional.empty(), newestTruncate);
  }

  private static void setIfLater(
      SparkSession spark,
      String location,
      Map<String, String> properties,
      String property,
      BinlogPosition position) {
    Optional<BinlogPosition> current = positionProperty(properties, property);
    if (current.isPresent() && current.get().compareTo(position) >= 0) {
      return;
    }
    spark.sql(
        "ALTER TABLE delta.`"
            + location
            + "` SET TBLPROPERTIES ('"
            + property
            + "' = '"
            + format(position)
            + "')");
  }

  /**
   * The table's schema; for a table renamed away, the schema of the name it has now (a change
   * written before the rename, read after it, still has a table to be typed by).
   */
  private Optional<TableSchema> schemaOf(SourceName table) {
    return underCurrentName(table, schemas::get);
  }

  /**
   * {@link #schemaOf} read again from the source, under the name the table has now: a name renamed
   * away is gone from {@code information_schema}, so refreshing it would keep the stale schema the
   * job cached for the name it was renamed to (the old table of a cut-over, without the column the
   * tool added).
   */
  private Optional<TableSchema> refreshedSchemaOf(SourceName table) {
    return underCurrentName(table, schemas::refresh);
  }

  /** Looks the table up, then each name it was renamed to, until one is found. */
  private Optional<TableSchema> underCurrentName(
      SourceName table, Function<SourceName, Optional<TableSchema>> lookup) {
    Optional<TableSchema> found = lookup.apply(table);
    SourceName current = table;
    for (int step = 0; found.isEmpty() && step < 16 && renamedTo.containsKey(current); step++) {
      current = renamedTo.get(current);
      found = lookup.apply(current);
    }
    return found.map(schema -> new TableSchema(table, schema.columns(), schema.primaryKey()));
  }

  private static Map<String, String> properties(SparkSession spark, String location) {
    Map<String, String> properties = new HashMap<>();
    for (Row row : spark.sql("SHOW TBLPROPERTIES delta.`" + location + "`").collectAsList()) {
      properties.put(row.getString(0), row.getString(1));
    }
    return properties;
  }

  /** A DDL statement's position is its own transaction: it sorts after every row before it. */
  private static Optional<BinlogPosition> positionProperty(
      Map<String, String> properties, String property) {
    return Optional.ofNullable(properties.get(property))
        .map(text -> BinlogPosition.parse(text, BinlogPosition.LAST_IN_TRANSACTION));
  }

  private static String format(BinlogPosition position) {
    return position.file() + ":" + position.position();
  }

  private static Optional<BinlogPosition> later(
      Optional<BinlogPosition> one, Optional<BinlogPosition> other) {
    if (one.isEmpty()) {
      return other;
    }
    if (other.isEmpty()) {
      return one;
    }
    return one.get().compareTo(other.get()) >= 0 ? one : other;
  }

  private static StructType schemaOf(SparkSession spark, String location) {
    return spark.read().format("delta").load(location).schema();
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
    columns = ChangeEffects.addMetadataColumns(columns);
    DeltaTable.createIfNotExists(spark)
        .location(location)
        .addColumns(columns)
        .property("delta.enableChangeDataFeed", "true")
        .property("delta.autoOptimize.optimizeWrite", "false")
        .execute();
    LOG.info("Created mirror {} for {}", location, schema.name().qualifiedName());
    return location;
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
      Optional<Column> defaultValue = ChangeEffects.defaultValue(column.get(), type);
      if (defaultValue.isPresent()) {
        DeltaTable.forPath(spark, location)
            .update(Map.of("`" + column.get().name() + "`", defaultValue.get()));
      }
      LOG.info("Mirror {}: added column {} {}", location, column.get().name(), type.sql());
    }
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
    String newer = ChangeEffects.newerCondition();
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
          .whenMatched("s." + ChangeEffects.DELETE + " AND " + newer)
          .delete()
          .whenMatched(
              "NOT s."
                  + ChangeEffects.DELETE
                  + " AND NOT s."
                  + ChangeEffects.READ_ONLY
                  + " AND "
                  + newer)
          .updateExpr(assignments)
          .whenNotMatched("NOT s." + ChangeEffects.DELETE)
          .insertExpr(assignments)
          .execute();
    } finally {
      spark.conf().unset("spark.databricks.delta.write.txnAppId");
      spark.conf().unset("spark.databricks.delta.write.txnVersion");
    }
  }
}
