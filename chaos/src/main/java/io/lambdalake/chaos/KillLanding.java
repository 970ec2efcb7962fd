package io.lambdalake.chaos;

import io.lambdalake.common.table.LakeTable;
import io.lambdalake.speed.SpeedJob;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

/**
 * 1. kill -9 of the landing query mid-stream: events on Kafka, the landing in small micro-batches
 * killed once raw.events holds some but not all of them, more events accepted while it is down,
 * then the operator's restart ({@code lake speed}). Every accepted event once in raw.events, and
 * the speed views equal a recompute.
 */
final class KillLanding implements Scenario {
  private final int events;

  KillLanding(int events) {
    this.events = events;
  }

  @Override
  public String name() {
    return "kill-landing";
  }

  @Override
  public Tally run(ChaosRun run) throws Exception {
    Instant now = Instant.now().truncatedTo(ChronoUnit.HOURS);
    EventLedger ledger =
        new EventLedger(run, 11, now.minus(Duration.ofMinutes(50)), Duration.ofMinutes(50));
    ledger.produce(events);
    Process landing = run.startLanding(ledger, Math.max(1, events / 20));
    ChaosRun.killHard(landing);
    long landedAtKill = ledger.landed();
    ledger.produce(events / 4);
    run.runToEnd(SpeedJob.class, "restart", "--available-now", "--progress=5s");
    System.err.printf(
        "chaos: %s killed with %d of %d events landed%n", name(), landedAtKill, events);
    return ledger
        .checkRaw()
        .plus(
            ledger.checkEventsHourly(
                LakeTable.SPEED_EVENTS_HOURLY,
                now.minus(Duration.ofHours(2)),
                now.plus(Duration.ofHours(1))));
  }
}
