package io.lambdalake.orchestration;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.common.launch.Endpoint;
import io.lambdalake.common.launch.Job;
import io.lambdalake.common.launch.JobContext;
import io.lambdalake.common.launch.Server;
import java.io.PrintWriter;
import java.time.Clock;
import java.time.LocalDate;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code lake backfill}: recompute a range of days through Airflow's backfill DAG. */
@Command(
    name = "backfill",
    mixinStandardHelpOptions = true,
    description = {
      "Recompute the batch views of a range of days (UTC) through Airflow: triggers the backfill"
          + " DAG (lake.airflow.backfill-dag), one task per day.",
      "Airflow's URL and account come from conf/ and LAKE_AIRFLOW_URL, LAKE_AIRFLOW_USER,"
          + " LAKE_AIRFLOW_PASSWORD."
    })
public final class BackfillCommand implements Job {
  @Spec CommandSpec spec;

  @Option(names = "--from", description = "First day, e.g. 2026-11-01 (required to trigger).")
  LocalDate from;

  @Option(names = "--to", description = "Last day (inclusive; required to trigger).")
  LocalDate to;

  @Option(
      names = "--logic-version",
      defaultValue = "batch-1",
      description = "Written on every recomputed row (default: ${DEFAULT-VALUE}).")
  String logicVersion;

  @Option(
      names = "--views",
      split = ",",
      defaultValue = "events_hourly,pages_hourly",
      description =
          "Views to recompute (default: ${DEFAULT-VALUE}; the job recomputes them together).")
  List<String> views;

  @Option(
      names = "--wait",
      description = "Wait for the run, print each day's progress, exit 0 only if it succeeded.")
  boolean waitForRun;

  @Option(
      names = "--follow",
      paramLabel = "RUN_ID",
      description =
          "Trigger nothing: follow a backfill run triggered before (e.g. after Airflow was down"
              + " longer than lake.airflow.outage-wait) as --wait does.")
  String follow;

  @Override
  public void validate(LakeConfig config) {
    if (follow != null) {
      if (from != null || to != null) {
        throw new LakeException(
            ErrorCode.INVALID_ARGUMENT,
            "--follow takes no --from/--to: the run it follows has its own range");
      }
      if (follow.isBlank()) {
        throw new LakeException(ErrorCode.INVALID_ARGUMENT, "--follow needs a run ID");
      }
      return;
    }
    if (from == null || to == null) {
      throw new LakeException(
          ErrorCode.INVALID_ARGUMENT,
          "--from and --to are required (or --follow RUN_ID to follow a run triggered before)");
    }
    request();
  }

  @Override
  public List<Endpoint> servers(LakeConfig config) {
    return Server.endpoints(config, Server.AIRFLOW);
  }

  private Backfills.Request request() {
    return new Backfills.Request(from, to, logicVersion, views);
  }

  @Override
  public void run(JobContext context) {
    LakeConfig config = context.config();
    PrintWriter out = spec.commandLine().getOut();
    Backfills backfills =
        new Backfills(
            new AirflowClient(config.airflow()), config.airflow(), out, Clock.systemUTC());
    if (follow != null) {
      backfills.await(backfills.existing(follow));
      return;
    }
    AirflowClient.DagRun run = backfills.trigger(request());
    if (waitForRun) {
      backfills.await(run);
    } else {
      out.println("Not waiting: `lake dags status` shows how it goes.");
      out.flush();
    }
  }
}
