package io.lambdalake.batch;

import static java.util.Objects.requireNonNull;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.expr;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.sum;

import io.delta.tables.DeltaTable;
import io.lambdalake.common.cdc.ChangeEnvelope.SourceName;
import io.lambdalake.common.cdc.SourcePosition.BinlogPosition;
import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.common.table.LakeTable;
import io.lambdalake.spark.CatalogNames;
import io.lambdalake.spark.DeltaTables;
import io.lambdalake.spark.cdc.ChangeEffects;
import io.lambdalake.spark.cdc.ParsedChanges;
import io.lambdalake.spark.cdc.SourceSchemas;
import io.lambdalake.spark.cdc.SourceSchemas.TableSchema;
import java.io.PrintStream;
import java.sql.Date;
import java.sql.Timestamp;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;

/**
 * The daily history of every mirrored MySQL/MariaDB table, from {@code raw.mysql_changes}: {@code
 * batch.mysql_history__<database>__<table>}, one partition per {@code snapshot_date} holding the
 * table's rows as they were at the end of that day (UTC), with the mirror's columns (the source's
 * and the {@code _cdc_*} position of each row's newest change) and the run's {@code logic_version}.
 *
 * <p>A day is the previous day's snapshot plus the day's changes, applied with the mirrors' own
 * rules ({@link ChangeEffects}); when the previous day is not published, or the change log up to it
 * changed since (late changes), or it was computed by another logic version, the day is recomputed
 * from the whole change log up to its end instead. Both give the same rows. A table loaded by a
 * snapshot import ({@code state.snapshot_positions}) starts from that import's rows (the mirror's
 * Delta version the import wrote), and only changes after the import's binlog position apply, as in
 * CDC; days before the table's first import have no snapshot, because the change log alone does not
 * hold the rows the import brought.
 */
final class MysqlHistory {
  static final String ZONE = "batch";
  static final String PREFIX = "mysql_history__";
  static final String SNAPSHOT_DATE = "snapshot_date";
  private static final StructType DAYS_SCHEMA =
      StructType.fromDDL(LakeTable.BATCH_MYSQL_HISTORY_DAYS.columns());

  private final SparkSession spark;
  private final LakeConfig config;
  private final String logicVersion;
  private final PrintStream progress;
  private final List<Dataset<Row>> toUnpersist;

  MysqlHistory(
      SparkSession spark,
      LakeConfig config,
      String logicVersion,
      PrintStream progress,
      List<Dataset<Row>> toUnpersist) {
    this.spark = requireNonNull(spark, "spark is null");
    this.config = requireNonNull(config, "config is null");
    this.logicVersion = requireNonNull(logicVersion, "logicVersion is null");
    this.progress = requireNonNull(progress, "progress is null");
    this.toUnpersist = requireNonNull(toUnpersist, "toUnpersist is null");
  }

  /** The history table of a source table, e.g. {@code mysql_history__shop__customers}. */
  static String tableName(SourceName source) {
    return PREFIX + source.mirrorTableName();
  }

  /** How a day's snapshot was computed. */
  enum Base {
    /** The previous day's snapshot and the day's changes. */
    PREVIOUS_DAY("previous_day"),
    /** Every change of the log up to the end of the day. */
    CHANGE_LOG("change_log"),
    /** A snapshot import's rows and the changes after its position up to the end of the day. */
    SNAPSHOT_IMPORT("snapshot_import");

    private final String code;

    Base(String code) {
      this.code = code;
    }

    String code() {
      return code;
    }
  }

  /** One snapshot import of a source table. */
  record SnapshotImport(BinlogPosition position, String snapshotId, LocalDate day) {
    SnapshotImport {
      requireNonNull(position, "position is null");
      requireNonNull(snapshotId, "snapshotId is null");
      requireNonNull(day, "day is null");
    }
  }

  /** A computed and checked day of one table, ready to publish. */
  record Snapshot(SourceName source, LocalDate day, Dataset<Row> rows, Row published) {
    Snapshot {
      requireNonNull(source, "source is null");
      requireNonNull(day, "day is null");
      requireNonNull(rows, "rows is null");
      requireNonNull(published, "published is null");
    }
  }

