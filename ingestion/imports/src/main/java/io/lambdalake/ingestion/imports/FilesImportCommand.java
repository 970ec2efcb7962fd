package io.lambdalake.ingestion.imports;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.common.launch.Endpoint;
import io.lambdalake.common.launch.Job;
import io.lambdalake.common.launch.JobContext;
import io.lambdalake.common.launch.Server;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.apache.spark.sql.types.StructType;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code lake import-files}: Sqoop 1.4 output (text, Avro, Parquet) into a Delta table. */
@Command(
    name = "import-files",
    mixinStandardHelpOptions = true,
    description = {
      "Load files Sqoop 1.4 wrote (to HDFS, S3 or a local folder) into a Delta table. Text lines"
          + " and Avro records that do not fit go to raw.import_quarantine with file and line number.",
      "Loading the same files into the same table again writes nothing."
    })
public final class FilesImportCommand implements Job {
  @Option(
      names = "--format",
      required = true,
      description = "sqoop-text, avro or parquet.",
      converter = FormatConverter.class)
  FilesImportJob.Format format;

  @Option(names = "--target", required = true, description = "Delta table, e.g. raw.orders.")
  String target;

  @Option(
      names = "--schema",
      description = "sqoop-text: the columns in file order, e.g. 'id BIGINT, name STRING'.")
  String schema;

  @Option(
      names = "--fields-terminated-by",
      defaultValue = ",",
      description = "sqoop-text field delimiter (default: ${DEFAULT-VALUE}).")
  String fieldsTerminatedBy;

  @Option(
      names = "--null-string",
      defaultValue = "null",
      description = "How NULL strings are written (Sqoop's default: ${DEFAULT-VALUE}).")
  String nullString;

  @Option(
      names = "--null-non-string",
      defaultValue = "null",
      description = "How other NULLs are written (Sqoop's default: ${DEFAULT-VALUE}).")
  String nullNonString;

  @Parameters(arity = "1..*", paramLabel = "PATH", description = "Files, folders or globs.")
  List<String> paths;

  public FilesImportJob.Options options() {
    return new FilesImportJob.Options(
        format,
        paths,
        ImportTarget.parse(target),
        Optional.ofNullable(schema).map(FilesImportCommand::parseSchema),
        unescape(fieldsTerminatedBy),
        unescape(nullString),
        unescape(nullNonString));
  }

  @Override
  public void validate(LakeConfig config) {
    options();
  }

  @Override
  public List<Endpoint> servers(LakeConfig config) {
    return Server.endpoints(config, Server.S3);
  }

  @Override
  public void run(JobContext context) {
    FilesImportJob.Options options = options();
    FilesImportJob.Result result =
        FilesImportJob.runWithOwnSession(
            context.config(), options, line -> System.err.println(line));
    context.count("files", result.files());
    context.count("rows", result.rows());
    context.count("quarantined", result.quarantined());
    System.out.println(
        "import-files: target="
            + options.target()
            + " files="
            + result.files()
            + " rows="
            + result.rows()
            + " quarantined="
            + result.quarantined());
  }

  private static StructType parseSchema(String ddl) {
    try {
      return StructType.fromDDL(ddl);
    } catch (RuntimeException e) {
      throw new LakeException(
          ErrorCode.INVALID_ARGUMENT,
          "--schema '" + ddl + "' is not a column list: " + e.getMessage(),
          e);
    }
  }

  /** Sqoop's escapes in delimiters and null strings: \t, \001 (octal), \N stays \N. */
  static String unescape(String value) {
    if (value.equals("\\t")) {
      return "\t";
    }
    if (value.matches("\\\\0[0-7]{1,3}")) {
      return Character.toString((char) Integer.parseInt(value.substring(2), 8));
    }
    if (value.equals("\\\\N")) {
      return "\\N";
    }
    return value;
  }

  static final class FormatConverter implements CommandLine.ITypeConverter<FilesImportJob.Format> {
    @Override
    public FilesImportJob.Format convert(String value) {
      try {
        return FilesImportJob.Format.valueOf(value.toUpperCase(Locale.ROOT).replace('-', '_'));
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException(
            "'" + value + "' is not a format: use sqoop-text, avro or parquet");
      }
    }
  }
}
