package io.lambdalake.chaos;

import static org.awaitility.Awaitility.await;

import io.lambdalake.cli.LakeCommand;
import io.lambdalake.common.config.CollectorConfig;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.common.table.LakeTable;
import io.lambdalake.speed.SpeedJob;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Map;

/**
 * Kafka stopped for {@link ServerOutage#OUTAGE} while a collector takes a website's traffic and the
 * landing streams. While Kafka is down the collector must answer 503, never 202 (it cannot hand the
 * events over); after Kafka is back it answers 202 again, the landing rides the outage out or exits
 * with one line, and the operator's restart lands every event answered 202, once; the speed views
 * equal a recompute.
 */
final class KafkaStopped implements Scenario {
  private static final String STOPPED = "kafka-stopped";
  private static final String BACK = "kafka-back";

  private final int events;

  KafkaStopped(int events) {
    this.events = events;
  }

  @Override
  public String name() {
    return "kafka-stopped";
  }

  @Override
  public Tally run(ChaosRun plain) throws Exception {
    ChaosRun run = plain.with(trackingIds());
    Instant now = Instant.now().truncatedTo(ChronoUnit.HOURS);
    EventLedger ledger =
        new EventLedger(run, 31, now.minus(Duration.ofMinutes(50)), Duration.ofMinutes(50));
    CollectorConfig collectorConfig = run.config().collector();
    Process collector = run.start(LakeCommand.class, "collector", "collector");
    Process landing = null;
    try {
      awaitReady(run, collector, collectorConfig);
      landing =
          run.start(
              SpeedJob.class, "landing", "--queries=landing", "--trigger=1s", "--progress=5s");
      String landingOutcome;
      try (CollectorLoad load =
          new CollectorLoad(ledger, collectorConfig.host(), collectorConfig.port())) {
        await().atMost(Duration.ofMinutes(5)).until(() -> ledger.accepted() >= events);
        Process streaming = landing;
        await()
            .atMost(Duration.ofMinutes(10))
            .pollInterval(Duration.ofMillis(500))
            .until(() -> !streaming.isAlive() || ledger.landed() > 0);
        run.requireAlive(landing, "The landing job", "landing");
        long landedBeforeOutage = ledger.landed();
        try (ServerOutage outage = ServerOutage.stop("kafka")) {
          load.phase(STOPPED);
          outage.lastOut();
          load.phase("kafka-starting");
        }
        load.phase(BACK);
        await()
            .atMost(Duration.ofMinutes(3))
            .until(() -> load.answered(BACK, 202) >= 20 || !collector.isAlive());
        load.close();
        System.err.printf("chaos: %s collector answers %s%n", name(), load.summary());
        run.requireAlive(collector, "The collector", "collector");
        if (load.answered(STOPPED, 202) > 0 || load.answered(STOPPED, 503) == 0) {
          throw new LakeException(
              ErrorCode.INTERNAL_ERROR,
              "While Kafka was stopped the collector answered "
                  + load.summary()
                  + ": expected 503 for every request and never 202 (scenario run "
                  + run.name()
                  + "; see "
                  + run.log("collector")
                  + ")");
        }
        landingOutcome = S3StoppedLanding.rideOutOrExit(run, ledger, landing, landedBeforeOutage);
      }
      System.err.printf(
          "chaos: %s %d events answered 202; the landing %s%n",
          name(), ledger.accepted(), landingOutcome);
    } finally {
      if (landing != null) {
        ChaosRun.killHard(landing);
      }
      collector.destroy();
      collector.waitFor();
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

  /** The ledger's tracking IDs, registered for the run's collector. */
  private static Map<String, String> trackingIds() {
    return Map.of(
        "lake.collector.tracking-ids.LL-CHAOS-1.merchant", "chaos-1",
        "lake.collector.tracking-ids.LL-CHAOS-2.merchant", "chaos-2",
        "lake.collector.tracking-ids.LL-CHAOS-3.merchant", "chaos-3");
  }

  private static void awaitReady(ChaosRun run, Process collector, CollectorConfig config) {
    HttpClient client = HttpClient.newHttpClient();
    URI ready = URI.create("http://" + config.host() + ":" + config.port() + "/readyz");
    await()
        .atMost(Duration.ofMinutes(2))
        .pollInterval(Duration.ofMillis(500))
        .ignoreExceptions()
        .until(
            () ->
                !collector.isAlive()
                    || client
                            .send(
                                HttpRequest.newBuilder(ready).build(),
                                HttpResponse.BodyHandlers.discarding())
                            .statusCode()
                        == 200);
    run.requireAlive(collector, "The collector", "collector");
  }
}
