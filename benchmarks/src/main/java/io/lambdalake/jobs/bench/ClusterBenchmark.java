package io.lambdalake.jobs.bench;

import static org.awaitility.Awaitility.await;

import io.lambdalake.batch.BatchJob;
import io.lambdalake.chaos.ChaosRun;
import io.lambdalake.chaos.EventLedger;
import io.lambdalake.chaos.KillMaxwellCdc;
import io.lambdalake.chaos.Tally;
import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.config.LakeConfigLoader;
import io.lambdalake.common.config.LakeCopy;
import io.lambdalake.common.launch.ExitCode;
import io.lambdalake.common.table.LakeTable;
import io.lambdalake.ingestion.cdc.CdcJob;
import io.lambdalake.spark.LakeSpark;
import io.lambdalake.speed.SpeedJob;
import io.lambdalake.stack.LocalStack;
import io.lambdalake.stack.ManagedServer;
import io.lambdalake.stack.SparkMasterStatus;
import io.lambdalake.stack.SparkStandaloneServer;
import io.lambdalake.stack.testing.ClusterSubmit;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import org.apache.spark.sql.SparkSession;

/**
 * {@code scripts/bench cluster [--events N] [--changes M]}: the lake's jobs on the local stack's
 * Spark standalone cluster in cluster deploy mode, under faults, counted from the data.
 *
 * <p>The landing and speed views ({@code lake speed}) and CDC ({@code lake cdc}) run supervised
 * ({@code --supervise}); events go to Kafka as the collector would accept them and row changes to
 * MariaDB (Maxwell carries them to Kafka). Each streaming driver's JVM is killed once (kill -9) and
 * comes back by supervision; then the batch job runs and a worker (one not running the batch's
 * driver, whose loss nothing would repair) is killed mid-batch and started again; more events and
 * changes follow. Every application's end is read from the master's status; every accepted event
 * must be in raw.events exactly once, every source row equal in the mirror, and the batch view must
 * equal a recompute from raw.events (the chaos module's counting). The baseline is the same load in
 * local mode (the CLI's jobs, one after the other, no faults). Last line:
 *
 * <pre>cluster: jobs=N succeeded=N lost=0 duplicated=0 verify=passed</pre>
 */
public final class ClusterBenchmark {
  private static final Duration CATCH_UP = Duration.ofMinutes(25);
  private static final Duration DRIVER_TIMEOUT = Duration.ofMinutes(30);

  private final LakeConfig base;
  private final LocalStack stack;
  private final SparkSession spark;
  private final Path logs;
  private final PrintStream out;
  private final Instant started = Instant.now();

  private ClusterBenchmark(LocalStack stack, SparkSession spark, Path logs, PrintStream out) {
    this.base = stack.config();
    this.stack = stack;
    this.spark = spark;
    this.logs = logs;
    this.out = out;
  }

  public static void main(String[] arguments) throws Exception {
    int events = 20_000;
    int changes = 2_000;
    boolean baselineToo = true;
    for (int i = 0; i < arguments.length; i++) {
      switch (arguments[i]) {
        case "--events" -> events = Integer.parseInt(arguments[++i]);
        case "--changes" -> changes = Integer.parseInt(arguments[++i]);
        case "--no-baseline" -> baselineToo = false;
        default -> {
          System.err.println(
              "usage: scripts/bench cluster [--events N] [--changes M] [--no-baseline]");
          System.exit(ExitCode.USER_ERROR.code());
        }
      }
    }
    LocalStack stack = LocalStack.fromConfiguration();
    Path checkout = LakeConfigLoader.confDirectory(System.getenv()).getParent();
    Path logs = stack.config().localDirectory().resolve("logs").resolve("bench-cluster");
    SparkSession spark = LakeSpark.session(stack.config(), "lambda-lake-bench-cluster");
    ClusterBenchmark benchmark = new ClusterBenchmark(stack, spark, logs, System.out);
    boolean clean;
    try {
      clean = benchmark.run(checkout, events, changes, baselineToo);
    } catch (Exception | AssertionError e) {
      // One line; the stack trace goes to the log with Spark's output.
      e.printStackTrace();
      System.out.println("cluster: failed: " + e);
      System.exit(ExitCode.INTERNAL_ERROR.code());
      return;
    } finally {
      spark.stop();
    }
    System.exit(clean ? 0 : ExitCode.QUALITY_CHECK_FAILED.code());
  }