  /** What was published of a table and day before: the row of batch.mysql_history_days. */
  private record PublishedDay(
      long logChanges,
      Optional<Timestamp> landedUntil,
      String logicVersion,
      List<String> columns) {}

  /**
   * Computes and checks every mirrored table's snapshots of the days; nothing is written. Returns
   * them by day, in table order.
   */
  Map<LocalDate, List<Snapshot>> compute(List<LocalDate> days) {
    Map<LocalDate, List<Snapshot>> byDay = new LinkedHashMap<>();
    days.forEach(day -> byDay.put(day, new ArrayList<>()));
    String log = LakeTable.RAW_MYSQL_CHANGES.location(config.storage());
    if (!DeltaTables.exists(spark, log)) {
      return byDay;
    }
    Dataset<Row> raw = spark.read().format("delta").load(log);
    List<SourceName> sources =
        raw.select("source_database", "source_table").distinct().collectAsList().stream()
            .map(row -> new SourceName(row.getString(0), row.getString(1)))
            .sorted(Comparator.comparing(SourceName::qualifiedName))
            .toList();
    SourceSchemas schemas = new SourceSchemas(config.mariaDb());
    Map<String, List<SnapshotImport>> imports = snapshotImports();
    Map<String, PublishedDay> published = publishedDays();
    for (SourceName source : sources) {
      String mirror = config.storage().tableLocation("mirror", source.mirrorTableName());
      if (!DeltaTables.exists(spark, mirror)) {
        progress.printf("history %s: no mirror yet, skipped%n", source.qualifiedName());
        continue;
      }
      Optional<TableSchema> schema = schemas.get(source);
      if (schema.isEmpty() || schema.get().primaryKey().isEmpty()) {
        progress.printf(
            "history %s: skipped, %s (lake cdc quarantines its changes for the same reason)%n",
            source.qualifiedName(),
            schema.isEmpty()
                ? "the source's information_schema does not have it"
                : "it has no primary key");
        continue;
      }
      Dataset<Row> changes =
          raw.filter(
              col("source_database")
                  .equalTo(source.database())
                  .and(col("source_table").equalTo(source.table())));
      TableHistory history =
          new TableHistory(
              source,
              schema.get(),
              mirror,
              spark.read().format("delta").load(mirror).schema(),
              changes,
              imports.getOrDefault(source.qualifiedName(), List.of()));
      Optional<Dataset<Row>> previous = Optional.empty();
      for (LocalDate day : days) {
        Optional<Snapshot> snapshot = history.day(day, previous, published);
        snapshot.ifPresent(s -> byDay.get(day).add(s));
        previous = snapshot.map(s -> s.rows().drop(SNAPSHOT_DATE, "logic_version"));
      }
    }
    return byDay;
  }

  /** Writes one snapshot: its day of the history table in one commit. */
  void publish(Snapshot snapshot) {
    String location = location(snapshot.source());
    if (!DeltaTables.exists(spark, location)) {
      DeltaTable.createIfNotExists(spark)
          .location(location)
          .addColumns(snapshot.rows().schema())
          .partitionedBy(SNAPSHOT_DATE)
          .property("delta.autoOptimize.optimizeWrite", "false")
          // Trino cannot DELETE from partitioned tables whose files repeat the partition values.
          .property("delta.writePartitionColumnsToParquet", "false")
          .execute();
    }
    snapshot
        .rows()
        .write()
        .format("delta")
        .mode(SaveMode.Overwrite)
        .option("replaceWhere", SNAPSHOT_DATE + " = '" + snapshot.day() + "'")
        // Columns the source added since earlier days join the table.
        .option("mergeSchema", "true")
        .save(location);
    CatalogNames.registerWritten(spark, config, ZONE, tableName(snapshot.source()), location);
  }

  /** Records the published snapshots of a day in batch.mysql_history_days, in one commit. */
  void recordPublished(List<Snapshot> snapshots) {
    if (snapshots.isEmpty()) {
      return;
    }
    String location = DeltaTables.ensure(spark, config, LakeTable.BATCH_MYSQL_HISTORY_DAYS);
    Dataset<Row> rows =
        spark.createDataFrame(snapshots.stream().map(Snapshot::published).toList(), DAYS_SCHEMA);
    DeltaTable.forPath(spark, location)
        .as("t")
        .merge(
            rows.as("s"), "t.source_table = s.source_table AND t.snapshot_date = s.snapshot_date")
        .whenMatched()
        .updateAll()
        .whenNotMatched()
        .insertAll()
        .execute();
  }

