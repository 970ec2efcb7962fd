package io.lambdalake.orchestration;

import static java.util.Objects.requireNonNull;

import io.lambdalake.common.config.AirflowConfig;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import java.io.PrintWriter;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A backfill through Airflow: checks that the backfill DAG exists and nothing of it runs, triggers
 * one run with the range as its params, and while waiting prints each day's state as it changes.
 */
public final class Backfills {
  /** The views the batch job recomputes (all of them, together). */
  public static final List<String> VIEWS = List.of("events_hourly", "pages_hourly");

  private static final List<String> ACTIVE = List.of("queued", "running");
  private static final DateTimeFormatter RUN_ID_TIME =
      DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);

  private final AirflowClient client;
  private final AirflowConfig config;
  private final PrintWriter out;
  private final Clock clock;

  public Backfills(AirflowClient client, AirflowConfig config, PrintWriter out, Clock clock) {
    this.client = requireNonNull(client, "client is null");
    this.config = requireNonNull(config, "config is null");
    this.out = requireNonNull(out, "out is null");
    this.clock = requireNonNull(clock, "clock is null");
  }

  /** What to recompute; the DAG's params, one to one. */
  public record Request(LocalDate from, LocalDate to, String logicVersion, List<String> views) {
    public Request {
      requireNonNull(from, "from is null");
      requireNonNull(to, "to is null");
      if (to.isBefore(from)) {
        throw new LakeException(
            ErrorCode.INVALID_ARGUMENT, "--to " + to + " is before --from " + from);
      }
      requireNonNull(logicVersion, "logicVersion is null");
      if (logicVersion.isBlank()) {
        throw new LakeException(ErrorCode.INVALID_ARGUMENT, "--logic-version is empty");
      }
      views = List.copyOf(requireNonNull(views, "views is null"));
      if (!views.stream().allMatch(VIEWS::contains) || !views.containsAll(VIEWS)) {
        throw new LakeException(
            ErrorCode.INVALID_ARGUMENT,
            "--views "
                + String.join(",", views)
                + " is not supported: the batch job recomputes "
                + String.join(" and ", VIEWS)
                + " together");
      }
    }

    public long days() {
      return ChronoUnit.DAYS.between(from, to) + 1;
    }

    Map<String, Object> conf() {
      Map<String, Object> conf = new LinkedHashMap<>();
      conf.put("from", from.toString());
      conf.put("to", to.toString());
      conf.put("logic_version", logicVersion);
      conf.put("views", views);
      return conf;
    }
  }

  /** Triggers the backfill DAG; refuses while one of its runs is queued or running. */
  public AirflowClient.DagRun trigger(Request request) {
    String dagId = config.backfillDag();
    AirflowClient.Dag dag = client.dag(dagId);
    List<AirflowClient.DagRun> active = client.runs(dagId, ACTIVE, 5);
    if (!active.isEmpty()) {
      AirflowClient.DagRun running = active.get(0);
      throw new LakeException(
          ErrorCode.ORCHESTRATION_CONFLICT,
          "A backfill is already "
              + running.state()
              + ": run "
              + running.runId()
              + " ("
              + running.conf().getOrDefault("from", "?")
              + ".."
              + running.conf().getOrDefault("to", "?")
              + "); wait for it (`lake dags status`) or stop it in the Airflow UI");
    }
    if (dag.paused()) {
      client.unpause(dagId);
      out.println("Unpaused " + dagId + " (it has no schedule: it runs only when triggered).");
    }
    String runId =
        "lake_backfill__"
            + request.from()
            + "_"
            + request.to()
            + "__"
            + RUN_ID_TIME.format(clock.instant());
    AirflowClient.DagRun run = client.trigger(dagId, runId, request.conf());
    out.printf(
        "Triggered %s run %s: %s..%s (%d day(s)), logic version %s%n  %s/dags/%s/runs/%s%n",
        dagId,
        run.runId(),
        request.from(),
        request.to(),
        request.days(),
        request.logicVersion(),
        config.url(),
        dagId,
        run.runId());
    out.flush();
    return run;
  }

  /**
   * Waits for the run, printing each task's state when it changes; returns when it succeeded and
   * throws with the first failed day's reason when it failed. While Airflow does not answer (it was
   * stopped or restarts) it says so once and goes on asking for {@code lake.airflow.outage-wait}:
   * the run is kept in Airflow's database and goes on when Airflow is back.
   */
  public AirflowClient.DagRun await(AirflowClient.DagRun triggered) {
    String dagId = triggered.dagId();
    Instant started = clock.instant();
    Map<String, String> printed = new HashMap<>();
    Instant silentSince = null;
    String lastState = triggered.state();
    while (true) {
      AirflowClient.DagRun run;
      List<AirflowClient.TaskInstance> instances;
      try {
        run = client.run(dagId, triggered.runId());
        instances = client.taskInstances(dagId, run.runId());
      } catch (LakeException e) {
        if (e.errorCode() != ErrorCode.SERVER_NOT_AVAILABLE) {
          throw e;
        }
        if (silentSince == null) {
          silentSince = clock.instant();
          out.printf(
              "Airflow stopped answering while run %s was %s: %s%n  The run is kept in Airflow's"
                  + " database and goes on when Airflow is back; asking again every %s for up to"
                  + " %s (lake.airflow.outage-wait).%n",
              triggered.runId(),
              lastState,
              e.getMessage(),
              AirflowClient.human(config.pollInterval()),
              AirflowClient.human(config.outageWait()));
          out.flush();
        }
        Duration silent = Duration.between(silentSince, clock.instant());
        if (silent.compareTo(config.outageWait()) >= 0) {
          throw new LakeException(
              ErrorCode.SERVER_NOT_AVAILABLE,
              "Airflow at "
                  + config.url()
                  + " has not answered for "
                  + AirflowClient.human(silent)
                  + " while backfill run "
                  + triggered.runId()
                  + " was not finished: start Airflow again (the run goes on by itself), then"
                  + " follow it with `lake backfill --follow "
                  + triggered.runId()
                  + "`",
              e);
        }
        pause(config.pollInterval());
        continue;
      }
      if (silentSince != null) {
        out.printf(
            "Airflow answers again after %s; run %s is %s.%n",
            AirflowClient.human(Duration.between(silentSince, clock.instant())),
            run.runId(),
            run.state());
        out.flush();
        silentSince = null;
      }
      lastState = run.state();
      printChanges(instances, printed, started);
      if (run.state().equals("success")) {
        long days =
            instances.stream()
                .filter(instance -> instance.mapIndex() >= 0)
                .filter(instance -> instance.state().orElse("").equals("success"))
                .count();
        out.printf(
            "Backfill succeeded: %d day(s) recomputed in %s%n",
            days, AirflowClient.human(Duration.between(started, clock.instant())));
        out.flush();
        return run;
      }
      if (run.state().equals("failed")) {
        throw new LakeException(ErrorCode.ORCHESTRATION_RUN_FAILED, failure(run, instances));
      }
      pause(config.pollInterval());
    }
  }

  /** A run of the backfill DAG that was triggered before, to follow with {@link #await}. */
  public AirflowClient.DagRun existing(String runId) {
    AirflowClient.DagRun run = client.run(config.backfillDag(), runId);
    out.printf(
        "Following %s run %s (%s..%s): %s%n  %s/dags/%s/runs/%s%n",
        run.dagId(),
        run.runId(),
        run.conf().getOrDefault("from", "?"),
        run.conf().getOrDefault("to", "?"),
        run.state(),
        config.url(),
        run.dagId(),
        run.runId());
    out.flush();
    return run;
  }

  private void printChanges(
      List<AirflowClient.TaskInstance> instances, Map<String, String> printed, Instant started) {
    for (AirflowClient.TaskInstance instance : instances) {
      String state = instance.state().orElse("scheduled");
      String shown =
          state + (instance.tryNumber() > 1 ? " (try " + instance.tryNumber() + ")" : "");
      String key = instance.taskId() + "/" + instance.mapIndex();
      if (!shown.equals(printed.get(key))) {
        printed.put(key, shown);
        out.printf(
            "  [%6s] %-22s %s%n",
            AirflowClient.human(Duration.between(started, clock.instant())),
            instance.label(),
            shown);
      }
    }
    out.flush();
  }

  private String failure(AirflowClient.DagRun run, List<AirflowClient.TaskInstance> instances) {
    Optional<AirflowClient.TaskInstance> failed =
        instances.stream()
            .filter(instance -> instance.state().orElse("").equals("failed"))
            .findFirst();
    String where =
        failed
            .map(
                instance ->
                    instance.label().equals(instance.taskId())
                        ? "task " + instance.taskId()
                        : "day " + instance.label())
            .orElse("a task");
    String reason =
        failed
            .flatMap(instance -> reason(client.log(run.dagId(), run.runId(), instance)))
            .orElse("see the task's log");
    return "Backfill run "
        + run.runId()
        + " failed at "
        + where
        + ": "
        + reason
        + " ("
        + config.url()
        + "/dags/"
        + run.dagId()
        + "/runs/"
        + run.runId()
        + ")";
  }

  /** The line of a task log that says why it failed, as the job or the DAG wrote it. */
  static Optional<String> reason(List<String> log) {
    List<String> markers =
        List.of("lake batch: ", "Quality check failed", "ValueError: ", "AirflowFailException: ");
    for (String marker : markers) {
      for (int index = log.size() - 1; index >= 0; index--) {
        String line = log.get(index);
        int at = line.indexOf(marker);
        if (at >= 0) {
          String reason =
              marker.endsWith(": ") ? line.substring(at + marker.length()) : line.substring(at);
          return Optional.of(shorten(reason.strip()));
        }
      }
    }
    return Optional.empty();
  }

  private static String shorten(String text) {
    return text.length() <= 400 ? text : text.substring(0, 400) + "...";
  }

  private static void pause(Duration duration) {
    try {
      Thread.sleep(duration.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new LakeException(ErrorCode.INTERNAL_ERROR, "Interrupted while waiting for Airflow", e);
    }
  }
}
