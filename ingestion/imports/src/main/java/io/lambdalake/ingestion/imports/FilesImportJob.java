package io.lambdalake.ingestion.imports;

import static java.util.Objects.requireNonNull;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.current_timestamp;
import static org.apache.spark.sql.functions.input_file_name;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.size;
import static org.apache.spark.sql.functions.split;
import static org.apache.spark.sql.functions.try_element_at;
import static org.apache.spark.sql.functions.when;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.common.launch.Launcher;
import io.lambdalake.ingestion.imports.internal.AvroFiles;
import io.lambdalake.ingestion.imports.internal.InputFiles;
import io.lambdalake.spark.CatalogNames;
import io.lambdalake.spark.LakeSpark;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import org.apache.hadoop.fs.FileStatus;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;

/**
 * {@code lake import-files}: loads what Sqoop 1.4 wrote (delimited text, Avro data files, Parquet)
 * into a Delta table. Text lines and Avro records that do not fit the schema go to {@code
 * raw.import_quarantine} with their file and line (record) number. Loading the same files again
 * writes nothing: both commits are Delta transactions keyed by the set of files.
 */
public final class FilesImportJob {
  static final String QUARANTINE_SOURCE = "import-files";

  private FilesImportJob() {}

  /** The layouts Sqoop writes. */
  public enum Format {
    SQOOP_TEXT,
    AVRO,
    PARQUET
  }

  /**
   * What to load.
   *
   * @param schema the columns of a text file, in order (Spark DDL); Avro and Parquet carry theirs
   * @param fieldsTerminatedBy Sqoop's --fields-terminated-by (default ',')
   * @param nullString how a NULL string column is written (Sqoop's default: null)
   * @param nullNonString how a NULL of any other column is written (Sqoop's default: null)
   */
  public record Options(
      Format format,
      List<String> paths,
      ImportTarget target,
      Optional<StructType> schema,
      String fieldsTerminatedBy,
      String nullString,
      String nullNonString) {
    public Options {
      requireNonNull(format, "format is null");
      paths = List.copyOf(paths);
      requireNonNull(target, "target is null");
      requireNonNull(schema, "schema is null");
      requireNonNull(fieldsTerminatedBy, "fieldsTerminatedBy is null");
      requireNonNull(nullString, "nullString is null");
      requireNonNull(nullNonString, "nullNonString is null");
      if (paths.isEmpty()) {
        throw invalid("name the files or folders to load");
      }
      if (format == Format.SQOOP_TEXT && schema.isEmpty()) {
        throw invalid(
            "--format sqoop-text needs --schema with the columns in file order, e.g."
                + " --schema 'id BIGINT, name STRING, amount DECIMAL(12,2), created TIMESTAMP'");
      }
      if (format != Format.SQOOP_TEXT && schema.isPresent()) {
        throw invalid("--schema is for sqoop-text; " + name(format) + " files carry their schema");
      }
      if (fieldsTerminatedBy.isEmpty()) {
        throw invalid("--fields-terminated-by must not be empty");
      }
      if (target.isMirror()) {
        throw invalid(
            "Sqoop files carry no binlog position to continue CDC from: load them into a raw table");
      }
    }
  }

  /** What a load did. */
  public record Result(int files, long rows, long quarantined) {}

  public static void main(String[] arguments) {
    System.exit(Launcher.run(new FilesImportCommand(), arguments));
  }

  static Result runWithOwnSession(LakeConfig config, Options options, Consumer<String> progress) {
    return LakeSpark.runInOwnSession(
        config, "lambda-lake import-files", spark -> run(spark, config, options, progress));
  }

