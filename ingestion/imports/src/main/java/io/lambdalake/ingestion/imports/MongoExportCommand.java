package io.lambdalake.ingestion.imports;

import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.ErrorType;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.ingestion.imports.internal.MongoDocuments;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.spark.sql.types.DataType;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code lake import-mongoexport}: mongoexport output into raw.mongo_snapshots or a mirror. */
@Command(
    name = "import-mongoexport",
    mixinStandardHelpOptions = true,
    description = {
      "Load mongoexport files (JSON lines or --jsonArray; relaxed or canonical Extended JSON),"
          + " local or s3://, into raw.mongo_snapshots or mirror.<db>__<collection>.",
      "Documents are kept as canonical Extended JSON; --promote makes top-level fields columns."
          + " Bad lines go to raw.import_quarantine with file and line number."
    })
public final class MongoExportCommand implements Callable<Integer> {
  @Option(
      names = "--collection",
      required = true,
      description = "The exported collection, database.collection.")
  String collection;

  @Option(
      names = "--target",
      defaultValue = "raw.mongo_snapshots",
      description = "Delta table (default: ${DEFAULT-VALUE}) or mirror.<db>__<collection>.")
  String target;

  @Option(
      names = "--promote",
      // Commas between fields, not inside a type such as DECIMAL(18,2).
      split = ",(?![^(]*\\))",
      description =
          "Top-level field to add as a column, FIELD:TYPE in Spark SQL types, e.g."
              + " status:STRING,total:DECIMAL(18,2),created:TIMESTAMP,qty:BIGINT.")
  List<String> promote = List.of();

  @Parameters(arity = "1..*", paramLabel = "PATH", description = "Files, folders or globs.")
  List<String> paths;

  public MongoExportJob.Options options() {
    return new MongoExportJob.Options(
        paths,
        collection,
        ImportTarget.parse(target),
        promote.stream().map(MongoExportCommand::promoted).toList());
  }

  static MongoDocuments.Promoted promoted(String specification) {
    int colon = specification.indexOf(':');
    if (colon <= 0 || colon == specification.length() - 1) {
      throw new LakeException(
          ErrorCode.INVALID_ARGUMENT,
          "--promote " + specification + " is not FIELD:TYPE, e.g. total:DECIMAL(18,2)");
    }
    String type = specification.substring(colon + 1);
    try {
      DataType parsed = DataType.fromDDL(type);
      return new MongoDocuments.Promoted(specification.substring(0, colon), parsed);
    } catch (RuntimeException e) {
      throw new LakeException(
          ErrorCode.INVALID_ARGUMENT,
          "--promote " + specification + ": '" + type + "' is not a type",
          e);
    }
  }

  @Override
  public Integer call() {
    MongoExportJob.Options options = options();
    MongoExportJob.Result result =
        MongoExportJob.runWithOwnSession(options, line -> System.err.println(line));
    System.out.println(
        "import-mongoexport: target="
            + options.target()
            + " files="
            + result.files()
            + " documents="
            + result.documents()
            + " quarantined="
            + result.quarantined()
            + " snapshot_id="
            + result.snapshotId());
    return 0;
  }

  public static int execute(String... arguments) {
    CommandLine commandLine = new CommandLine(new MongoExportCommand());
    commandLine.setExecutionExceptionHandler(
        (exception, command, parseResult) -> {
          command.getErr().println("lake import-mongoexport: " + exception.getMessage());
          return exception instanceof LakeException lake
              ? (lake.errorCode().type() == ErrorType.USER_ERROR ? 2 : 3)
              : 1;
        });
    return commandLine.execute(arguments);
  }
}
