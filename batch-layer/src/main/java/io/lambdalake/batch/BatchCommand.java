package io.lambdalake.batch;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.launch.Endpoint;
import io.lambdalake.common.launch.Job;
import io.lambdalake.common.launch.JobContext;
import io.lambdalake.common.launch.Server;
import io.lambdalake.spark.views.HourlyViews;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code lake batch}: recompute the batch views of a range of days from raw.events. */
@Command(
    name = "batch",
    mixinStandardHelpOptions = true,
    description = {
      "Recompute the batch views from raw.events for each day of a range (UTC), and the daily"
          + " snapshot of every mirrored MySQL table from raw.mysql_changes"
          + " (batch.mysql_history__<db>__<table>), check them, replace each day atomically, then"
          + " advance batch.coverage.",
      "Default range: yesterday and the --late-days before it."
    })
public final class BatchCommand implements Job {
  @Option(names = "--from", description = "First day, e.g. 2026-11-01.")
  LocalDate from;

  @Option(names = "--to", description = "Last day (inclusive).")
  LocalDate to;

  @Option(
      names = "--late-days",
      defaultValue = "2",
      description =
          "Without --from: also recompute this many days before yesterday, for late events (default: ${DEFAULT-VALUE}).")
  int lateDays;

  @Option(
      names = "--logic-version",
      defaultValue = "batch-1",
      description = "Written on every row (default: ${DEFAULT-VALUE}).")
  String logicVersion;

  @Option(names = "--include-bots", description = "Count events flagged as bots.")
  boolean includeBots;

  public BatchJob.Options options() {
    LocalDate yesterday = LocalDate.now(ZoneOffset.UTC).minusDays(1);
    LocalDate last = to == null ? yesterday : to;
    LocalDate first = from == null ? last.minusDays(lateDays) : from;
    return new BatchJob.Options(
        first,
        last,
        logicVersion,
        includeBots ? HourlyViews.BotPolicy.INCLUDE_BOTS : HourlyViews.BotPolicy.EXCLUDE_BOTS);
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
    BatchJob.runWithOwnSession(context.config(), options());
  }
}
