package io.lambdalake.chaos;

import static org.apache.spark.sql.functions.col;

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
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.spark.sql.Row;

/**
 * The nightly batch and a backfill started together: {@code lake batch --from D-3 --to D-1}
 * (yesterday and the two late days before it) and {@code lake batch --from D-5 --to D-2} in two
 * JVMs at once, over overlapping days. One takes the batch lease, the other fails at once with
 * LEASE_HELD (exit 75); the loser run again, as Airflow retries it, succeeds. batch.coverage is
 * sampled while they run and must never move backwards (each step back is counted as diverged);
 * afterwards every accepted event once in raw.events and batch.events_hourly equal to a recompute
 * over the six days.
 */
final class NightlyAndBackfill implements Scenario {
  private final int events;

  NightlyAndBackfill(int events) {
    this.events = events;
  }

  @Override
  public String name() {
    return "nightly-and-backfill";
  }

  @Override
  public Tally run(ChaosRun run) throws Exception {
    LocalDate today = LocalDate.now(ZoneOffset.UTC);
    LocalDate first = today.minusDays(5);
    Instant from = first.atStartOfDay(ZoneOffset.UTC).toInstant();
    Instant to = today.atStartOfDay(ZoneOffset.UTC).toInstant();
    EventLedger ledger = new EventLedger(run, 41, from, Duration.between(from, to));
    ledger.produce(events);
    run.runToEnd(SpeedJob.class, "landing", "--queries=landing", "--available-now");

    // The nightly's days (yesterday and the two late days), pinned as its DAG pins them.
    String[] nightly = {"--from=" + today.minusDays(3), "--to=" + today.minusDays(1)};
    String[] backfill = {"--from=" + first, "--to=" + today.minusDays(2)};
    Process nightlyJob = run.start(BatchJob.class, "nightly", nightly);
    Process backfillJob = run.start(BatchJob.class, "backfill", backfill);
    List<Instant> coverage = new ArrayList<>();
    Instant deadline = Instant.now().plus(Duration.ofMinutes(45));
    while ((nightlyJob.isAlive() || backfillJob.isAlive()) && Instant.now().isBefore(deadline)) {
      sampleCoverage(run).ifPresent(coverage::add);
      nightlyJob.waitFor(500, TimeUnit.MILLISECONDS);
    }
    if (nightlyJob.isAlive() || backfillJob.isAlive()) {
      ChaosRun.killHard(nightlyJob);
      ChaosRun.killHard(backfillJob);
      throw new LakeException(
          ErrorCode.INTERNAL_ERROR,
          "The nightly and the backfill did not both end within 45 minutes in scenario run "
              + run.name());
    }
    sampleCoverage(run).ifPresent(coverage::add);
    int nightlyExit = nightlyJob.exitValue();
    int backfillExit = backfillJob.exitValue();
    String loser;
    String[] loserArguments;
    if (nightlyExit == 0 && backfillExit == ExitCode.EXTERNAL.code()) {
      loser = "backfill";
      loserArguments = backfill;
    } else if (backfillExit == 0 && nightlyExit == ExitCode.EXTERNAL.code()) {
      loser = "nightly";
      loserArguments = nightly;
    } else {
      throw new LakeException(
          ErrorCode.INTERNAL_ERROR,
          "Expected one batch writer to succeed and the other to fail with LEASE_HELD (exit 75);"
              + " the nightly exited "
              + nightlyExit
              + ", the backfill "
              + backfillExit
              + " in scenario run "
              + run.name()
              + "; see "
              + run.log("nightly")
              + " and "
              + run.log("backfill"));
    }
    String refused = Files.readString(run.log(loser));
    if (!refused.contains("Another batch writer holds the batch lease")) {
      throw new LakeException(
          ErrorCode.INTERNAL_ERROR,
          "The "
              + loser
              + " exited 75 without naming the batch lease's holder; see "
              + run.log(loser));
    }
    Process retry = run.start(BatchJob.class, loser + "-retry", loserArguments);
    while (retry.isAlive() && Instant.now().isBefore(deadline.plus(Duration.ofMinutes(30)))) {
      sampleCoverage(run).ifPresent(coverage::add);
      retry.waitFor(500, TimeUnit.MILLISECONDS);
    }
    if (retry.isAlive() || retry.exitValue() != 0) {
      ChaosRun.killHard(retry);
      throw new LakeException(
          ErrorCode.INTERNAL_ERROR,
          "The " + loser + " run again did not succeed; see " + run.log(loser + "-retry"));
    }
    sampleCoverage(run).ifPresent(coverage::add);
    long backwards = 0;
    for (int i = 1; i < coverage.size(); i++) {
      if (coverage.get(i).isBefore(coverage.get(i - 1))) {
        backwards++;
      }
    }
    System.err.printf(
        "chaos: %s: %s refused with LEASE_HELD and succeeded on retry; %d coverage samples, last"
            + " %s, %d step(s) back%n",
        name(),
        loser,
        coverage.size(),
        coverage.isEmpty() ? "none" : coverage.get(coverage.size() - 1),
        backwards);
    return ledger
        .checkRaw()
        .plus(ledger.checkEventsHourly(LakeTable.BATCH_EVENTS_HOURLY, from, to))
        .plus(new Tally(0, 0, backwards));
  }

  /** batch.coverage's covered_until of events_hourly now, empty before its first commit. */
  private static Optional<Instant> sampleCoverage(ChaosRun run) {
    String location = LakeTable.BATCH_COVERAGE.location(run.config().storage());
    if (!DeltaTables.exists(run.spark(), location)) {
      return Optional.empty();
    }
    List<Row> rows =
        run.spark()
            .read()
            .format("delta")
            .load(location)
            .filter(col("view").equalTo("events_hourly"))
            .select("covered_until")
            .collectAsList();
    return rows.stream().map(row -> row.<Timestamp>getAs(0).toInstant()).findFirst();
  }
}
