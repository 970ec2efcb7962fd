package io.lambdalake.batch;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
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
      "Default range: yesterday and the --late-days before it.",
      "Every run also recomputes the dirty hours: the covered days whose events in raw.events"
          + " landed after the day was last computed, found from raw.events' Delta log; it prints"
          + " them and why."
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

  @Option(
      names = "--dirty",
      description =
          "Recompute only the dirty hours (covered days with events landed since they were last"
              + " computed), not a range; the coverage does not move.")
  boolean dirtyOnly;

  public BatchJob.Options options() {
    if (dirtyOnly && (from != null || to != null)) {
      throw new LakeException(
          ErrorCode.INVALID_ARGUMENT,
          "--dirty recomputes only the dirty hours and takes no range: drop --from/--to, or drop"
              + " --dirty to recompute the range (its runs recompute the dirty hours too)");
    }
    LocalDate yesterday = LocalDate.now(ZoneOffset.UTC).minusDays(1);
    LocalDate last = to == null ? yesterday : to;
    LocalDate first = from == null ? last.minusDays(lateDays) : from;
    return new BatchJob.Options(
        first,
        last,
        logicVersion,
        includeBots ? HourlyViews.BotPolicy.INCLUDE_BOTS : HourlyViews.BotPolicy.EXCLUDE_BOTS,
        dirtyOnly ? BatchJob.Scope.DIRTY_HOURS_ONLY : BatchJob.Scope.RANGE_AND_DIRTY_HOURS);
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