  public static Result run(
      SparkSession spark, LakeConfig config, Options options, Consumer<String> progress) {
    List<FileStatus> files = InputFiles.list(spark, options.paths());
    ImportTransaction transaction =
        ImportTransaction.ofFiles(QUARANTINE_SOURCE, options.target(), Optional.empty(), files);
    String snapshotId = UUID.randomUUID().toString();
    progress.accept(
        "import-files: loading "
            + files.size()
            + " "
            + name(options.format())
            + " file(s) into "
            + options.target());
    Dataset<Row> parsed =
        switch (options.format()) {
          case SQOOP_TEXT -> parseText(spark, files, options);
          case AVRO -> AvroFiles.read(spark, files);
          case PARQUET ->
              spark
                  .read()
                  .parquet(
                      files.stream().map(file -> file.getPath().toString()).toArray(String[]::new))
                  .withColumn("_source_file", input_file_name())
                  .withColumn("_source_line", lit(null).cast(DataTypes.LongType))
                  .withColumn("reason", lit(null).cast(DataTypes.StringType));
        };
    parsed.persist(StorageLevel.MEMORY_AND_DISK());
    try {
      Dataset<Row> accepted =
          parsed
              .filter(col("reason").isNull())
              .drop("reason", "field", "message", "text", "file", "line")
              .withColumn("_import_snapshot_id", lit(snapshotId))
              .withColumn("_imported_at", current_timestamp());
      transaction.append(accepted, options.target().location(config.storage()));
      CatalogNames.registerWritten(
          spark,
          config,
          options.target().zone(),
          options.target().table(),
          options.target().location(config.storage()));
      long rows = accepted.count();
      long quarantined =
          options.format() == Format.PARQUET
              ? 0
              : transaction.quarantine(
                  spark, config, parsed.filter(col("reason").isNotNull()), QUARANTINE_SOURCE);
      progress.accept(
          "import-files: "
              + rows
              + " rows into "
              + options.target()
              + ", "
              + quarantined
              + " quarantined (raw.import_quarantine, source "
              + QUARANTINE_SOURCE
              + ")");
      return new Result(files.size(), rows, quarantined);
    } finally {
      parsed.unpersist();
    }
  }

  /**
   * Sqoop's text layout: one record per line, fields split by the delimiter with no quoting or
   * escaping, NULL written as the null string. A line with another number of fields, or a value
   * that is not of its column's type, is rejected with the reason.
   */
  private static Dataset<Row> parseText(
      SparkSession spark, List<FileStatus> files, Options options) {
    StructType schema = options.schema().orElseThrow();
    int expected = schema.fields().length;
    Dataset<Row> lines =
        InputFiles.records(spark, files, InputFiles.Records.LINES)
            .withColumn(
                "fields", split(col("text"), Pattern.quote(options.fieldsTerminatedBy()), -1));
    List<Column> values = new ArrayList<>();
    Column reason = when(size(col("fields")).notEqual(expected), lit("wrong_field_count"));
    Column message =
        when(
            size(col("fields")).notEqual(expected),
            concat(
                lit("line has "),
                size(col("fields")).cast(DataTypes.StringType),
                lit(
                    " fields separated by '"
                        + options.fieldsTerminatedBy()
                        + "', the schema has "
                        + expected)));
    List<Column> invalidChecks = new ArrayList<>();
    for (int index = 0; index < expected; index++) {
      StructField column = schema.fields()[index];
      Column raw = try_element_at(col("fields"), lit(index + 1));
      boolean text = column.dataType().equals(DataTypes.StringType);
      Column isNull = raw.equalTo(lit(text ? options.nullString() : options.nullNonString()));
      Column value =
          when(isNull, lit(null).cast(column.dataType()))
              .otherwise(text ? raw : raw.try_cast(column.dataType()));
      Column invalid = isNull.equalTo(false).and(value.isNull());
      values.add(when(size(col("fields")).equalTo(expected), value).as(column.name()));
      invalidChecks.add(invalid);
      reason = reason.when(invalid, lit("invalid_value"));
      message =
          message.when(
              invalid,
              concat(
                  lit("column " + column.name() + ": '"),
                  raw,
                  lit("' is not " + describe(column.dataType()))));
    }
    // The first column at fault names the field.
    Column firstInvalidField = lit(null).cast(DataTypes.StringType);
    for (int index = expected - 1; index >= 0; index--) {
      firstInvalidField =
          when(invalidChecks.get(index), lit(schema.fields()[index].name()))
              .otherwise(firstInvalidField);
    }
    List<Column> selected = new ArrayList<>(values);
    selected.add(col("file").as("_source_file"));
    selected.add(col("line").as("_source_line"));
    selected.add(col("file"));
    selected.add(col("line"));
    selected.add(col("text"));
    selected.add(reason.as("reason"));
    selected.add(
        when(size(col("fields")).notEqual(expected), lit(null).cast(DataTypes.StringType))
            .otherwise(firstInvalidField)
            .as("field"));
    selected.add(coalesce(message, lit(null).cast(DataTypes.StringType)).as("message"));
    return lines.select(selected.toArray(Column[]::new));
  }

  private static String describe(DataType type) {
    return "a " + type.sql();
  }

  static String name(Format format) {
    return format.name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  private static LakeException invalid(String message) {
    return new LakeException(ErrorCode.INVALID_ARGUMENT, message);
  }
}
