package io.lambdalake.chaos;

import static org.awaitility.Awaitility.await;

import io.lambdalake.common.table.LakeTable;
import io.lambdalake.speed.SpeedJob;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

/**
 * s3proxy stopped for {@link ServerOutage#OUTAGE} while the landing streams: events on Kafka, the
 * landing in small micro-batches, S3 stopped once raw.events has its first commit, more events
 * accepted while it is down, S3 started again. The landing either rides the outage out or exits
 * with one line; either way the operator's restart ({@code lake speed --available-now}) lands every
 * accepted event once, and the speed views equal a recompute.
 */
final class S3StoppedLanding implements Scenario {
  private final int events;

  S3StoppedLanding(int events) {
    this.events = events;
  }

  @Override
  public String name() {
    return "s3-stopped-landing";
  }

  @Override
  public Tally run(ChaosRun run) throws Exception {
    Instant now = Instant.now().truncatedTo(ChronoUnit.HOURS);
    EventLedger ledger =
        new EventLedger(run, 21, now.minus(Duration.ofMinutes(50)), Duration.ofMinutes(50));
    ledger.produce(events);
    Process landing = run.startLanding(ledger, Math.max(1, events / 10));
    try {
      // The driver reads S3 too: count before the outage, not during it.
      long landedAtStop = ledger.landed();
      try (ServerOutage outage = ServerOutage.stop("s3proxy")) {
        ledger.produce(events / 4);
        outage.lastOut();
      }
      String outcome = rideOutOrExit(run, ledger, landing, landedAtStop);
      System.err.printf(
          "chaos: %s stopped S3 with %d of %d events landed; the landing %s%n",
          name(), landedAtStop, events, outcome);
    } finally {
      ChaosRun.killHard(landing);
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

  /**
   * After the outage the landing either goes on (it commits more than it had landed before the
   * outage; the operator's restart lands the rest, in one batch rather than in the small ones of
   * the stream, which take a minute each on a loaded machine), or has ended: then with a non-zero
   * exit and one line saying what failed. Says which, for the progress line.
   */
  static String rideOutOrExit(
      ChaosRun run, EventLedger ledger, Process landing, long landedBeforeOutage) throws Exception {
    await()
        .atMost(Duration.ofMinutes(10))
        .pollInterval(Duration.ofSeconds(1))
        .until(
            () ->
                !landing.isAlive()
                    || ledger.landed() >= ledger.accepted()
                    || ledger.landed() > landedBeforeOutage);
    if (landing.isAlive()) {
      return "rode it out";
    }
    if (landing.exitValue() == 0) {
      throw new IllegalStateException(
          "The streaming landing exited 0 during an outage in scenario run "
              + run.name()
              + ": a stream that stops must say why; see "
              + run.log("landing"));
    }
    return "exited " + landing.exitValue() + " with: " + ServerOutage.lastLine(run.log("landing"));
  }
}
