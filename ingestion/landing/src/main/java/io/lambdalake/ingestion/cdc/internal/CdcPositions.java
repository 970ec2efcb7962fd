package io.lambdalake.ingestion.cdc.internal;

import static org.apache.spark.sql.functions.col;

import io.delta.tables.DeltaTable;
import io.lambdalake.common.cdc.SourcePosition.BinlogPosition;
import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.common.table.LakeTable;
import io.lambdalake.spark.DeltaTables;
import io.lambdalake.spark.cdc.ChangeEffects;
import java.io.IOException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;

/**
 * Per source table, the position at or before which changes are not applied again: the newest
 * change already applied (state.cdc_positions), or the position a snapshot import read before it
 * began (state.snapshot_positions, newest import wins), whichever is later.
 */
public final class CdcPositions {
  private CdcPositions() {}

  /** The skip thresholds of every table that has one, keyed by {@code <database>.<table>}. */
  public static Map<String, BinlogPosition> thresholds(SparkSession spark, LakeConfig config) {
    Map<String, BinlogPosition> thresholds = new HashMap<>();
    String applied = LakeTable.STATE_CDC_POSITIONS.location(config.storage());
    if (DeltaTables.exists(spark, applied)) {
      for (Row row :
          spark
              .read()
              .format("delta")
              .load(applied)
              .filter(col("binlog_file").isNotNull())
              .collectAsList()) {
        thresholds.merge(
            row.getAs("source_table"),
            new BinlogPosition(
                row.getAs("binlog_file"), row.<Long>getAs("binlog_position"), row.getAs("xoffset")),
            CdcPositions::later);
      }
    }
    snapshots(spark, config)
        .forEach((table, position) -> thresholds.merge(table, position, CdcPositions::later));
    return thresholds;
  }

  /** The newest snapshot import's position per source table: everything at it is covered. */
  public static Map<String, BinlogPosition> snapshots(SparkSession spark, LakeConfig config) {
    Map<String, BinlogPosition> positions = new HashMap<>();
    String location = LakeTable.STATE_SNAPSHOT_POSITIONS.location(config.storage());
    if (!DeltaTables.exists(spark, location)) {
      return positions;
    }
    Map<String, Timestamp> newest = new HashMap<>();
    for (Row row : spark.read().format("delta").load(location).collectAsList()) {
      String table = row.getAs("source_table");
      Timestamp recorded = row.getAs("recorded_at");
      if (newest.containsKey(table) && !recorded.after(newest.get(table))) {
        continue;
      }
      newest.put(table, recorded);
      positions.put(
          table,
          new BinlogPosition(
              row.getAs("binlog_file"),
              row.<Long>getAs("binlog_position"),
              BinlogPosition.LAST_IN_TRANSACTION));
    }
    return positions;
  }

  private static Row row(String table, BinlogPosition binlog, Timestamp now) {
    // The cluster-time columns stay empty: MongoDB positions live in state.mongo_positions.
    return RowFactory.create(
        table, binlog.file(), binlog.position(), binlog.xoffset(), null, null, null, now);
  }

  private static BinlogPosition later(BinlogPosition one, BinlogPosition other) {
    if (!one.sameLog(other)) {
      // A snapshot of another binlog (a resync after the source changed, see BinlogContinuity)
      // replaces the old binlog's position: merges put the snapshot last.
      return other;
    }
    return one.compareTo(other) >= 0 ? one : other;
  }

  /** Records the newest applied change per table, never moving a table's position back. */
  public static void advance(
      SparkSession spark,
      LakeConfig config,
      Map<String, BinlogPosition> newest,
      MirrorApplier.Transaction transaction) {
    if (newest.isEmpty()) {
      return;
    }
    String location = DeltaTables.ensure(spark, config, LakeTable.STATE_CDC_POSITIONS);
    StructType schema = spark.read().format("delta").load(location).schema();
    List<Row> rows = new ArrayList<>();
    Timestamp now = Timestamp.from(Instant.now());
    newest.forEach((table, position) -> rows.add(row(table, position, now)));
    Dataset<Row> updates = spark.createDataFrame(rows, schema);
    spark.conf().set("spark.databricks.delta.write.txnAppId", transaction.applicationId());
    spark
        .conf()
        .set("spark.databricks.delta.write.txnVersion", Long.toString(transaction.version()));
    // The source is a handful of rows in the driver: nothing to materialize against change.
    spark.conf().set(MirrorApplier.MATERIALIZE_SOURCE, "none");
    try {
      DeltaTable.forPath(spark, location)
          .as("t")
          .merge(updates.as("s"), "t.source_table = s.source_table")
          .whenMatched(
              "t.binlog_file IS NULL"
                  + " OR regexp_extract(s.binlog_file, '^(.*)\\\\.[0-9]+$', 1)"
                  + " <> regexp_extract(t.binlog_file, '^(.*)\\\\.[0-9]+$', 1)"
                  + " OR struct("
                  + ChangeEffects.binlogSequenceSql("s.binlog_file")
                  + ", s.binlog_position, s.xoffset) > struct("
                  + ChangeEffects.binlogSequenceSql("t.binlog_file")
                  + ", t.binlog_position, t.xoffset)")
          .updateAll()
          .whenNotMatched()
          .insertAll()
          .execute();
    } finally {
      spark.conf().unset("spark.databricks.delta.write.txnAppId");
      spark.conf().unset("spark.databricks.delta.write.txnVersion");
      spark.conf().unset(MirrorApplier.MATERIALIZE_SOURCE);
    }
  }