  private String location(SourceName source) {
    return config.storage().tableLocation(ZONE, tableName(source));
  }

  /** state.snapshot_positions by source table, oldest first. */
  private Map<String, List<SnapshotImport>> snapshotImports() {
    String location = LakeTable.STATE_SNAPSHOT_POSITIONS.location(config.storage());
    Map<String, List<SnapshotImport>> imports = new HashMap<>();
    if (!DeltaTables.exists(spark, location)) {
      return imports;
    }
    for (Row row :
        spark.read().format("delta").load(location).orderBy("recorded_at").collectAsList()) {
      imports
          .computeIfAbsent(row.getAs("source_table"), ignored -> new ArrayList<>())
          .add(
              new SnapshotImport(
                  new BinlogPosition(
                      row.getAs("binlog_file"),
                      row.<Long>getAs("binlog_position"),
                      BinlogPosition.LAST_IN_TRANSACTION),
                  row.getAs("snapshot_id"),
                  row.<Timestamp>getAs("recorded_at")
                      .toInstant()
                      .atZone(ZoneOffset.UTC)
                      .toLocalDate()));
    }
    return imports;
  }

  private Map<String, PublishedDay> publishedDays() {
    String location = LakeTable.BATCH_MYSQL_HISTORY_DAYS.location(config.storage());
    Map<String, PublishedDay> days = new HashMap<>();
    if (!DeltaTables.exists(spark, location)) {
      return days;
    }
    for (Row row : spark.read().format("delta").load(location).collectAsList()) {
      days.put(
          key(row.getAs("source_table"), row.<Date>getAs("snapshot_date").toLocalDate()),
          new PublishedDay(
              row.<Long>getAs("log_changes"),
              Optional.ofNullable(row.<Timestamp>getAs("log_landed_until")),
              row.getAs("logic_version"),
              List.of(row.<String>getAs("columns").split(","))));
    }
    return days;
  }

  private static String key(String sourceTable, LocalDate day) {
    return sourceTable + "@" + day;
  }

  /** The history of one source table. */
  private final class TableHistory {
    private final SourceName source;
    private final TableSchema schema;
    private final String mirror;
    private final StructType columns;
    private final Dataset<Row> changes;
    private final List<SnapshotImport> imports;

    TableHistory(
        SourceName source,
        TableSchema schema,
        String mirror,
        StructType columns,
        Dataset<Row> changes,
        List<SnapshotImport> imports) {
      this.source = source;
      this.schema = schema;
      this.mirror = mirror;
      this.columns = columns;
      this.changes = changes;
      this.imports = imports;
    }

