package io.lambdalake.speed;

import io.lambdalake.common.config.Durations;
import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.launch.Endpoint;
import io.lambdalake.common.launch.Job;
import io.lambdalake.common.launch.JobContext;
import io.lambdalake.common.launch.Server;
import io.lambdalake.ingestion.landing.LandingStream;
import io.lambdalake.spark.views.HourlyViews;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code lake speed}: lands the event topics in the raw zone and keeps the speed views current. */
@Command(
    name = "speed",
    mixinStandardHelpOptions = true,
    description = {
      "Land the event topics in raw.events / raw.quarantine (exactly once, enriched) and keep the"
          + " hourly speed views current.",
      "Runs until stopped, or with --available-now over what Kafka holds and then exits."
    })
public final class SpeedCommand implements Job {
  @Option(
      names = "--queries",
      defaultValue = "ALL",
      description =
          "What to keep current: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}): all lands"
              + " and merges each micro-batch into the speed views; landing only lands, and the"
              + " next run with the views recomputes them from raw.events first.")
  SpeedJob.Queries queries;

  @Option(names = "--available-now", description = "Process what is there now, then exit.")
  boolean availableNow;

  @Option(
      names = "--trigger",
      defaultValue = "5s",
      description = "Micro-batch interval (default: ${DEFAULT-VALUE}).")
  String trigger;

  @Option(
      names = "--dedup-window",
      defaultValue = "1h",
      description =
          "A retried event ID seen again within this processing time is dropped (default: ${DEFAULT-VALUE}).")
  String deduplicationWindow;

  @Option(
      names = "--max-records-per-batch",
      defaultValue = "200000",
      description =
          "Upper bound of Kafka records per landing micro-batch (default: ${DEFAULT-VALUE}).")
  long maxRecordsPerBatch;

  @Option(names = "--include-bots", description = "Count events flagged as bots in the views.")
  boolean includeBots;

  @Option(
      names = "--rebuild-views",
      description =
          "Recompute the speed views from raw.events before starting (after a change of their"
              + " logic). Stop the running speed job first.")
  boolean rebuildViews;

  @Option(
      names = "--reset-from",
      paramLabel = "table|earliest",
      description =
          "Operators only: discard the landing stream's checkpoint and start afresh from the Kafka"
              + " offsets the tables' own commits recorded (table), or from the earliest record"
              + " Kafka holds (earliest; the tables still skip what they hold, so this only lands"
              + " again what a removed table had). Stop the running job first.")
  String resetFrom;

  @Option(
      names = "--progress",
      defaultValue = "10s",
      description = "Progress line interval (default: ${DEFAULT-VALUE}).")
  String progressInterval;

  /** The validated options this command line describes. */
  public SpeedJob.Options options() {
    return new SpeedJob.Options(
        queries,
        availableNow ? SpeedJob.Mode.AVAILABLE_NOW : SpeedJob.Mode.CONTINUOUS,
        Durations.parse(trigger, "--trigger"),
        Durations.parse(deduplicationWindow, "--dedup-window"),
        maxRecordsPerBatch,
        includeBots ? HourlyViews.BotPolicy.INCLUDE_BOTS : HourlyViews.BotPolicy.EXCLUDE_BOTS,
        Durations.parse(progressInterval, "--progress"),
        Optional.ofNullable(resetFrom).map(LandingStream.ResetFrom::parse));
  }

  @Override
  public void validate(LakeConfig config) {
    options();
  }

  @Override
  public List<Endpoint> servers(LakeConfig config) {
    return Server.endpoints(config, Server.KAFKA, Server.S3);
  }

  @Override
  public void run(JobContext context) {
    SpeedJob.runWithOwnSession(
        context.config(),
        options(),
        rebuildViews ? SpeedJob.Views.REBUILD : SpeedJob.Views.CONTINUE);
  }
}