  static Optional<BinlogPosition> of(Map<String, BinlogPosition> thresholds, String table) {
    return Optional.ofNullable(thresholds.get(table));
  }

  /**
   * The newest version in a Delta table's log, from one listing of {@code _delta_log} (no Spark
   * job), or -1 when the table has no commit yet.
   */
  public static long logVersion(SparkSession spark, String location) {
    Path log = new Path(location, "_delta_log");
    try {
      FileSystem fileSystem = log.getFileSystem(spark.sessionState().newHadoopConf());
      if (!fileSystem.exists(log)) {
        return -1;
      }
      long newest = -1;
      for (FileStatus file : fileSystem.listStatus(log)) {
        Matcher commit = COMMIT_FILE.matcher(file.getPath().getName());
        if (commit.matches()) {
          newest = Math.max(newest, Long.parseLong(commit.group(1)));
        }
      }
      return newest;
    } catch (IOException e) {
      throw new LakeException(
          ErrorCode.SERVER_NOT_AVAILABLE,
          "Cannot list the Delta log at " + log + ": " + e.getMessage(),
          e);
    }
  }

  private static final Pattern COMMIT_FILE = Pattern.compile("([0-9]{20})\\.json");

  /**
   * One CDC writer's skip thresholds, kept in the driver: the applied positions are read from
   * state.cdc_positions once (this writer is the only one that moves its tables' positions) and
   * then follow {@link #advance}; the snapshot positions, which an import records at any time, are
   * read again only when state.snapshot_positions has a new commit (one listing per batch).
   */
  public static final class Thresholds {
    private final LakeConfig config;
    private Map<String, BinlogPosition> applied;
    private Map<String, BinlogPosition> snapshots = Map.of();
    private long snapshotsVersion = -1;

    public Thresholds(LakeConfig config) {
      this.config = Objects.requireNonNull(config, "config is null");
    }

    /** The thresholds now, keyed by {@code <database>.<table>}. */
    public synchronized Map<String, BinlogPosition> current(SparkSession spark) {
      if (applied == null) {
        applied = new HashMap<>();
        String location = LakeTable.STATE_CDC_POSITIONS.location(config.storage());
        if (DeltaTables.exists(spark, location)) {
          for (Row row :
              spark
                  .read()
                  .format("delta")
                  .load(location)
                  .filter(col("binlog_file").isNotNull())
                  .collectAsList()) {
            applied.merge(
                row.getAs("source_table"),
                new BinlogPosition(
                    row.getAs("binlog_file"),
                    row.<Long>getAs("binlog_position"),
                    row.getAs("xoffset")),
                CdcPositions::later);
          }
        }
      }
      long version =
          logVersion(spark, LakeTable.STATE_SNAPSHOT_POSITIONS.location(config.storage()));
      if (version != snapshotsVersion) {
        snapshots = Map.copyOf(snapshots(spark, config));
        snapshotsVersion = version;
      }
      Map<String, BinlogPosition> thresholds = new HashMap<>(applied);
      snapshots.forEach(
          (table, position) -> thresholds.merge(table, position, CdcPositions::later));
      return thresholds;
    }

    /** Records the newest applied changes (see {@link CdcPositions#advance}) and remembers them. */
    public synchronized void advance(
        SparkSession spark,
        Map<String, BinlogPosition> newest,
        MirrorApplier.Transaction transaction) {
      CdcPositions.advance(spark, config, newest, transaction);
      if (applied != null) {
        newest.forEach((table, position) -> applied.merge(table, position, CdcPositions::later));
      }
    }
  }
}