    /** The day's snapshot, computed and checked; empty when the day has no history. */
    Optional<Snapshot> day(
        LocalDate day, Optional<Dataset<Row>> previous, Map<String, PublishedDay> published) {
      long started = System.nanoTime();
      Date end = Date.valueOf(day);
      Optional<SnapshotImport> thatDay =
          imports.stream().filter(i -> i.day().equals(day)).reduce((first, second) -> second);
      Optional<SnapshotImport> latest =
          imports.stream().filter(i -> !i.day().isAfter(day)).reduce((first, second) -> second);
      Dataset<Row> base;
      Dataset<Row> applicable;
      Base kind;
      Optional<Dataset<Row>> previousDay =
          previous.isPresent() ? previous : publishedPreviousDay(day, published);
      if (thatDay.isEmpty() && previousDay.isPresent()) {
        kind = Base.PREVIOUS_DAY;
        base = previousDay.get();
        applicable = changes.filter(col("change_date").equalTo(lit(end)));
      } else if (latest.isPresent()) {
        kind = Base.SNAPSHOT_IMPORT;
        base = importedRows(latest.get());
        applicable = changes.filter(col("change_date").leq(lit(end)));
      } else if (!imports.isEmpty()) {
        progress.printf(
            "history %s %s: none, the table's first snapshot import is of %s%n",
            source.qualifiedName(), day, imports.get(0).day());
        return Optional.empty();
      } else {
        kind = Base.CHANGE_LOG;
        base = spark.createDataFrame(List.of(), columns);
        applicable = changes.filter(col("change_date").leq(lit(end)));
      }
      Dataset<Row> parsed =
          applicable
              .mapPartitions(ParsedChanges.fromRawLog(), Encoders.row(ParsedChanges.SCHEMA))
              // A truncate or drop of the whole table is not replayed in the history yet.
              .filter(col("reason").isNull().and(ChangeEffects.isRowChange()));
      if (latest.isPresent() && kind != Base.PREVIOUS_DAY) {
        parsed = parsed.filter(ChangeEffects.newerThan(latest.get().position()));
      }
      Dataset<Row> typed =
          ChangeEffects.typed(parsed, schema, columns)
              .withColumn("_unknown", unknownColumns())
              .persist(StorageLevel.MEMORY_AND_DISK());
      toUnpersist.add(typed);
      Dataset<Row> good = typed.filter(col(ChangeEffects.BAD).equalTo("").and(col("_unknown")));
      Dataset<Row> rows =
          ChangeEffects.applied(
                  base, ChangeEffects.effects(good, schema, columns), schema.primaryKey(), columns)
              .withColumn(SNAPSHOT_DATE, lit(end))
              .withColumn("logic_version", lit(logicVersion))
              .persist(StorageLevel.MEMORY_AND_DISK());
      toUnpersist.add(rows);
      Row counts =
          typed
              .agg(
                  count(lit(1)),
                  sum(col(ChangeEffects.BAD).equalTo("").and(col("_unknown")).cast("long")))
              .first();
      long considered = counts.getLong(0);
      long applied = counts.isNullAt(1) ? 0 : counts.getLong(1);
      long rowCount = check(day, rows);
      Row log =
          changes
              .filter(col("change_date").leq(lit(end)))
              .agg(count(lit(1)), max("landed_at"))
              .first();
      Row record =
          RowFactory.create(
              source.qualifiedName(),
              ZONE + "." + tableName(source),
              end,
              rowCount,
              log.getLong(0),
              log.isNullAt(1) ? null : log.getTimestamp(1),
              applied,
              considered - applied,
              kind.code(),
              String.join(",", columns.fieldNames()),
              logicVersion,
              log.isNullAt(1)
                  ? Timestamp.from(day.atStartOfDay(ZoneOffset.UTC).toInstant())
                  : log.getTimestamp(1));
      progress.printf(
          "history %s %s: %,d rows from %s and %,d changes (%,d not applicable, quarantined by lake"
              + " cdc) computed and checked in %.1f s%n",
          source.qualifiedName(),
          day,
          rowCount,
          kind.code(),
          applied,
          considered - applied,
          (System.nanoTime() - started) / 1e9);
      progress.flush();
      return Optional.of(new Snapshot(source, day, rows, record));
    }

    /**
     * The previous day's published snapshot, when it is from this logic version and the change log
     * up to it is what it was computed from.
     */
    private Optional<Dataset<Row>> publishedPreviousDay(
        LocalDate day, Map<String, PublishedDay> published) {
      LocalDate before = day.minusDays(1);
      PublishedDay known = published.get(key(source.qualifiedName(), before));
      if (known == null || !known.logicVersion().equals(logicVersion)) {
        return Optional.empty();
      }
      Row log =
          changes
              .filter(col("change_date").leq(lit(Date.valueOf(before))))
              .agg(count(lit(1)), max("landed_at"))
              .first();
      Optional<Timestamp> landedUntil =
          log.isNullAt(1) ? Optional.empty() : Optional.of(log.getTimestamp(1));
      if (log.getLong(0) != known.logChanges() || !landedUntil.equals(known.landedUntil())) {
        return Optional.empty();
      }
      Dataset<Row> rows =
          spark
              .read()
              .format("delta")
              .load(location(source))
              .filter(col(SNAPSHOT_DATE).equalTo(lit(Date.valueOf(before))));
      return Optional.of(conform(rows, known.columns()));
    }

