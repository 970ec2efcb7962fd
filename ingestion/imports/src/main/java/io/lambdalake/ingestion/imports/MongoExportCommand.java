package io.lambdalake.ingestion.imports;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.common.launch.Endpoint;
import io.lambdalake.common.launch.Job;
import io.lambdalake.common.launch.JobContext;
import io.lambdalake.common.launch.Server;
import io.lambdalake.ingestion.imports.internal.MongoDocuments;
import java.util.List;
import org.apache.spark.sql.types.DataType;
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
public final class MongoExportCommand implements Job {
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
  public void validate(LakeConfig config) {
    options();
  }

  @Override
  public List<Endpoint> servers(LakeConfig config) {
    return Server.endpoints(config, Server.S3);
  }

  @Override
  public void run(JobContext context) {
    MongoExportJob.Options options = options();
    MongoExportJob.Result result =
        MongoExportJob.runWithOwnSession(
            context.config(), options, line -> System.err.println(line));
    context.count("files", result.files());
    context.count("documents", result.documents());
    context.count("quarantined", result.quarantined());
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
  }
}
