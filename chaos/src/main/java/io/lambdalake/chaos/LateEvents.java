package io.lambdalake.chaos;

import io.lambdalake.batch.BatchJob;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.common.table.LakeTable;
import io.lambdalake.speed.SpeedJob;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;

/**
 * Late events of every age the collector accepts, after the nightly computed their days: events of
 * the last three days landed and computed by the nightly ({@code lake batch}: yesterday and the two
 * late days), then events received now whose event times spread over every hour of those days that
 * is at most {@code max-event-age} (72 h) old, landed, and {@code lake batch --dirty}. Before the
 * dirty run the batch view must differ from a recompute (else the late events did not land after
 * the nightly and the scenario did not run); after it, every accepted event once in raw.events and
 * batch.events_hourly equal to a recompute over the three days.
 */
final class LateEvents implements Scenario {
  private static final Duration MAX_EVENT_AGE = Duration.ofHours(72);

  private final int events;

  LateEvents(int events) {
    this.events = events;
  }

  @Override
  public String name() {
    return "late-events";
  }

  @Override
  public Tally run(ChaosRun run) throws Exception {
    LocalDate today = LocalDate.now(ZoneOffset.UTC);
    Instant from = today.minusDays(3).atStartOfDay(ZoneOffset.UTC).toInstant();
    Instant to = today.atStartOfDay(ZoneOffset.UTC).toInstant();
    EventLedger onTime = new EventLedger(run, 51, from, Duration.between(from, to));
    onTime.produce(events);
    run.runToEnd(SpeedJob.class, "landing", "--queries=landing", "--available-now");
    // The nightly's days (yesterday and the two late days), pinned: a run across midnight must
    // not move them.
    run.runToEnd(
        BatchJob.class, "nightly", "--from=" + today.minusDays(3), "--to=" + today.minusDays(1));

    // The oldest the collector accepts, with a margin for the time the scenario takes.
    Instant oldest = Instant.now().minus(MAX_EVENT_AGE).plus(Duration.ofMinutes(10));
    Instant lateFrom = oldest.isAfter(from) ? oldest : from;
    EventLedger late = new EventLedger(run, 52, lateFrom, Duration.between(lateFrom, to));
    late.produceReceivedNow(Math.max(1, events / 4));
    run.runToEnd(SpeedJob.class, "late-landing", "--queries=landing", "--available-now");
    Tally beforeDirty = onTime.checkEventsHourly(LakeTable.BATCH_EVENTS_HOURLY, from, to);
    if (beforeDirty.diverged() == 0) {
      throw new LakeException(
          ErrorCode.INTERNAL_ERROR,
          "The batch view already counted the late events before lake batch --dirty ran in"
              + " scenario run "
              + run.name()
              + ": they did not arrive after the nightly");
    }
    run.runToEnd(BatchJob.class, "dirty", "--dirty");
    System.err.printf(
        "chaos: %s: %d late events (event times %s .. %s) left %d view keys behind before"
            + " lake batch --dirty%n",
        name(), late.accepted(), lateFrom, to, beforeDirty.diverged());
    Tally lateLanded = late.checkRaw();
    return onTime
        .checkRaw()
        .plus(new Tally(lateLanded.lost(), 0, 0))
        .plus(onTime.checkEventsHourly(LakeTable.BATCH_EVENTS_HOURLY, from, to));
  }
}
