package io.lambdalake.spark;

import io.delta.tables.DeltaTable;
import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.common.table.LakeTable;
import java.io.IOException;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.delta.DeltaLog;
import org.apache.spark.sql.delta.Snapshot;
import org.apache.spark.sql.types.StructType;
import scala.jdk.javaapi.CollectionConverters;

/** Creates the lake's Delta tables where they are missing, with their columns and properties. */
public final class DeltaTables {
  private static final Set<String> KNOWN_TO_EXIST = ConcurrentHashMap.newKeySet();

  private DeltaTables() {}

  /** A commit or a checkpoint of some version: what makes a {@code _delta_log} a table's log. */
  private static final Pattern VERSION_FILE = Pattern.compile("\\d{20}\\.(json|checkpoint\\..+)");

  /**
   * Whether a Delta table exists at the location, asked of the file system each time: Delta's own
   * isDeltaTable can keep answering from a log it cached before another application created it. The
   * log must hold a commit or a checkpoint: Delta 4.4 also makes {@code
   * _delta_log/_staged_commits}, and a log with no commit is a table still being created, or whose
   * creation was killed, and reading it fails with DELTA_TABLE_NOT_FOUND (seen in CI: the speed
   * test polled while a job it had started created {@code raw.events}).
   */
  public static boolean exists(SparkSession spark, String location) {
    try {
      Path log = new Path(location, "_delta_log");
      FileSystem fileSystem = log.getFileSystem(spark.sessionState().newHadoopConf());
      return fileSystem.exists(log)
          && fileSystem.listStatus(log, path -> VERSION_FILE.matcher(path.getName()).matches())
                  .length
              > 0;
    } catch (IOException e) {
      throw new LakeException(
          ErrorCode.SERVER_NOT_AVAILABLE,
          "Cannot look for a Delta table at " + location + ": " + e.getMessage(),
          e);
    }
  }

  /**
   * A table's newest version and the Delta transactions it records (application id to the newest
   * {@code txnVersion} it committed), read from the log now.
   */
  public record Transactions(long version, Map<String, Long> versions) {
    public Transactions {
      versions = Map.copyOf(versions);
    }
  }

  /** The table's {@link Transactions}, as its log says now. */
  public static Transactions transactions(SparkSession spark, String location) {
    Snapshot snapshot = DeltaLog.forTableWithSnapshot(spark, location)._2();
    Map<String, Long> versions = new TreeMap<>();
    CollectionConverters.asJava(snapshot.transactions())
        .forEach((appId, version) -> versions.put(appId, ((Number) version).longValue()));
    return new Transactions(snapshot.version(), versions);
  }

  /**
   * Creates the table at its location unless it exists, and gives it its name in the shared catalog
   * ({@link CatalogNames}); returns its location.
   */
  public static String ensure(SparkSession spark, LakeConfig config, LakeTable table) {
    String location = table.location(config.storage());
    // A table once seen stays: micro-batches ask every few seconds, S3 need not answer each time.
    if (KNOWN_TO_EXIST.contains(location)) {
      return location;
    }
    if (exists(spark, location)) {
      CatalogNames.register(spark, config, table);
      KNOWN_TO_EXIST.add(location);
      return location;
    }
    var builder =
        DeltaTable.createIfNotExists(spark)
            .location(location)
            .addColumns(StructType.fromDDL(table.columns()))
            .property("delta.autoOptimize.optimizeWrite", "false")
            // Trino cannot DELETE/MERGE partitioned tables whose Parquet files repeat the partition
            // values (Trino 476); keep them out.
            .property("delta.writePartitionColumnsToParquet", "false");
    for (Map.Entry<String, String> property : properties(table).entrySet()) {
      builder = builder.property(property.getKey(), property.getValue());
    }
    if (!table.partitionColumns().isEmpty()) {
      builder = builder.partitionedBy(table.partitionColumns().toArray(String[]::new));
    }
    builder.execute();
    CatalogNames.register(spark, config, table);
    KNOWN_TO_EXIST.add(location);
    return location;
  }

  private static Map<String, String> properties(LakeTable table) {
    return switch (table) {
      // The raw zone is the immutable master dataset: Delta refuses updates and deletes.
      case RAW_EVENTS ->
          Map.of(
              "delta.appendOnly",
              "true",
              // File statistics only where queries filter: long strings (user agents, URLs) would
              // cost time on every write and help no query.
              "delta.dataSkippingStatsColumns",
              "tracking_id,event_name,event_time,received_at,event_id");
      case RAW_QUARANTINE, RAW_CDC_QUARANTINE, RAW_IMPORT_QUARANTINE ->
          Map.of("delta.appendOnly", "true");
      case RAW_MYSQL_CHANGES, RAW_MONGO_CHANGES, RAW_MONGO_SNAPSHOTS ->
          Map.of("delta.appendOnly", "true");
      case SPEED_EVENTS_HOURLY,
          SPEED_PAGES_HOURLY,
          BATCH_EVENTS_HOURLY,
          BATCH_PAGES_HOURLY,
          BATCH_EVENTS_DAILY,
          BATCH_PAGES_DAILY,
          BATCH_TRAFFIC_DAILY,
          BATCH_COVERAGE,
          BATCH_COMPUTED_DAYS,
          BATCH_MYSQL_HISTORY_DAYS,
          STATE_SNAPSHOT_POSITIONS,
          STATE_CDC_POSITIONS,
          STATE_MONGO_POSITIONS,
          STATE_MONGO_TOMBSTONES,
          STATE_IMPORT_PROGRESS,
          CONSUMERS_SPAM_FLAGS,
          CONSUMERS_RECOMMENDATIONS,
          STATE_SPAM_PUBLICATIONS,
          STATE_MATCH_RUNS ->
          Map.of();
    };
  }
}