  /** Runs the baseline (unless left out) and the cluster; prints the summary lines. */
  private boolean run(Path checkout, int events, int changes, boolean baselineToo)
      throws Exception {
    Optional<Result> baseline =
        baselineToo ? Optional.of(localBaseline(events, changes)) : Optional.empty();
    Result cluster = onTheCluster(ClusterSubmit.jobsJar(checkout), events, changes);
    if (baseline.isPresent()) {
      System.out.printf(
          Locale.ROOT,
          "cluster_seconds=%.0f local_seconds=%.0f ratio=%.2f (local: %s)%n",
          cluster.seconds(),
          baseline.get().seconds(),
          cluster.seconds() / baseline.get().seconds(),
          baseline.get().line());
    } else {
      System.out.printf(Locale.ROOT, "cluster_seconds=%.0f (no baseline)%n", cluster.seconds());
    }
    System.out.println("cluster: " + cluster.line());
    return cluster.clean() && baseline.map(Result::clean).orElse(true);
  }

  /** What one run found: jobs judged, counts from the data, and how long the load took. */
  record Result(int jobs, int succeeded, Tally tally, boolean verified, double seconds) {
    boolean clean() {
      return jobs == succeeded && tally.clean() && verified;
    }

    String line() {
      return "jobs="
          + jobs
          + " succeeded="
          + succeeded
          + " lost="
          + tally.lost()
          + " duplicated="
          + tally.duplicated()
          + (tally.diverged() > 0 ? " diverged=" + tally.diverged() : "")
          + " verify="
          + (verified ? "passed" : "failed");
    }
  }

  /** The days the events fall on: the two whole days before today, which the batch job covers. */
  private record Days(LocalDate first, LocalDate last) {
    static Days beforeToday() {
      LocalDate today = LocalDate.now(ZoneOffset.UTC);
      return new Days(today.minusDays(2), today.minusDays(1));
    }

    Instant from() {
      return first.atStartOfDay(ZoneOffset.UTC).toInstant();
    }

    Instant to() {
      return last.plusDays(1).atStartOfDay(ZoneOffset.UTC).toInstant();
    }
  }

  /** A run of its own: event topics, storage root, checkpoints, and a MariaDB database. */
  private ChaosRun newRun(String kind) throws IOException {
    String name = "bench-cluster-" + kind + "-" + UUID.randomUUID().toString().substring(0, 8);
    Map<String, String> overrides = new HashMap<>();
    overrides.put("lake.topics.events-prefix", name + ".events.");
    overrides.put("lake.topics.events-other", name + ".events.other");
    overrides.put("lake.topics.events-quarantine", name + ".events.quarantine");
    overrides.putAll(LakeCopy.overrides(base.s3().bucket(), name));
    Files.createDirectories(logs);
    return new ChaosRun(
        name, LakeConfigLoader.load(System.getenv(), overrides), overrides, spark, logs);
  }

  private static String databaseOf(ChaosRun run) {
    return run.name().replaceAll("[^a-z0-9]", "_");
  }

  /** The same load with the CLI's jobs in local mode, one after the other, without faults. */
  Result localBaseline(int events, int changes) throws Exception {
    ChaosRun run = newRun("local");
    Days days = Days.beforeToday();
    EventLedger ledger =
        new EventLedger(run, 61, days.from(), Duration.between(days.from(), days.to()));
    String database = databaseOf(run);
    String mirror = run.config().storage().tableLocation("mirror", database + "__items");
    progress(
        "baseline: "
            + events
            + " events, "
            + changes
            + " row changes in local mode ("
            + run.name()
            + ")");
    try (Connection source = KillMaxwellCdc.connect(run.config().mariaDb())) {
      createSourceTable(source, database);
      Instant start = Instant.now();
      ledger.produce(events);
      KillMaxwellCdc.workload(source, database, new Random(5), changes);
      run.runToEnd(SpeedJob.class, "local-speed", "--available-now");
      Tally mirrored = Tally.CLEAN;
      Instant deadline = Instant.now().plus(CATCH_UP);
      int rounds = 0;
      do {
        run.runToEnd(
            CdcJob.class,
            "local-cdc-" + ++rounds,
            "--sources=maxwell",
            "--databases=" + database,
            "--available-now");
        mirrored = KillMaxwellCdc.compare(run, source, database, mirror);
      } while (!mirrored.clean() && Instant.now().isBefore(deadline));
      run.runToEnd(BatchJob.class, "local-batch", "--from=" + days.first(), "--to=" + days.last());
      double seconds = Duration.between(start, Instant.now()).toMillis() / 1000.0;
      Tally verify =
          ledger.checkEventsHourly(LakeTable.BATCH_EVENTS_HOURLY, days.from(), days.to());
      KillMaxwellCdc.execute(source, "DROP DATABASE " + database);
      Tally tally = ledger.checkRaw().plus(mirrored).plus(verify);
      progress("baseline: done in " + Math.round(seconds) + " s, " + tally.toLine());
      return new Result(3, 3, tally, verify.clean(), seconds);
    }
  }

