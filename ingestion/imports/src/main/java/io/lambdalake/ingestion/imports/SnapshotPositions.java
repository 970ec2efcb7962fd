package io.lambdalake.ingestion.imports;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.table.LakeTable;
import io.lambdalake.ingestion.imports.internal.JdbcSource.BinlogPosition;
import io.lambdalake.spark.DeltaTables;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;

/**
 * {@code state.snapshot_positions}: for each import into a mirror, the binlog position read before
 * the import read its first row. The CDC job skips a mirror's changes at or before the newest
 * position of its source table and applies the later ones; full row images converge.
 */
final class SnapshotPositions {
  private static final StructType SCHEMA =
      StructType.fromDDL(LakeTable.STATE_SNAPSHOT_POSITIONS.columns());

  private SnapshotPositions() {}

  static void record(
      SparkSession spark,
      LakeConfig config,
      String sourceTable,
      BinlogPosition position,
      ImportTarget target,
      String snapshotId,
      Instant recordedAt) {
    Row row =
        RowFactory.create(
            sourceTable,
            position.file(),
            position.position(),
            target.qualifiedName(),
            snapshotId,
            Timestamp.from(recordedAt));
    // Creating the table is a commit too: under the lease as well.
    ImportStateLease.commit(
        spark,
        config,
        "recording the snapshot position of " + sourceTable,
        () ->
            spark
                .createDataFrame(List.of(row), SCHEMA)
                .write()
                .format("delta")
                .mode(SaveMode.Append)
                // A retry of the same snapshot's record writes nothing the second time.
                .option("txnAppId", "lambda-lake-snapshot:" + snapshotId)
                .option("txnVersion", 0L)
                .save(DeltaTables.ensure(spark, config, LakeTable.STATE_SNAPSHOT_POSITIONS)));
  }
}
