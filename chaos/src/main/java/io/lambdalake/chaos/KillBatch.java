package io.lambdalake.chaos;

import static org.awaitility.Awaitility.await;

import io.lambdalake.batch.BatchJob;
import io.lambdalake.common.table.LakeTable;
import io.lambdalake.speed.SpeedJob;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;

/**
 * 6. kill -9 of the batch job mid-run: three past days landed, {@code lake batch} over them killed
 * as soon as it published the first day, while it publishes the others, then run again as the
 * nightly's retry would. Every accepted event once in raw.events, and batch.events_hourly equals a
 * recompute over raw.events for the three days.
 */
final class KillBatch implements Scenario {
  private final int events;

  KillBatch(int events) {
    this.events = events;
  }

  @Override
  public String name() {
    return "kill-batch";
  }

  @Override
  public Tally run(ChaosRun run) throws Exception {
    LocalDate first = LocalDate.now(ZoneOffset.UTC).minusDays(4);
    LocalDate last = first.plusDays(2);
    Instant from = first.atStartOfDay(ZoneOffset.UTC).toInstant();
    Instant to = last.plusDays(1).atStartOfDay(ZoneOffset.UTC).toInstant();
    EventLedger ledger = new EventLedger(run, 16, from, Duration.between(from, to));
    ledger.produce(events);
    run.runToEnd(SpeedJob.class, "landing", "--queries=landing", "--available-now");
    String[] arguments = {"--from=" + first, "--to=" + last, "--logic-version=chaos"};
    Process batch = run.start(BatchJob.class, "batch", arguments);
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
    } finally {
      ChaosRun.killHard(batch);
    }
    run.runToEnd(BatchJob.class, "rerun", arguments);
    return ledger
        .checkRaw()
        .plus(ledger.checkEventsHourly(LakeTable.BATCH_EVENTS_HOURLY, from, to));
  }
}