    /** The rows a snapshot import wrote: the mirror's version of that import's commit. */
    private Dataset<Row> importedRows(SnapshotImport snapshotImport) {
      List<Row> versions =
          DeltaTable.forPath(spark, mirror)
              .history()
              .filter(col("userMetadata").contains(snapshotImport.snapshotId()))
              .select("version")
              .collectAsList();
      if (versions.isEmpty()) {
        throw new LakeException(
            ErrorCode.INVALID_ARGUMENT,
            "The history of "
                + source.qualifiedName()
                + " starts from its snapshot import "
                + snapshotImport.snapshotId()
                + ", which the mirror "
                + mirror
                + " no longer holds in its Delta history: recompute only days whose previous day"
                + " is published, or run the import again");
      }
      Dataset<Row> rows =
          spark
              .read()
              .format("delta")
              .option("versionAsOf", versions.get(0).getLong(0))
              .load(mirror);
      return conform(rows, List.of(rows.schema().fieldNames()));
    }

    /**
     * The rows with the mirror's columns now: a column they had is cast to its type, a column added
     * since has the source's literal default (as the source shows old rows), or NULL.
     */
    private Dataset<Row> conform(Dataset<Row> rows, List<String> hadColumns) {
      Set<String> had = new TreeSet<>(String.CASE_INSENSITIVE_ORDER);
      had.addAll(hadColumns);
      List<Column> select = new ArrayList<>();
      for (StructField field : columns.fields()) {
        Column value;
        if (had.contains(field.name())) {
          value = col("`" + field.name() + "`").cast(field.dataType());
        } else {
          value =
              schema
                  .column(field.name())
                  .flatMap(column -> ChangeEffects.defaultValue(column, field.dataType()))
                  .orElse(lit(null))
                  .cast(field.dataType());
        }
        select.add(value.as(field.name()));
      }
      return rows.select(select.toArray(Column[]::new));
    }

    /** True when every column of the change's after image is one of the table's. */
    private Column unknownColumns() {
      String known =
          Arrays.stream(columns.fieldNames())
              .map(name -> "'" + name.toLowerCase(Locale.ROOT).replace("'", "''") + "'")
              .collect(Collectors.joining(", "));
      return expr(
          "after_columns IS NULL OR size(array_except(transform(after_columns, k -> lower(k)),"
              + " array("
              + known
              + "))) = 0");
    }

    /**
     * The snapshot has no row without its key, no key twice, and no row changed after the day: a
     * failed check fails the run before anything is published.
     */
    private long check(LocalDate day, Dataset<Row> rows) {
      Column nullKey = lit(false);
      for (String key : schema.primaryKey()) {
        nullKey = nullKey.or(col("`" + key + "`").isNull());
      }
      Timestamp dayEnd = Timestamp.from(day.plusDays(1).atStartOfDay(ZoneOffset.UTC).toInstant());
      Row result =
          rows.agg(
                  count(lit(1)),
                  sum(nullKey.cast("long")),
                  sum(
                      col(ChangeEffects.CHANGED_AT)
                          .geq(lit(dayEnd))
                          .and(col(ChangeEffects.SOURCE).equalTo("maxwell"))
                          .cast("long")))
              .first();
      long total = result.getLong(0);
      if (!result.isNullAt(1) && result.getLong(1) > 0) {
        throw failure(day, "has " + result.getLong(1) + " row(s) with a null primary key");
      }
      if (!result.isNullAt(2) && result.getLong(2) > 0) {
        throw failure(day, "has " + result.getLong(2) + " row(s) changed after the end of the day");
      }
      long keys =
          rows.select(
                  schema.primaryKey().stream().map(k -> col("`" + k + "`")).toArray(Column[]::new))
              .distinct()
              .count();
      if (keys != total) {
        throw failure(
            day, "has " + (total - keys) + " primary key(s) twice among " + total + " rows");
      }
      return total;
    }

    private LakeException failure(LocalDate day, String problem) {
      return new LakeException(
          ErrorCode.QUALITY_CHECK_FAILED,
          "Quality check failed, nothing published: "
              + ZONE
              + "."
              + tableName(source)
              + " for "
              + day
              + " "
              + problem);
    }
  }
}