  /** The load on the cluster, with the faults. */
  Result onTheCluster(Path jobsJar, int events, int changes) throws Exception {
    stack.start(SparkStandaloneServer.names(), report -> {});
    ChaosRun run = newRun("spark");
    Days days = Days.beforeToday();
    EventLedger ledger =
        new EventLedger(run, 62, days.from(), Duration.between(days.from(), days.to()));
    Instant now = Instant.now();
    EventLedger today =
        new EventLedger(run, 63, now.minus(Duration.ofMinutes(30)), Duration.ofMinutes(30));
    String database = databaseOf(run);
    String mirror = run.config().storage().tableLocation("mirror", database + "__items");
    ClusterSubmit cluster = new ClusterSubmit(base, jobsJar, logs.resolve(run.name()));
    String configuration = cluster.uploadConfiguration(run.name() + "/lake.conf", run.overrides());
    progress(
        "cluster: "
            + events
            + " events, "
            + changes
            + " row changes ("
            + run.name()
            + "), configuration "
            + configuration);
    Random random = new Random(6);
    List<ClusterSubmit.Submitted> streams = new ArrayList<>();
    try (Connection source = KillMaxwellCdc.connect(run.config().mariaDb())) {
      createSourceTable(source, database);
      Instant start = Instant.now();
      ClusterSubmit.Submitted speed =
          cluster.submit(
              new ClusterSubmit.Submission(
                  "speed",
                  SpeedJob.class.getName(),
                  "lambda-lake-speed",
                  List.of("--trigger=2s", "--max-records-per-batch=20000", "--progress=10s"),
                  configuration,
                  true,
                  Map.of()));
      streams.add(speed);
      ClusterSubmit.Submitted cdc =
          cluster.submit(
              new ClusterSubmit.Submission(
                  "cdc",
                  CdcJob.class.getName(),
                  "lambda-lake-cdc",
                  List.of(
                      "--sources=maxwell",
                      "--databases=" + database,
                      "--trigger=2s",
                      "--progress=10s"),
                  configuration,
                  true,
                  Map.of()));
      streams.add(cdc);
      progress("cluster: submitted speed as " + speed.driverId() + ", cdc as " + cdc.driverId());

      produce(ledger, events / 2);
      KillMaxwellCdc.workload(source, database, random, changes / 2);
      awaitRows(run, LakeTable.RAW_EVENTS.location(run.config().storage()), "raw.events");
      killDriverJvm(cluster, speed);
      produce(ledger, events / 4);
      awaitRows(run, mirror, "the mirror");
      killDriverJvm(cluster, cdc);
      KillMaxwellCdc.workload(source, database, random, changes / 4);
      // The batch reads what landed: it starts once every event of its days is in raw.events.
      Tally beforeBatch = awaitCaughtUp(run, List.of(ledger), source, database, mirror);
      if (!beforeBatch.clean()) {
        throw new IllegalStateException(
            "the streams did not catch up within " + CATCH_UP + ": " + beforeBatch.toLine());
      }

      ClusterSubmit.Submitted batch =
          cluster.submit(
              new ClusterSubmit.Submission(
                  "batch",
                  BatchJob.class.getName(),
                  "lambda-lake-batch",
                  List.of("--from=" + days.first(), "--to=" + days.last()),
                  configuration,
                  false,
                  Map.of()));
      progress("cluster: submitted batch as " + batch.driverId());
      killWorkerMidBatch(cluster, batch);
      // More load after the worker came back, on today (after the batch's days).
      produce(today, events - events / 2 - events / 4);
      KillMaxwellCdc.workload(source, database, random, changes - changes / 2 - changes / 4);
      ClusterSubmit.Outcome batchOutcome = cluster.awaitOutcome(batch, DRIVER_TIMEOUT);
      progress("cluster: batch " + batchOutcome.describe());
      Tally caughtUp = awaitCaughtUp(run, List.of(ledger, today), source, database, mirror);
      double seconds = Duration.between(start, Instant.now()).toMillis() / 1000.0;

      int succeeded = batchOutcome.succeeded() ? 1 : 0;
      for (ClusterSubmit.Submitted stream : streams) {
        succeeded += stoppedWhileRunning(cluster, stream) ? 1 : 0;
      }
      streams.clear();
      Tally verify =
          ledger.checkEventsHourly(LakeTable.BATCH_EVENTS_HOURLY, days.from(), days.to());
      KillMaxwellCdc.execute(source, "DROP DATABASE " + database);
      Tally tally = caughtUp.plus(verify);
      return new Result(3, succeeded, tally, verify.clean(), seconds);
    } finally {
      for (ClusterSubmit.Submitted stream : streams) {
        cluster.kill(cluster.follow(stream).driverId());
      }
    }
  }

