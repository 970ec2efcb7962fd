package io.lambdalake.consumers.spam;

import io.lambdalake.common.config.Durations;
import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.launch.Endpoint;
import io.lambdalake.common.launch.Job;
import io.lambdalake.common.launch.JobContext;
import io.lambdalake.common.launch.Server;
import java.util.List;
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
public final class SpamCommand implements Job {
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

  SpamJob.Options options(LakeConfig config) {
    return new SpamJob.Options(
        availableNow ? SpamJob.Mode.AVAILABLE_NOW : SpamJob.Mode.CONTINUOUS,
        trigger == null
            ? config.consumers().spam().trigger()
            : Durations.parse(trigger, "--trigger"),
        Durations.parse(progressInterval, "--progress"));
  }

  @Override
  public void validate(LakeConfig config) {
    options(config);
  }

  @Override
  public List<Endpoint> servers(LakeConfig config) {
    return Server.endpoints(config, Server.KAFKA, Server.S3);
  }

  @Override
  public void run(JobContext context) {
    SpamJob.runWithOwnSession(context.config(), options(context.config()));
  }
}
