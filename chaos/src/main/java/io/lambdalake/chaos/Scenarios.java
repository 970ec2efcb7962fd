package io.lambdalake.chaos;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The scenarios {@code scripts/chaos} runs, in order, and the ones written down but not yet
 * switched on, with what each waits for. A pending scenario is listed, never counted.
 */
public final class Scenarios {
  private Scenarios() {}

  /** The scenarios that run, sized by {@code events} (events or source row changes each). */
  public static List<Scenario> all(int events) {
    return List.of(
        new KillLanding(events),
        new KillSpeedViews(events),
        new KillMaxwellCdc(Math.max(10, events / 20)),
        new KillBatch(events),
        new KillMongoCdc(Math.max(10, events / 20)),
        new LateEvents(events),
        new NightlyAndBackfill(events),
        new DdlUnderLoad(Math.max(10, events / 20)),
        new DdlRenameUnderLoad(Math.max(10, events / 20)),
        new KillSpam(Math.max(1, events / 2000)),
        new AirflowStoppedBackfill(events),
        // These stop a server of the stack they run against: run them on a stack of their own.
        new KafkaStopped(events),
        new S3StoppedLanding(events),
        new S3StoppedBatch(events),
        new TrinoStoppedApi(Math.max(10, events / 10)));
  }

  /** Scenario name to what it waits for. */
  public static Map<String, String> pending() {
    Map<String, String> pending = new LinkedHashMap<>();
    return pending;
  }
}