  /**
   * Produces events until Kafka acknowledged {@code events} more. A send Kafka did not acknowledge
   * in time (seen on the loaded machine) is an event the collector would have refused with 503: not
   * counted, and sent again as a new event.
   */
  private void produce(EventLedger ledger, int events) throws InterruptedException {
    int target = ledger.accepted() + events;
    for (int attempt = 1; ledger.accepted() < target; attempt++) {
      try {
        ledger.produce(target - ledger.accepted());
      } catch (ExecutionException e) {
        if (attempt == 5) {
          throw new IllegalStateException("Kafka did not acknowledge events 5 times", e);
        }
        progress(
            "cluster: Kafka did not acknowledge some events (" + e.getCause() + "); sending more");
      }
    }
  }

  private static void createSourceTable(Connection source, String database) throws Exception {
    KillMaxwellCdc.execute(
        source,
        "CREATE DATABASE " + database,
        "CREATE TABLE "
            + database
            + ".items (id INT PRIMARY KEY, qty INT NOT NULL, note VARCHAR(40))");
  }

  private void awaitRows(ChaosRun run, String location, String what) {
    await()
        .atMost(CATCH_UP)
        .pollInterval(Duration.ofSeconds(2))
        .until(() -> run.rows(location) > 0);
    progress("cluster: " + what + " has its first rows");
  }

  /** Waits until raw.events holds every accepted event and the mirror equals its source. */
  private Tally awaitCaughtUp(
      ChaosRun run, List<EventLedger> ledgers, Connection source, String database, String mirror)
      throws Exception {
    Instant deadline = Instant.now().plus(CATCH_UP);
    while (true) {
      Tally tally = KillMaxwellCdc.compare(run, source, database, mirror);
      int accepted = 0;
      for (EventLedger ledger : ledgers) {
        tally = tally.plus(ledger.checkRaw());
        accepted += ledger.accepted();
      }
      if (tally.clean() || Instant.now().isAfter(deadline)) {
        progress(
            "cluster: "
                + (tally.clean() ? "caught up: " : "not caught up in time: ")
                + accepted
                + " events, "
                + tally.toLine());
        return tally;
      }
      Thread.sleep(5_000);
    }
  }

  /**
   * kill -9 of a supervised driver's JVM; the worker starts it again (same driver id) and the
   * master shows it RUNNING with a new application.
   */
  private void killDriverJvm(ClusterSubmit cluster, ClusterSubmit.Submitted driver)
      throws Exception {
    ProcessHandle jvm =
        await()
            .atMost(Duration.ofMinutes(2))
            .until(() -> ClusterSubmit.driverProcess(driver.driverId()), Optional::isPresent)
            .orElseThrow();
    jvm.destroyForcibly();
    jvm.onExit().join();
    progress(
        "cluster: killed the JVM of "
            + driver.submission().label()
            + " ("
            + driver.driverId()
            + ", pid "
            + jvm.pid()
            + ") with kill -9");
    ProcessHandle again =
        await()
            .atMost(Duration.ofMinutes(3))
            .pollInterval(Duration.ofSeconds(1))
            .until(
                () -> ClusterSubmit.driverProcess(driver.driverId()).filter(ProcessHandle::isAlive),
                process -> process.isPresent() && process.get().pid() != jvm.pid())
            .orElseThrow();
    progress("cluster: supervision started " + driver.driverId() + " again as pid " + again.pid());
  }

