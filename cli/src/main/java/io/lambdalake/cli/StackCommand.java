package io.lambdalake.cli;

import io.lambdalake.common.config.LakeConfigLoader;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.common.launch.Job;
import io.lambdalake.common.launch.JobContext;
import io.lambdalake.stack.LocalStack;
import java.io.PrintWriter;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code lake stack up|down|status|start NAME...|stop NAME...}: the embedded local stack of real
 * servers.
 */
@Command(
    name = "stack",
    description =
        "Start, stop or inspect the local stack (Kafka, s3proxy, Trino, MariaDB, Maxwell, Airflow).",
    subcommands = {
      StackCommand.Up.class,
      StackCommand.Down.class,
      StackCommand.Status.class,
      StackCommand.Start.class,
      StackCommand.Stop.class
    })
final class StackCommand {
  private static LocalStack stack(JobContext context) {
    return new LocalStack(context.config(), LakeConfigLoader.confDirectory(System.getenv()));
  }

  @Command(
      name = "up",
      description = "Start every server that is not running and wait until each answers.")
  static final class Up implements Job {
    @Spec CommandSpec spec;

    @Option(
        names = "--with-spark-cluster",
        description =
            "Also start a Spark standalone master and two workers (lake.stack.spark-*), for"
                + " spark-submit in cluster deploy mode.")
    boolean withSparkCluster;

    @Override
    public void run(JobContext context) {
      PrintWriter out = spec.commandLine().getOut();
      LocalStack stack = stack(context);
      Set<LocalStack.Extra> extras =
          withSparkCluster ? EnumSet.of(LocalStack.Extra.SPARK_CLUSTER) : Set.of();
      stack.up(
          report -> {
            out.printf(
                "%-14s up    %-45s %s after %.1f s%n",
                report.name(),
                report.address(),
                report.started() ? "started, answering" : "already running, answering",
                report.elapsed().toMillis() / 1000.0);
            out.flush();
          },
          extras);
      if (withSparkCluster) {
        out.println(
            "Spark cluster: "
                + context.config().stack().sparkCluster().masterUrl()
                + ", status "
                + context.config().stack().sparkCluster().masterWebUiUrl()
                + "/json/");
      }
      out.println("Logs and data: " + stack.layout().localDirectory());
    }
  }

  @Command(name = "down", description = "Stop the servers the stack started (by their PID files).")
  static final class Down implements Job {
    @Spec CommandSpec spec;

    @Override
    public void run(JobContext context) {
      PrintWriter out = spec.commandLine().getOut();
      List<String> stopped = stack(context).down();
      out.println(
          stopped.isEmpty()
              ? "Nothing was running."
              : "Stopped " + String.join(", ", stopped) + ".");
    }
  }

  @Command(
      name = "start",
      description =
          "Start the named servers that are not running, in the given order, and wait until each"
              + " answers (name a server after those it needs: s3proxy kafka mariadb maxwell"
              + " ddl-relay trino airflow spark-master spark-worker-1 spark-worker-2).")
  static final class Start implements Job {
    @Spec CommandSpec spec;

    @Parameters(arity = "1..*", paramLabel = "SERVER", description = "Servers to start.")
    List<String> servers;

    @Override
    public void run(JobContext context) {
      PrintWriter out = spec.commandLine().getOut();
      stack(context)
          .start(
              servers,
              report -> {
                out.printf(
                    "%-14s up    %-45s %s after %.1f s%n",
                    report.name(),
                    report.address(),
                    report.started() ? "started, answering" : "already running, answering",
                    report.elapsed().toMillis() / 1000.0);
                out.flush();
              });
    }
  }

  @Command(
      name = "stop",
      description =
          "Stop the named servers the stack started, in the given order; the others keep running.")
  static final class Stop implements Job {
    @Spec CommandSpec spec;

    @Parameters(arity = "1..*", paramLabel = "SERVER", description = "Servers to stop.")
    List<String> servers;

    @Override
    public void run(JobContext context) {
      PrintWriter out = spec.commandLine().getOut();
      List<String> stopped = stack(context).stop(servers);
      out.println(
          stopped.isEmpty()
              ? "None of them was running."
              : "Stopped " + String.join(", ", stopped) + ".");
    }
  }

  @Command(
      name = "status",
      description = "Say which servers run and whether each answers; exit non-zero unless all do.")
  static final class Status implements Job {
    @Spec CommandSpec spec;

    @Override
    public void run(JobContext context) {
      PrintWriter out = spec.commandLine().getOut();
      boolean healthy = true;
      for (LocalStack.ServerStatus status : stack(context).status()) {
        healthy &= status.healthy();
        out.printf(
            "%-14s %-5s %-45s %s%n",
            status.name(),
            status.healthy() ? "up" : "down",
            status.address(),
            status.pid().map(pid -> "pid " + pid).orElse("")
                + status
                    .problem()
                    .map(problem -> (status.pid().isPresent() ? ", " : "") + problem)
                    .orElse(""));
      }
      out.flush();
      if (!healthy) {
        throw new LakeException(ErrorCode.SERVER_NOT_AVAILABLE, "the local stack is not fully up");
      }
    }
  }
}
