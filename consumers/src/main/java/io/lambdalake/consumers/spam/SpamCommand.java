package io.lambdalake.consumers.spam;

import io.lambdalake.common.config.Durations;
import io.lambdalake.common.config.LakeConfigLoader;
import io.lambdalake.common.error.LakeException;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code lake spam}: streaming spam detection over the sample application's mirrors. */
@Command(
    name = "spam",
    mixinStandardHelpOptions = true,
    description = {
      "Flag spamming profiles of the sample application from the change data feed of its mirrors"
          + " (rules in lake.consumers.spam): writes consumers.spam_flags and publishes each new"
          + " flag once to lake.consumers.spam.topic.",
      "Runs until stopped, or with --available-now over the changes there are and then exits."
    })
public final class SpamCommand implements Callable<Integer> {
  @Option(names = "--available-now", description = "Process the changes there are, then exit.")
  boolean availableNow;

  @Option(
      names = "--trigger",
      description = "Micro-batch interval (default: lake.consumers.spam.trigger).")
  String trigger;

  @Option(
      names = "--progress",
      defaultValue = "10s",
      description = "How often to check on the query (default: ${DEFAULT-VALUE}).")
  String progressInterval;

  SpamJob.Options options() {
    return new SpamJob.Options(
        availableNow ? SpamJob.Mode.AVAILABLE_NOW : SpamJob.Mode.CONTINUOUS,
        trigger == null
            ? LakeConfigLoader.load().consumers().spam().trigger()
            : Durations.parse(trigger, "--trigger"),
        Durations.parse(progressInterval, "--progress"));
  }

  @Override
  public Integer call() {
    SpamJob.runWithOwnSession(options());
    return 0;
  }

  static int execute(String... arguments) {
    CommandLine commandLine =
        new CommandLine(new SpamCommand()).setCaseInsensitiveEnumValuesAllowed(true);
    commandLine.setExecutionExceptionHandler(
        (exception, command, parseResult) -> {
          command.getErr().println("lake spam: " + exception.getMessage());
          return exception instanceof LakeException ? 2 : 1;
        });
    return commandLine.execute(arguments);
  }
}