  /**
   * Once the batch driver runs, kills (kill -9) a worker that does not run it, mid-batch, and
   * starts the worker again: the executors and supervised drivers it ran start elsewhere.
   */
  private void killWorkerMidBatch(ClusterSubmit cluster, ClusterSubmit.Submitted batch)
      throws Exception {
    String batchWorker =
        await()
            .atMost(Duration.ofMinutes(3))
            .pollInterval(Duration.ofSeconds(1))
            .until(
                () ->
                    cluster
                        .status()
                        .driver(batch.driverId())
                        .filter(driver -> driver.state().equals("RUNNING"))
                        .flatMap(SparkMasterStatus.Driver::worker),
                Optional::isPresent)
            .orElseThrow();
    // Mid-batch: the batch's application has started its work.
    await()
        .atMost(Duration.ofMinutes(5))
        .pollInterval(Duration.ofSeconds(1))
        .until(() -> !cluster.outcome(batch, "RUNNING", cluster.status()).applications().isEmpty());
    Thread.sleep(15_000);
    SparkMasterStatus status = cluster.status();
    SparkMasterStatus.Worker victim =
        status.workers().stream()
            .filter(SparkMasterStatus.Worker::alive)
            .filter(worker -> !worker.id().equals(batchWorker))
            .findFirst()
            .orElseThrow(() -> new IllegalStateException("no second live worker to kill"));
    String name =
        SparkStandaloneServer.workerName(
            victim.port() - base.stack().sparkCluster().workerPort() + 1);
    ManagedServer server = stack.server(name);
    ProcessHandle process = server.process().orElseThrow();
    process.destroyForcibly();
    process.onExit().join();
    progress(
        "cluster: killed "
            + name
            + " ("
            + victim.id()
            + ", pid "
            + process.pid()
            + ") with kill -9 while the batch runs on "
            + batchWorker);
    stack.start(List.of(name), report -> {});
    progress("cluster: " + name + " started again");
  }

  /**
   * A streaming driver is judged by what the master says at the end: still RUNNING (it survived its
   * kill and the worker's), then killed through the master as an operator stops it.
   */
  private boolean stoppedWhileRunning(ClusterSubmit cluster, ClusterSubmit.Submitted submitted)
      throws Exception {
    ClusterSubmit.Submitted stream = cluster.follow(submitted);
    if (!stream.driverId().equals(submitted.driverId())) {
      progress(
          "cluster: "
              + submitted.submission().label()
              + " was relaunched after its worker was lost: "
              + submitted.driverId()
              + " RELAUNCHING, now "
              + stream.driverId());
    }
    Optional<SparkMasterStatus.Driver> driver = cluster.status().driver(stream.driverId());
    boolean running = driver.map(d -> d.state().equals("RUNNING")).orElse(false);
    cluster.kill(stream.driverId());
    String end =
        await()
            .atMost(Duration.ofMinutes(2))
            .pollInterval(Duration.ofSeconds(1))
            .until(
                () ->
                    cluster.status().driver(stream.driverId()).map(SparkMasterStatus.Driver::state),
                state ->
                    state.filter(s -> !s.equals("RUNNING") && !s.equals("RELAUNCHING")).isPresent())
            .orElseThrow();
    ClusterSubmit.Outcome outcome = cluster.outcome(stream, end, cluster.status());
    boolean failedApplication =
        outcome.applications().stream()
            .anyMatch(application -> application.state().equals("FAILED"));
    progress(
        "cluster: "
            + stream.submission().label()
            + " was "
            + driver.map(SparkMasterStatus.Driver::state).orElse("unknown")
            + " before it was stopped; now "
            + outcome.describe());
    return running && end.equals("KILLED") && !failedApplication;
  }

  private void progress(String line) {
    out.printf(
        Locale.ROOT, "[%4ds] %s%n", Duration.between(started, Instant.now()).toSeconds(), line);
    out.flush();
  }
}
