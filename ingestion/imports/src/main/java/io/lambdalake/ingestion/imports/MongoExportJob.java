package io.lambdalake.ingestion.imports;

import static java.util.Objects.requireNonNull;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.current_timestamp;
import static org.apache.spark.sql.functions.lit;

import io.delta.tables.DeltaTable;
import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.common.launch.Launcher;
import io.lambdalake.common.table.LakeTable;
import io.lambdalake.ingestion.imports.internal.InputFiles;
import io.lambdalake.ingestion.imports.internal.MongoDocuments;
import io.lambdalake.spark.CatalogNames;
import io.lambdalake.spark.DeltaTables;
import io.lambdalake.spark.LakeSpark;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import org.apache.hadoop.fs.FileStatus;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;

/**
 * {@code lake import-mongoexport}: mongoexport files (JSON lines or {@code --jsonArray}, relaxed or
 * canonical Extended JSON), local or on S3, into {@code raw.mongo_snapshots} (appended) or a mirror
 * {@code mirror.<db>__<collection>} (replaced). Lines that are not documents, and documents whose
 * promoted fields do not fit their types, go to {@code raw.import_quarantine} with file and line.
 */
public final class MongoExportJob {
  static final String QUARANTINE_SOURCE = "import-mongoexport";
  private static final Pattern COLLECTION = Pattern.compile("[^.\\s]+\\.[^\\s]+");

  private MongoExportJob() {}

  /**
   * What to load.
   *
   * @param collection the exported collection as {@code database.collection}
   * @param promoted top-level fields that also become typed columns
   */
  public record Options(
      List<String> paths,
      String collection,
      ImportTarget target,
      List<MongoDocuments.Promoted> promoted) {
    public Options {
      paths = List.copyOf(paths);
      requireNonNull(collection, "collection is null");
      requireNonNull(target, "target is null");
      promoted = List.copyOf(promoted);
      if (paths.isEmpty()) {
        throw invalid("name the mongoexport files or folders to load");
      }
      if (!COLLECTION.matcher(collection).matches()) {
        throw invalid("--collection must be database.collection, e.g. shop.orders: " + collection);
      }
      Set<String> columns = new HashSet<>();
      for (MongoDocuments.Promoted field : promoted) {
        if (!columns.add(field.column().toLowerCase(Locale.ROOT))) {
          throw invalid("--promote names the column " + field.column() + " twice");
        }
        if (RESERVED.contains(field.column())) {
          throw invalid(
              "--promote "
                  + field.field()
                  + " would replace the column "
                  + field.column()
                  + " every row has: _id is already document_id");
        }
      }
      if (target.isMirror()) {
        String expected = target.mirroredTable().orElseThrow();
        if (!expected.equalsIgnoreCase(collection)) {
          throw invalid("--target " + target + " mirrors " + expected + ", not " + collection);
        }
      }
    }
  }

  private static final Set<String> RESERVED =
      Set.of(
          "collection",
          "document_id",
          "document",
          "snapshot_id",
          "source_file",
          "source_line",
          "imported_at");

  /** What a load did. */
  public record Result(int files, long documents, long quarantined, String snapshotId) {}

  public static void main(String[] arguments) {
    System.exit(Launcher.run(new MongoExportCommand(), arguments));
  }

  static Result runWithOwnSession(LakeConfig config, Options options, Consumer<String> progress) {
    return LakeSpark.runInOwnSession(
        config, "lambda-lake import-mongoexport", spark -> run(spark, config, options, progress));
  }

  public static Result run(
      SparkSession spark, LakeConfig config, Options options, Consumer<String> progress) {
    List<FileStatus> files = InputFiles.list(spark, options.paths());
    ImportTransaction transaction =
        ImportTransaction.ofFiles(
            QUARANTINE_SOURCE, options.target(), Optional.of(options.collection()), files);
    String snapshotId = UUID.randomUUID().toString();
    progress.accept(
        "import-mongoexport: loading "
            + files.size()
            + " file(s) of "
            + options.collection()
            + " into "
            + options.target());
    Dataset<Row> parsed =
        InputFiles.records(spark, files, InputFiles.Records.JSON_LINES_OR_ARRAY)
            .mapPartitions(
                MongoDocuments.parser(options.promoted()),
                Encoders.row(MongoDocuments.schema(options.promoted())));
    parsed.persist(StorageLevel.MEMORY_AND_DISK());
    try {
      List<Column> columns = new ArrayList<>();
      columns.add(lit(options.collection()).as("collection"));
      columns.add(col("document_id"));
      columns.add(col("document"));
      columns.add(lit(snapshotId).as("snapshot_id"));
      columns.add(col("file").as("source_file"));
      columns.add(col("line").as("source_line"));
      columns.add(current_timestamp().as("imported_at"));
      for (MongoDocuments.Promoted field : options.promoted()) {
        columns.add(col(field.column()));
      }
      Dataset<Row> documents =
          parsed.filter(col("reason").isNull()).select(columns.toArray(Column[]::new));
      String location;
      if (options.target().isMirror()) {
        location = options.target().location(config.storage());
        if (!DeltaTables.exists(spark, location)) {
          DeltaTable.createIfNotExists(spark)
              .location(location)
              .addColumns(documents.schema())
              .property("delta.enableChangeDataFeed", "true")
              .execute();
        }
        documents.write().format("delta").mode(SaveMode.Overwrite).save(location);
      } else {
        location =
            options.target().qualifiedName().equals(LakeTable.RAW_MONGO_SNAPSHOTS.qualifiedName())
                ? DeltaTables.ensure(spark, config, LakeTable.RAW_MONGO_SNAPSHOTS)
                : options.target().location(config.storage());
        transaction.append(documents, location);
      }
      CatalogNames.registerWritten(
          spark, config, options.target().zone(), options.target().table(), location);
      long written = documents.count();
      long quarantined =
          transaction.quarantine(
              spark, config, parsed.filter(col("reason").isNotNull()), QUARANTINE_SOURCE);
      progress.accept(
          "import-mongoexport: "
              + written
              + " documents into "
              + options.target()
              + ", "
              + quarantined
              + " quarantined (raw.import_quarantine, source "
              + QUARANTINE_SOURCE
              + ")");
      return new Result(files.size(), written, quarantined, snapshotId);
    } finally {
      parsed.unpersist();
    }
  }

  private static LakeException invalid(String message) {
    return new LakeException(ErrorCode.INVALID_ARGUMENT, message);
  }
}
