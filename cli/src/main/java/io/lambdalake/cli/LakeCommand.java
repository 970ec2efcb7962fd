package io.lambdalake.cli;

import io.lambdalake.common.error.LakeException;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code lake}: the one command-line entry point to every lambda-lake job and service. */
@Command(
    name = "lake",
    mixinStandardHelpOptions = true,
    versionProvider = LakeCommand.Version.class,
    description =
        "lambda-lake: a Lambda-architecture data lake on Kafka, Spark, Delta Lake and Trino.",
    subcommands = {
      StackCommand.class,
      SqlCommand.class,
      ConfigCommand.class,
      CollectorCommand.class,
      io.lambdalake.speed.SpeedCommand.class,
      io.lambdalake.serving.ServingCommand.class,
      io.lambdalake.serving.verify.VerifyCommand.class,
      io.lambdalake.batch.BatchCommand.class,
      io.lambdalake.ingestion.collector.generate.GenerateCommand.class,
      io.lambdalake.serving.api.ApiCommand.class,
      io.lambdalake.orchestration.BackfillCommand.class,
      io.lambdalake.orchestration.DagsCommand.class,
      io.lambdalake.ingestion.cdc.CdcCommand.class,
      io.lambdalake.ingestion.imports.JdbcImportCommand.class,
      io.lambdalake.ingestion.imports.FilesImportCommand.class,
      io.lambdalake.ingestion.imports.MongoExportCommand.class,
      io.lambdalake.consumers.sample.GenerateSampleDbCommand.class,
      io.lambdalake.consumers.spam.SpamCommand.class,
      io.lambdalake.consumers.match.MatchCommand.class,
      CommandLine.HelpCommand.class
    })
public final class LakeCommand {
  @Option(
      names = "--verbose",
      scope = CommandLine.ScopeType.INHERIT,
      description = "Print the stack trace of a failure.")
  boolean verbose;

  public static void main(String[] arguments) {
    System.exit(execute(arguments));
  }

  static int execute(String... arguments) {
    LakeCommand root = new LakeCommand();
    CommandLine commandLine = new CommandLine(root).setCaseInsensitiveEnumValuesAllowed(true);
    commandLine.setExecutionExceptionHandler(
        (exception, command, parseResult) -> {
          PrintWriter err = command.getErr();
          if (root.verbose) {
            exception.printStackTrace(err);
          }
          err.println("lake: " + oneLine(exception));
          err.flush();
          return exception instanceof LakeException lake
              ? exitCode(lake)
              : CommandLine.ExitCode.SOFTWARE;
        });
    return commandLine.execute(arguments);
  }

  private static int exitCode(LakeException exception) {
    return switch (exception.errorCode().type()) {
      case USER_ERROR -> CommandLine.ExitCode.USAGE;
      case EXTERNAL -> 3;
      case INTERNAL -> CommandLine.ExitCode.SOFTWARE;
    };
  }

  private static String oneLine(Throwable exception) {
    String message = exception.getMessage();
    if (message == null || message.isBlank()) {
      message = exception.getClass().getName();
    }
    return message.lines().findFirst().orElse(message).strip();
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String version = LakeCommand.class.getPackage().getImplementationVersion();
      return new String[] {"lambda-lake " + (version == null ? "(development build)" : version)};
    }
  }
}
