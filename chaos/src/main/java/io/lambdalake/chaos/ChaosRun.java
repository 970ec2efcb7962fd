package io.lambdalake.chaos;

import static java.util.Objects.requireNonNull;
import static org.awaitility.Awaitility.await;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.config.LakeConfigLoader;
import io.lambdalake.common.config.LakeCopy;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.spark.DeltaTables;
import io.lambdalake.speed.SpeedJob;
import io.lambdalake.stack.testing.JobProcesses;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.spark.sql.SparkSession;

/**
 * One scenario's own world on the shared stack: its event topics, its storage root and checkpoints
 * under the configured bucket, its job logs, and the driver's SparkSession to read what the jobs
 * wrote. Jobs run in JVMs of their own ({@link JobProcesses}) so that they can be killed for real.
 */
public record ChaosRun(
    String name, LakeConfig config, Map<String, String> overrides, SparkSession spark, Path logs) {
  private static final Duration JOB_TIMEOUT = Duration.ofMinutes(20);

  public ChaosRun {
    requireNonNull(name, "name is null");
    requireNonNull(config, "config is null");
    overrides = Map.copyOf(overrides);
    requireNonNull(spark, "spark is null");
    requireNonNull(logs, "logs is null");
  }

  /** A fresh run for the scenario: new topics and a new storage root in the configured bucket. */
  public static ChaosRun create(String scenario, SparkSession spark, Path logs) throws IOException {
    String name =
        "chaos-" + scenario + "-" + UUID.randomUUID().toString().replace("-", "").substring(0, 8);
    String bucket = LakeConfigLoader.load().s3().bucket();
    Map<String, String> overrides = new HashMap<>();
    overrides.put("lake.topics.events-prefix", name + ".events.");
    overrides.put("lake.topics.events-other", name + ".events.other");
    overrides.put("lake.topics.events-quarantine", name + ".events.quarantine");
    overrides.putAll(LakeCopy.overrides(bucket, name));
    Files.createDirectories(logs);
    return new ChaosRun(
        name, LakeConfigLoader.load(System.getenv(), overrides), overrides, spark, logs);
  }

  /** The same run with more configuration, e.g. tracking IDs for a collector of its own. */
  public ChaosRun with(Map<String, String> more) {
    Map<String, String> all = new HashMap<>(overrides);
    all.putAll(more);
    return new ChaosRun(name, LakeConfigLoader.load(System.getenv(), all), all, spark, logs);
  }

  /** Starts a job's main class in its own JVM with this run's configuration. */
  public Process start(Class<?> job, String logName, String... arguments) throws IOException {
    return JobProcesses.start(job, overrides, List.of(arguments), log(logName));
  }

  /** Runs a job to its end; a non-zero exit is a failed scenario. */
  public void runToEnd(Class<?> job, String logName, String... arguments)
      throws IOException, InterruptedException {
    Process process = start(job, logName, arguments);
    if (!process.waitFor(JOB_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new LakeException(
          ErrorCode.INTERNAL_ERROR,
          job.getSimpleName()
              + " did not finish within "
              + JOB_TIMEOUT
              + " in scenario run "
              + name
              + "; see "
              + log(logName));
    }
    if (process.exitValue() != 0) {
      throw new LakeException(
          ErrorCode.INTERNAL_ERROR,
          job.getSimpleName()
              + " exited with "
              + process.exitValue()
              + " in scenario run "
              + name
              + "; see "
              + log(logName));
    }
  }

  /**
   * Starts the landing ({@code lake speed --queries landing}) in a JVM of its own and returns it
   * once {@code raw.events} holds the ledger's first events; kills it when it does not get there.
   */
  public Process startLanding(EventLedger ledger, long maxRecordsPerBatch) throws Exception {
    Process landing =
        start(
            SpeedJob.class,
            "landing",
            "--queries=landing",
            "--trigger=1s",
            "--max-records-per-batch=" + maxRecordsPerBatch,
            "--progress=2s");
    try {
      await()
          .atMost(Duration.ofMinutes(10))
          .pollInterval(Duration.ofMillis(500))
          .until(() -> !landing.isAlive() || ledger.landed() > 0);
      requireAlive(landing, "The landing job", "landing");
      return landing;
    } catch (Exception | Error e) {
      killHard(landing);
      throw e;
    }
  }

  /** Kills the job with SIGKILL (kill -9) and waits until it is gone. */
  public static void killHard(Process process) throws InterruptedException {
    process.destroyForcibly();
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      throw new LakeException(
          ErrorCode.INTERNAL_ERROR, "Process " + process.pid() + " survived kill -9 for 60 s");
    }
  }

  /** Fails the scenario when the job ended before the fault could hit it mid-batch. */
  public void requireAlive(Process process, String what, String logName) {
    if (!process.isAlive()) {
      throw new LakeException(
          ErrorCode.INTERNAL_ERROR,
          what
              + " ended (exit "
              + process.exitValue()
              + ") before it could be killed mid-batch in scenario run "
              + name
              + "; see "
              + log(logName));
    }
  }

  /** The rows of a Delta table, 0 before its first commit. */
  public long rows(String location) {
    if (!DeltaTables.exists(spark, location)) {
      return 0;
    }
    return spark.read().format("delta").load(location).count();
  }

  public Path log(String logName) {
    return logs.resolve(name + "-" + logName + ".log");
  }
}
