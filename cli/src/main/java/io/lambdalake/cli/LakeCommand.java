package io.lambdalake.cli;

import io.lambdalake.batch.BatchCommand;
import io.lambdalake.common.launch.Launcher;
import io.lambdalake.consumers.match.MatchCommand;
import io.lambdalake.consumers.sample.GenerateSampleDbCommand;
import io.lambdalake.consumers.spam.SpamCommand;
import io.lambdalake.ingestion.cdc.CdcCommand;
import io.lambdalake.ingestion.collector.CollectorCommand;
import io.lambdalake.ingestion.collector.generate.GenerateCommand;
import io.lambdalake.ingestion.imports.FilesImportCommand;
import io.lambdalake.ingestion.imports.JdbcImportCommand;
import io.lambdalake.ingestion.imports.MongoExportCommand;
import io.lambdalake.orchestration.BackfillCommand;
import io.lambdalake.orchestration.DagsCommand;
import io.lambdalake.serving.ServingCommand;
import io.lambdalake.serving.api.ApiCommand;
import io.lambdalake.serving.store.ServingSyncCommand;
import io.lambdalake.serving.verify.VerifyCommand;
import io.lambdalake.speed.SpeedCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code lake}: the one command-line entry point to every lambda-lake job and service. It starts
 * through the same {@link Launcher} as each job's main under spark-submit, so the exit codes, the
 * one-line errors and the run records are the same either way.
 */
@Command(
    name = "lake",
    mixinStandardHelpOptions = true,
    versionProvider = LakeCommand.Version.class,
    description =
        "lambda-lake: a Lambda-architecture data lake on Kafka, Spark, Delta Lake and Trino.",
    footer = {
      "",
      "Exit codes: 0 success; 2 bad argument, configuration or input (do not retry);"
          + " 3 a quality check failed, nothing published (do not retry);"
          + " 75 a server is unavailable or failed (retry later); 70 internal error (a bug).",
      "Each run writes a run record to lake.runs.directory/<command>/ (and to --run-record FILE)."
    },
    subcommands = {
      StackCommand.class,
      SqlCommand.class,
      ConfigCommand.class,
      CollectorCommand.class,
      SpeedCommand.class,
      ServingCommand.class,
      ServingSyncCommand.class,
      VerifyCommand.class,
      BatchCommand.class,
      GenerateCommand.class,
      ApiCommand.class,
      BackfillCommand.class,
      DagsCommand.class,
      CdcCommand.class,
      JdbcImportCommand.class,
      FilesImportCommand.class,
      MongoExportCommand.class,
      GenerateSampleDbCommand.class,
      SpamCommand.class,
      MatchCommand.class,
      CommandLine.HelpCommand.class
    })
public final class LakeCommand {
  public static void main(String[] arguments) {
    System.exit(Launcher.run(new LakeCommand(), arguments));
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String version = LakeCommand.class.getPackage().getImplementationVersion();
      return new String[] {"lambda-lake " + (version == null ? "(development build)" : version)};
    }
  }
}
