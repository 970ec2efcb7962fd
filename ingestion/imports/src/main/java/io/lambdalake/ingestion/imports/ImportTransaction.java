package io.lambdalake.ingestion.imports;

import static java.util.Objects.requireNonNull;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.common.table.LakeTable;
import io.lambdalake.ingestion.imports.internal.ImportQuarantine;
import io.lambdalake.ingestion.imports.internal.InputFiles;
import io.lambdalake.spark.DeltaTables;
import java.util.List;
import java.util.Optional;
import org.apache.hadoop.fs.FileStatus;
import org.apache.spark.sql.DataFrameWriter;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;

/**
 * The key every write of one import run carries, and those writes: rows appended to the target and
 * the records that could not be read appended to {@code raw.import_quarantine}, each as a Delta
 * transaction (application id, version). Delta skips a transaction it has already committed, so
 * running the same import again over the same input writes nothing twice.
 */
public record ImportTransaction(String applicationId, long version) {
  public ImportTransaction {
    requireNonNull(applicationId, "applicationId is null");
    if (applicationId.isBlank()) {
      throw new LakeException(ErrorCode.INTERNAL_ERROR, "an import's applicationId is blank");
    }
    if (version < 0) {
      throw new LakeException(
          ErrorCode.INTERNAL_ERROR, "an import's version must be 0 or more, but is " + version);
    }
  }

  /**
   * The key of a load of files: the job, the target, what else tells two loads apart (e.g. the
   * collection), and the set of files (their paths, sizes and modification times).
   */
  public static ImportTransaction ofFiles(
      String job, ImportTarget target, Optional<String> qualifier, List<FileStatus> files) {
    requireNonNull(job, "job is null");
    requireNonNull(target, "target is null");
    requireNonNull(qualifier, "qualifier is null");
    return new ImportTransaction(
        "lambda-lake-"
            + job
            + ":"
            + target.qualifiedName()
            + qualifier.map(value -> ":" + value).orElse("")
            + ":"
            + InputFiles.fingerprint(files),
        0);
  }

  /** Appends the rows to the Delta table at the location, adding columns the table lacks. */
  public void append(Dataset<Row> rows, String location) {
    append(rows, location, Optional.empty());
  }

  /** The same, with a note in the commit (Delta's {@code userMetadata}) that says what it holds. */
  public void append(Dataset<Row> rows, String location, Optional<String> commitMetadata) {
    DataFrameWriter<Row> writer =
        rows.write()
            .format("delta")
            .mode(SaveMode.Append)
            .option("mergeSchema", "true")
            .option("txnAppId", applicationId)
            .option("txnVersion", version);
    commitMetadata.ifPresent(metadata -> writer.option("userMetadata", metadata));
    writer.save(requireNonNull(location, "location is null"));
  }

  /**
   * Appends rejected records (columns file, line, text, reason, field, message) to {@code
   * raw.import_quarantine} under the given source name; returns how many there were.
   */
  public long quarantine(
      SparkSession spark, LakeConfig config, Dataset<Row> rejected, String source) {
    long count = rejected.count();
    if (count > 0) {
      // Creating the table is a commit too: under the lease as well.
      ImportStateLease.commit(
          spark,
          config,
          "quarantining " + count + " record(s) of " + source,
          () ->
              ImportQuarantine.rows(rejected, source)
                  .write()
                  .format("delta")
                  .mode(SaveMode.Append)
                  .option("txnAppId", applicationId)
                  .option("txnVersion", version)
                  .save(DeltaTables.ensure(spark, config, LakeTable.RAW_IMPORT_QUARANTINE)));
    }
    return count;
  }
}
