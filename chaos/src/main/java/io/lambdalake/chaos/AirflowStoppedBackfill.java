package io.lambdalake.chaos;

import static org.awaitility.Awaitility.await;

import io.lambdalake.cli.LakeCommand;
import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.common.table.LakeTable;
import io.lambdalake.orchestration.AirflowClient;
import io.lambdalake.speed.SpeedJob;
import io.lambdalake.stack.AirflowServer;
import io.lambdalake.stack.LocalStack;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Airflow stopped during a backfill: an Airflow of the run's own (its tasks see the run's storage
 * root), {@code lake backfill --wait} over three days, and Airflow killed with SIGKILL (its API
 * server, scheduler, DAG processor and the running task's spark-submit) while the first day's task
 * runs. It stays down for a minute, then starts again. Required: the waiting {@code lake backfill}
 * says once that Airflow stopped answering and goes on waiting (else the scenario fails to run),
 * and ends with exit 0 once Airflow retried the killed day. Counted: every event once in {@code
 * raw.events} and {@code batch.events_hourly} over the three days against a recompute.
 */
final class AirflowStoppedBackfill implements Scenario {
  private static final Duration DOWN = Duration.ofSeconds(60);

  private final int events;

  AirflowStoppedBackfill(int events) {
    this.events = events;
  }

  @Override
  public String name() {
    return "airflow-stopped-backfill";
  }

  @Override
  public Tally run(ChaosRun plain) throws Exception {
    LocalStack stack = LocalStack.fromConfiguration();
    Path home = stack.config().localDirectory().resolve("chaos-airflow").resolve(plain.name());
    ChaosRun run =
        plain.with(
            Map.of(
                "lake.airflow.url",
                "http://127.0.0.1:" + freePort(),
                "lake.airflow.local-home",
                home.toString(),
                "lake.airflow.poll-interval",
                "2s"));
    LakeConfig config = run.config();
    Path venv = AirflowServer.defaultHome(stack.config()).resolve("venv");

    LocalDate today = LocalDate.now(ZoneOffset.UTC);
    LocalDate first = today.minusDays(3);
    LocalDate last = today.minusDays(1);
    Instant from = first.atStartOfDay(ZoneOffset.UTC).toInstant();
    Instant to = today.atStartOfDay(ZoneOffset.UTC).toInstant();
    EventLedger ledger = new EventLedger(run, 43, from, Duration.between(from, to));
    ledger.produce(events);
    run.runToEnd(SpeedJob.class, "landing", "--queries=landing", "--available-now");

    AirflowServer airflow = new AirflowServer(config, stack.layout(), home, venv);
    Process backfill = null;
    try {
      System.err.printf("chaos: %s: starting an Airflow of the run's own at %s%n", name(), home);
      airflow.start();
      airflow.awaitReady(Duration.ofMinutes(8));
      AirflowClient client = new AirflowClient(config.airflow());
      String dag = config.airflow().backfillDag();
      // The DAG processor parses the folder after the start; the DAG may take a moment to appear.
      await()
          .atMost(Duration.ofMinutes(5))
          .pollInterval(Duration.ofSeconds(3))
          .ignoreExceptions()
          .until(() -> client.dag(dag) != null);

      backfill =
          run.start(
              LakeCommand.class,
              "backfill",
              "backfill",
              "--from=" + first,
              "--to=" + last,
              "--logic-version=chaos-airflow",
              "--wait");
      Process waiting = backfill;
      // Killed while the first day's batch job runs: its task is running for a few seconds.
      await()
          .atMost(Duration.ofMinutes(10))
          .pollInterval(Duration.ofSeconds(1))
          .ignoreExceptions()
          .until(() -> !waiting.isAlive() || runningDays(client, dag) > 0);
      run.requireAlive(backfill, "lake backfill", "backfill");
      Thread.sleep(10_000);
      System.err.printf(
          "chaos: %s: killing Airflow (kill -9 of its processes and the task's) for %d s%n",
          name(), DOWN.toSeconds());
      killTree(airflow);
      Thread.sleep(DOWN.toMillis());
      run.requireAlive(backfill, "lake backfill --wait", "backfill");
      String during = Files.readString(run.log("backfill"));
      if (!during.contains("Airflow stopped answering while run ")) {
        throw new LakeException(
            ErrorCode.INTERNAL_ERROR,
            "lake backfill --wait did not say that Airflow stopped answering; see "
                + run.log("backfill"));
      }
      airflow = new AirflowServer(config, stack.layout(), home, venv);
      airflow.start();
      airflow.awaitReady(Duration.ofMinutes(8));
      if (!backfill.waitFor(30, TimeUnit.MINUTES)) {
        throw new LakeException(
            ErrorCode.INTERNAL_ERROR,
            "The backfill did not end within 30 minutes of Airflow's restart; see "
                + run.log("backfill"));
      }
      if (backfill.exitValue() != 0) {
        throw new LakeException(
            ErrorCode.INTERNAL_ERROR,
            "lake backfill --wait exited "
                + backfill.exitValue()
                + " after Airflow's restart; see "
                + run.log("backfill"));
      }
      String after = Files.readString(run.log("backfill"));
      System.err.printf(
          "chaos: %s: the backfill went on after the restart (%s)%n",
          name(),
          after
              .lines()
              .filter(line -> line.startsWith("Airflow answers again") || line.contains("(try "))
              .map(String::strip)
              .reduce((one, two) -> one + "; " + two)
              .orElse("no retry seen"));
    } finally {
      if (backfill != null && backfill.isAlive()) {
        ChaosRun.killHard(backfill);
      }
      airflow.stop();
    }
    return ledger
        .checkRaw()
        .plus(ledger.checkEventsHourly(LakeTable.BATCH_EVENTS_HOURLY, from, to));
  }

  /** The backfill DAG's day tasks running now, over its active runs. */
  private static long runningDays(AirflowClient client, String dag) {
    long running = 0;
    for (AirflowClient.DagRun run : client.runs(dag, List.of("running"), 5)) {
      running +=
          client.taskInstances(dag, run.runId()).stream()
              .filter(instance -> instance.mapIndex() >= 0)
              .filter(instance -> instance.state().orElse("").equals("running"))
              .count();
    }
    return running;
  }

  /** SIGKILL to every process of the server, the task processes under it first. */
  private static void killTree(AirflowServer airflow) {
    ProcessHandle server =
        airflow
            .process()
            .orElseThrow(
                () ->
                    new LakeException(
                        ErrorCode.INTERNAL_ERROR, "The run's Airflow is not running"));
    List<ProcessHandle> processes = server.descendants().toList();
    processes.forEach(ProcessHandle::destroyForcibly);
    server.destroyForcibly();
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> !server.isAlive() && processes.stream().noneMatch(ProcessHandle::isAlive));
  }

  private static int freePort() {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
