package io.lambdalake.chaos;

import static org.awaitility.Awaitility.await;

import io.lambdalake.cli.LakeCommand;
import io.lambdalake.common.config.CollectorConfig;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.common.table.LakeTable;
import io.lambdalake.ingestion.cdc.CdcJob;
import io.lambdalake.speed.SpeedJob;
import io.lambdalake.stack.DdlRelayServer;
import io.lambdalake.stack.LocalStack;
import io.lambdalake.stack.ManagedServer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;

/**
 * Kafka stopped for {@link ServerOutage#OUTAGE} while a collector takes a website's traffic, the
 * landing streams and {@code lake cdc} follows a MariaDB database through Maxwell. While Kafka is
 * down the collector must answer 503, never 202 (it cannot hand the events over), and the source
 * database takes writes Maxwell cannot publish; after Kafka is back the collector answers 202
 * again, the landing and the CDC job ride the outage out or exit with one line, Maxwell and the DDL
 * relay go on or exit (never skip a change), and the operator's restarts land every event answered
 * 202 once and every committed row change; the speed views equal a recompute, the mirror its
 * source.
 */
final class KafkaStopped implements Scenario {
  private static final String STOPPED = "kafka-stopped";
  private static final String BACK = "kafka-back";

  /** Row changes in each of the three steps (before, during and after the outage: half). */
  private static final int CHANGES = 200;

  private static final Duration CATCH_UP = Duration.ofMinutes(10);

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
    String database = "chaos_k" + UUID.randomUUID().toString().replace("-", "").substring(0, 8);
    String mirror = run.config().storage().tableLocation("mirror", database + "__items");
    Random random = new Random(17);
    Connection source = KillMaxwellCdc.connect(run.config().mariaDb());
    KillMaxwellCdc.execute(
        source,
        "CREATE DATABASE " + database,
        "CREATE TABLE "
            + database
            + ".items (id INT PRIMARY KEY, qty INT NOT NULL, note VARCHAR(40))");
    KillMaxwellCdc.workload(source, database, random, CHANGES);
    Process collector = run.start(LakeCommand.class, "collector", "collector");
    Process landing = null;
    Process cdc = null;
    String cdcOutcome;
    String servers;
    try {
      cdc =
          run.start(
              CdcJob.class,
              "cdc",
              "--sources=maxwell",
              "--databases=" + database,
              "--trigger=1s",
              "--progress=5s");
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
        Process following = cdc;
        await()
            .atMost(Duration.ofMinutes(10))
            .pollInterval(Duration.ofMillis(500))
            .until(() -> !following.isAlive() || run.rows(mirror) > 0);
        run.requireAlive(cdc, "The CDC job", "cdc");
        long landedBeforeOutage = ledger.landed();
        try (ServerOutage outage = ServerOutage.stop("kafka")) {
          load.phase(STOPPED);
          // Committed in MariaDB while Maxwell cannot publish them.
          KillMaxwellCdc.workload(source, database, random, CHANGES);
          outage.lastOut();
          load.phase("kafka-starting");
        }
        KillMaxwellCdc.workload(source, database, random, CHANGES / 2);
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
      cdcOutcome =
          cdc.isAlive()
              ? "rode it out"
              : "exited " + cdc.exitValue() + " with: " + ServerOutage.lastLine(run.log("cdc"));
    } finally {
      if (landing != null) {
        ChaosRun.killHard(landing);
      }
      if (cdc != null) {
        ChaosRun.killHard(cdc);
      }
      collector.destroy();
      collector.waitFor();
      // Never leave the stack without them, also when the scenario failed.
      servers = restartExited(List.of("maxwell", DdlRelayServer.NAME));
    }
    System.err.printf("chaos: %s the CDC job %s; %s%n", name(), cdcOutcome, servers);
    run.runToEnd(SpeedJob.class, "restart", "--available-now", "--progress=5s");
    Tally mirrored;
    try (source) {
      // Maxwell delivers with a lag: the restart runs over what Kafka holds until the mirror
      // agrees, or the catch-up time is over and what differs is counted.
      Instant deadline = Instant.now().plus(CATCH_UP);
      int restarts = 0;
      do {
        run.runToEnd(
            CdcJob.class,
            "cdc-restart-" + ++restarts,
            "--sources=maxwell",
            "--databases=" + database,
            "--available-now");
        mirrored = KillMaxwellCdc.compare(run, source, database, mirror);
      } while (!mirrored.clean() && Instant.now().isBefore(deadline));
      KillMaxwellCdc.execute(source, "DROP DATABASE " + database);
    }
    System.err.printf("chaos: %s the mirror against its source: %s%n", name(), mirrored.toLine());
    return ledger
        .checkRaw()
        .plus(
            ledger.checkEventsHourly(
                LakeTable.SPEED_EVENTS_HOURLY,
                now.minus(Duration.ofHours(2)),
                now.plus(Duration.ofHours(1))))
        .plus(mirrored);
  }

  /**
   * Starts again, as an operator would ({@code scripts/stack start}), the stack's servers among
   * these that exited during the outage; says which ran on and which exited with what.
   */
  private static String restartExited(List<String> names) throws IOException {
    LocalStack stack = LocalStack.fromConfiguration();
    List<String> said = new ArrayList<>();
    for (String name : names) {
      ManagedServer server = stack.server(name);
      if (server.isRunning()) {
        said.add(name + " ran on");
        continue;
      }
      said.add(name + " exited (" + ServerOutage.lastLine(server.logFile()) + "), started again");
      stack.restartAsBefore(List.of(name));
    }
    return String.join("; ", said);
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
