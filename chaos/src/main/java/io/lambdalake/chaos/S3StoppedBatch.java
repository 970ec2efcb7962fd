package io.lambdalake.chaos;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.max;
import static org.awaitility.Awaitility.await;

import io.lambdalake.batch.BatchJob;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.common.launch.ExitCode;
import io.lambdalake.common.table.LakeTable;
import io.lambdalake.spark.DeltaTables;
import io.lambdalake.speed.SpeedJob;
import java.nio.file.Files;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.Map;
import org.apache.spark.sql.Row;

/**
 * s3proxy stopped for {@link ServerOutage#OUTAGE} during a batch day: three past days landed,
 * {@code lake batch} over them, S3 stopped as soon as the first day is published, started again.
 * The batch either rides the outage out or fails with exit 75 (external, retryable) and one line;
 * then the same command again, as the nightly's retry does. batch.events_hourly equals a recompute
 * for the three days, and batch.coverage never moved backwards (each view's covered_until, read
 * before the outage, after the failed run and after the rerun; every step back counts as diverged).
 */
final class S3StoppedBatch implements Scenario {
  private final int events;

  S3StoppedBatch(int events) {
    this.events = events;
  }

  @Override
  public String name() {
    return "s3-stopped-batch";
  }

  @Override
  public Tally run(ChaosRun run) throws Exception {
    LocalDate first = LocalDate.now(ZoneOffset.UTC).minusDays(4);
    LocalDate last = first.plusDays(2);
    Instant from = first.atStartOfDay(ZoneOffset.UTC).toInstant();
    Instant to = last.plusDays(1).atStartOfDay(ZoneOffset.UTC).toInstant();
    EventLedger ledger = new EventLedger(run, 26, from, Duration.between(from, to));
    ledger.produce(events);
    run.runToEnd(SpeedJob.class, "landing", "--queries=landing", "--available-now");
    String[] arguments = {"--from=" + first, "--to=" + last, "--logic-version=chaos"};
    Process batch = run.start(BatchJob.class, "batch", arguments);
    Map<String, Instant> coverage;
    long regressions;
    String outcome;
    try {
      await()
          .atMost(Duration.ofMinutes(15))
          .pollInterval(Duration.ofMillis(50))
          .until(
              () ->
                  !batch.isAlive()
                      || Files.readString(run.log("batch"))
                          .contains("batch " + first + ": published"));
      run.requireAlive(batch, "The batch job", "batch");
      coverage = coverage(run);
      try (ServerOutage outage = ServerOutage.stop("s3proxy")) {
        outage.lastOut();
      }
      await()
          .atMost(Duration.ofMinutes(20))
          .pollInterval(Duration.ofSeconds(1))
          .until(() -> !batch.isAlive());
      outcome = outcome(run, batch);
      Map<String, Instant> afterOutage = coverage(run);
      regressions = regressions(coverage, afterOutage);
      coverage = afterOutage;
    } finally {
      ChaosRun.killHard(batch);
    }
    run.runToEnd(BatchJob.class, "rerun", arguments);
    regressions += regressions(coverage, coverage(run));
    System.err.printf("chaos: %s the batch %s%n", name(), outcome);
    return ledger
        .checkRaw()
        .plus(ledger.checkEventsHourly(LakeTable.BATCH_EVENTS_HOURLY, from, to))
        .plus(new Tally(0, 0, regressions));
  }

  /** Exit 0 (rode it out) or 75 with one line; anything else fails the scenario. */
  private static String outcome(ChaosRun run, Process batch) throws Exception {
    int exit = batch.exitValue();
    String lastLine = ServerOutage.lastLine(run.log("batch"));
    if (exit == ExitCode.SUCCESS.code()) {
      return "rode it out";
    }
    if (exit != ExitCode.EXTERNAL.code()) {
      throw new LakeException(
          ErrorCode.INTERNAL_ERROR,
          "The batch job exited "
              + exit
              + " after S3 was stopped, not 75 (external, retryable): "
              + lastLine
              + " (scenario run "
              + run.name()
              + "; see "
              + run.log("batch")
              + ")");
    }
    return "exited 75 with: " + lastLine;
  }

  /** Each view's covered_until in batch.coverage (none before the first publication). */
  private static Map<String, Instant> coverage(ChaosRun run) {
    String location = LakeTable.BATCH_COVERAGE.location(run.config().storage());
    Map<String, Instant> coverage = new HashMap<>();
    if (!DeltaTables.exists(run.spark(), location)) {
      return coverage;
    }
    for (Row row :
        run.spark()
            .read()
            .format("delta")
            .load(location)
            .groupBy(col("view"))
            .agg(max(col("covered_until")).as("covered_until"))
            .collectAsList()) {
      coverage.put(row.getString(0), ((Timestamp) row.get(1)).toInstant());
    }
    return coverage;
  }

  /** Views whose coverage moved backwards (or vanished) between two readings. */
  private static long regressions(Map<String, Instant> before, Map<String, Instant> after) {
    return before.entrySet().stream()
        .filter(
            entry ->
                !after.containsKey(entry.getKey())
                    || after.get(entry.getKey()).isBefore(entry.getValue()))
        .count();
  }
}
