package io.lambdalake.ingestion.imports;

import static java.util.Objects.requireNonNull;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.get_json_object;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.delta.tables.DeltaTable;
import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.common.table.LakeTable;
import io.lambdalake.spark.DeltaTables;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;

/**
 * The state of historical imports in {@code state.import_progress}: one row per finished run, the
 * newest per import key is where the next run starts.
 *
 * <p>A run commits twice, the target first and the state after it. The target commit carries the
 * run in its commit metadata (Delta's {@code userMetadata}), and both commits are idempotent Delta
 * transactions keyed by the same application id and run version. A run that died between the two
 * commits is therefore found by the next run in the target's history and completed from there,
 * instead of being imported a second time.
 */
final class ImportProgress {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final StructType SCHEMA =
      StructType.fromDDL(LakeTable.STATE_IMPORT_PROGRESS.columns());

  private ImportProgress() {}

  /** A run: its version (1, 2, ...) and what it reached. */
  record Run(
      String importKey,
      String targetTable,
      String source,
      String mode,
      Optional<String> checkColumn,
      long version,
      Optional<String> lastValue,
      long rows,
      String snapshotId) {
    Run {
      requireNonNull(importKey, "importKey is null");
      requireNonNull(targetTable, "targetTable is null");
      requireNonNull(source, "source is null");
      requireNonNull(mode, "mode is null");
      requireNonNull(checkColumn, "checkColumn is null");
      requireNonNull(lastValue, "lastValue is null");
      requireNonNull(snapshotId, "snapshotId is null");
      if (version < 1) {
        throw new IllegalArgumentException("version must be at least 1: " + version);
      }
    }

    /** The Delta transaction application id both commits of the run use. */
    String applicationId() {
      return "lambda-lake-import:" + importKey;
    }

    /** The run as commit metadata of the target commit. */
    String commitMetadata() {
      Map<String, Object> fields = new LinkedHashMap<>();
      fields.put("import_key", importKey);
      fields.put("run_version", version);
      fields.put("mode", mode);
      fields.put("check_column", checkColumn.orElse(null));
      fields.put("last_value", lastValue.orElse(null));
      fields.put("rows", rows);
      fields.put("snapshot_id", snapshotId);
      try {
        return JSON.writeValueAsString(fields);
      } catch (JsonProcessingException e) {
        throw new LakeException(ErrorCode.INTERNAL_ERROR, "Cannot write commit metadata", e);
      }
    }
  }

  /** The newest run recorded for the key. */
  static Optional<Run> latest(SparkSession spark, LakeConfig config, String importKey) {
    String location = LakeTable.STATE_IMPORT_PROGRESS.location(config.storage());
    if (!DeltaTables.exists(spark, location)) {
      return Optional.empty();
    }
    List<Row> rows =
        spark
            .read()
            .format("delta")
            .load(location)
            .filter(col("import_key").equalTo(importKey))
            .orderBy(col("run_version").desc())
            .limit(1)
            .collectAsList();
    if (rows.isEmpty()) {
      return Optional.empty();
    }
    Row row = rows.get(0);
    return Optional.of(
        new Run(
            row.getAs("import_key"),
            row.getAs("target_table"),
            row.getAs("source"),
            row.getAs("mode"),
            Optional.ofNullable(row.getAs("check_column")),
            row.<Long>getAs("run_version"),
            Optional.ofNullable(row.getAs("last_value")),
            row.<Long>getAs("rows"),
            row.getAs("snapshot_id")));
  }

  /**
   * A run of the key with the given version that committed to the target, read back from the
   * target's history: what a run that died before its state commit had written.
   */
  static Optional<Run> committedToTarget(
      SparkSession spark,
      String targetLocation,
      String importKey,
      String targetTable,
      String source,
      long version) {
    if (!DeltaTables.exists(spark, targetLocation)) {
      return Optional.empty();
    }
    List<Row> commits =
        DeltaTable.forPath(spark, targetLocation)
            .history()
            .filter(col("userMetadata").isNotNull())
            .filter(get_json_object(col("userMetadata"), "$.import_key").equalTo(importKey))
            .filter(
                get_json_object(col("userMetadata"), "$.run_version")
                    .equalTo(Long.toString(version)))
            .select("userMetadata")
            .collectAsList();
    if (commits.isEmpty()) {
      return Optional.empty();
    }
    try {
      var metadata = JSON.readTree(commits.get(0).getString(0));
      return Optional.of(
          new Run(
              importKey,
              targetTable,
              source,
              metadata.path("mode").asText(),
              Optional.ofNullable(metadata.path("check_column").textValue()),
              version,
              Optional.ofNullable(metadata.path("last_value").textValue()),
              metadata.path("rows").asLong(),
              metadata.path("snapshot_id").asText()));
    } catch (JsonProcessingException e) {
      throw new LakeException(
          ErrorCode.INTERNAL_ERROR,
          "Cannot read the commit metadata of import run " + version + " in " + targetLocation,
          e);
    }
  }

  /** Appends the run's state row; a second call for the same run writes nothing. */
  static void record(SparkSession spark, LakeConfig config, Run run) {
    Row row =
        RowFactory.create(
            run.importKey(),
            run.targetTable(),
            run.source(),
            run.mode(),
            run.checkColumn().orElse(null),
            run.version(),
            run.lastValue().orElse(null),
            run.rows(),
            run.snapshotId(),
            Timestamp.from(Instant.now()));
    // Creating the table is a commit too: under the lease as well.
    ImportStateLease.commit(
        spark,
        config,
        "recording import run " + run.version() + " of " + run.importKey(),
        () ->
            spark
                .createDataFrame(List.of(row), SCHEMA)
                .write()
                .format("delta")
                .mode(SaveMode.Append)
                .option("txnAppId", run.applicationId())
                .option("txnVersion", run.version())
                .save(DeltaTables.ensure(spark, config, LakeTable.STATE_IMPORT_PROGRESS)));
  }
}
