package io.lambdalake.orchestration;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.launch.Endpoint;
import io.lambdalake.common.launch.Job;
import io.lambdalake.common.launch.JobContext;
import io.lambdalake.common.launch.Server;
import java.io.PrintWriter;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code lake dags status}: the lake's DAGs in Airflow and their recent runs. */
@Command(
    name = "dags",
    mixinStandardHelpOptions = true,
    description = "The lake's Airflow DAGs.",
    subcommands = {DagsCommand.Status.class})
public final class DagsCommand {
  /** The tag every lambda-lake DAG carries. */
  static final String TAG = "lambda-lake";

  @Command(
      name = "status",
      mixinStandardHelpOptions = true,
      description = "List the lake's DAGs (tag " + TAG + ") and their recent runs.")
  static final class Status implements Job {
    @Spec CommandSpec spec;

    @Option(
        names = "--runs",
        defaultValue = "5",
        description = "Runs to show per DAG (default: ${DEFAULT-VALUE}).")
    int runs;

    @Override
    public List<Endpoint> servers(LakeConfig config) {
      return Server.endpoints(config, Server.AIRFLOW);
    }

    @Override
    public void run(JobContext context) {
      LakeConfig config = context.config();
      AirflowClient client = new AirflowClient(config.airflow());
      PrintWriter out = spec.commandLine().getOut();
      List<AirflowClient.Dag> dags = client.dags(TAG);
      if (dags.isEmpty()) {
        out.println(
            "Airflow at "
                + client.url()
                + " has no DAG tagged "
                + TAG
                + " (yet: it parses new"
                + " files every 30 s)");
      }
      for (AirflowClient.Dag dag : dags) {
        out.printf("%s  %s%n", dag.dagId(), dag.paused() ? "(paused)" : "(active)");
        List<AirflowClient.DagRun> recent = client.runs(dag.dagId(), List.of(), Math.max(1, runs));
        if (recent.isEmpty()) {
          out.println("    no runs");
        }
        for (AirflowClient.DagRun run : recent) {
          out.printf(
              "    %-8s %-60s %s -> %s%s%n",
              run.state(),
              run.runId(),
              run.startDate().orElse("-"),
              run.endDate().orElse("-"),
              run.conf().containsKey("from")
                  ? "  " + run.conf().get("from") + ".." + run.conf().get("to")
                  : "");
        }
      }
      out.flush();
    }
  }
}
