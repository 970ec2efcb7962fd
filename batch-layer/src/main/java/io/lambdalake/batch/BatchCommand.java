package io.lambdalake.batch;

import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.spark.views.HourlyViews;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.concurrent.Callable;
import picocli.CommandLine;
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
public final class BatchCommand implements Callable<Integer> {
  /**
   * The exit code of the job (under spark-submit) when a quality check failed: retrying cannot
   * help, so the Airflow DAGs fail the day at once instead of retrying it.
   */
  public static final int QUALITY_CHECK_FAILED_EXIT_CODE = 4;

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
  public Integer call() {
    BatchJob.runWithOwnSession(options());
    return 0;
  }

  static int execute(String... arguments) {
    CommandLine commandLine = new CommandLine(new BatchCommand());
    commandLine.setExecutionExceptionHandler(
        (exception, command, parseResult) -> {
          command.getErr().println("lake batch: " + exception.getMessage());
          if (exception instanceof LakeException lake) {
            return lake.errorCode() == ErrorCode.QUALITY_CHECK_FAILED
                ? QUALITY_CHECK_FAILED_EXIT_CODE
                : 2;
          }
          return 1;
        });
    return commandLine.execute(arguments);
  }
}
