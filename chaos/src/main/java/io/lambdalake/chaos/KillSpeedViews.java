package io.lambdalake.chaos;

import static org.awaitility.Awaitility.await;

import io.lambdalake.common.table.LakeTable;
import io.lambdalake.speed.SpeedJob;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

/**
 * 2. kill -9 of the speed job mid-stream, while its micro-batches land and merge into the views:
 * the job lands in batches of a fifth of the events, is killed once speed.events_hourly has its
 * first commit and more events are on their way, then the restart. The speed views equal a
 * recompute over raw.events.
 */
final class KillSpeedViews implements Scenario {
  private final int events;

  KillSpeedViews(int events) {
    this.events = events;
  }

  @Override
  public String name() {
    return "kill-speed-views";
  }

  @Override
  public Tally run(ChaosRun run) throws Exception {
    Instant now = Instant.now().truncatedTo(ChronoUnit.HOURS);
    EventLedger ledger =
        new EventLedger(run, 12, now.minus(Duration.ofMinutes(50)), Duration.ofMinutes(50));
    ledger.produce(events);
    String view = LakeTable.SPEED_EVENTS_HOURLY.location(run.config().storage());
    Process views =
        run.start(
            SpeedJob.class,
            "speed",
            "--trigger=1s",
            "--progress=2s",
            "--max-records-per-batch=" + Math.max(1, events / 5));
    try {
      await()
          .atMost(Duration.ofMinutes(10))
          .pollInterval(Duration.ofMillis(500))
          .until(() -> !views.isAlive() || run.rows(view) > 0);
      run.requireAlive(views, "The speed job", "speed");
      ledger.produce(events / 4);
    } finally {
      ChaosRun.killHard(views);
    }
    run.runToEnd(SpeedJob.class, "restart", "--available-now", "--progress=5s");
    return ledger
        .checkRaw()
        .plus(
            ledger.checkEventsHourly(
                LakeTable.SPEED_EVENTS_HOURLY,
                now.minus(Duration.ofHours(2)),
                now.plus(Duration.ofHours(1))));
  }
}
