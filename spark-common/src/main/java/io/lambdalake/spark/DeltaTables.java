package io.lambdalake.spark;

import io.delta.tables.DeltaTable;
import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.table.LakeTable;
import java.util.Map;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;

/** Creates the lake's Delta tables where they are missing, with their columns and properties. */
public final class DeltaTables {
  private DeltaTables() {}

  /** Creates the table at its location unless it exists; returns its location. */
  public static String ensure(SparkSession spark, LakeConfig config, LakeTable table) {
    String location = table.location(config.storage());
    if (DeltaTable.isDeltaTable(spark, location)) {
      return location;
    }
    var builder =
        DeltaTable.createIfNotExists(spark)
            .location(location)
            .addColumns(StructType.fromDDL(table.columns()))
            .property("delta.autoOptimize.optimizeWrite", "false")
            // Trino cannot DELETE/MERGE partitioned tables whose Parquet files repeat the partition
            // values (see shared/NOTES-stack.md); keep them out.
            .property("delta.writePartitionColumnsToParquet", "false");
    for (Map.Entry<String, String> property : properties(table).entrySet()) {
      builder = builder.property(property.getKey(), property.getValue());
    }
    if (!table.partitionColumns().isEmpty()) {
      builder = builder.partitionedBy(table.partitionColumns().toArray(String[]::new));
    }
    builder.execute();
    return location;
  }

  private static Map<String, String> properties(LakeTable table) {
    return switch (table) {
      // The raw zone is the immutable master dataset: Delta refuses updates and deletes.
      case RAW_EVENTS, RAW_QUARANTINE -> Map.of("delta.appendOnly", "true");
      case SPEED_EVENTS_HOURLY,
          SPEED_PAGES_HOURLY,
          BATCH_EVENTS_HOURLY,
          BATCH_PAGES_HOURLY,
          BATCH_COVERAGE ->
          Map.of();
    };
  }
}
