package io.lambdalake.batch;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.apache.spark.sql.functions.col;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.delta.tables.DeltaTable;
import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.config.LakeConfigLoader;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.common.table.LakeTable;
import io.lambdalake.spark.views.HourlyViews;
import io.lambdalake.stack.testing.SharedStack;
import io.lambdalake.stack.testing.TestSpark;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Two batch writers at once (a nightly and a backfill, or `lake batch` from a terminal): the second
 * fails fast on the batch lease, and {@code batch.coverage} never moves backwards. The first run is
 * held between reading the coverage and writing it (its clock blocks there), which is where the two
 * runs' coverage updates used to interleave.
 */
@Tag("fault")
class BatchLeaseIT {
  private static final Instant NOW = Instant.parse("2026-11-22T06:00:00Z");
  private static final LocalDate FIRST_DAY = LocalDate.parse("2026-11-17");

  @Test
  void theCoverageNeverMovesBackwardsWhenTwoRunsInterleave() throws Exception {
    SparkSession spark = TestSpark.session();
    LakeConfig config = ownLake();
    // The short, older run reads the coverage and is held before it writes it ...
    HeldClock held = new HeldClock();
    CompletableFuture<Void> shortRun =
        CompletableFuture.runAsync(
            () -> BatchJob.run(spark, config, range(FIRST_DAY, FIRST_DAY), quietly(), held));
    held.awaitReached(shortRun);
    // ... while a longer run computes, publishes and moves the coverage further. It may also be
    // refused, because another batch writer is running; what it must never do is let the
    // coverage go back.
    try {
      BatchJob.run(
          spark,
          config,
          range(FIRST_DAY, FIRST_DAY.plusDays(2)),
          quietly(),
          Clock.fixed(NOW, ZoneOffset.UTC));
    } catch (LakeException refused) {
      assertThat(refused.errorCode()).isEqualTo(ErrorCode.LEASE_HELD);
    }
    held.release();
    shortRun.get(5, TimeUnit.MINUTES);

    List<Instant> history = coverageHistory(spark, config);
    assertThat(history).isNotEmpty();
    assertThat(history).as("covered_until of events_hourly, version by version").isSorted();
  }

  @Test
  void aSecondBatchWriterFailsFastNamingTheHolder() throws Exception {
    SparkSession spark = TestSpark.session();
    LakeConfig config = ownLake();
    HeldClock held = new HeldClock();
    CompletableFuture<Void> firstRun =
        CompletableFuture.runAsync(
            () -> BatchJob.run(spark, config, range(FIRST_DAY, FIRST_DAY), quietly(), held));
    try {
      held.awaitReached(firstRun);

      long started = System.nanoTime();
      assertThatThrownBy(
              () ->
                  BatchJob.run(
                      spark,
                      config,
                      range(FIRST_DAY, FIRST_DAY.plusDays(1)),
                      quietly(),
                      Clock.fixed(NOW, ZoneOffset.UTC)))
          .isInstanceOf(LakeException.class)
          .hasMessageStartingWith("Another batch writer holds the batch lease")
          .hasMessageContaining("pid " + ProcessHandle.current().pid())
          .hasMessageContaining("Wait for it to finish");
      assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started))
          .as("seconds until refused")
          .isLessThan(30);
    } finally {
      held.release();
    }
    firstRun.get(5, TimeUnit.MINUTES);
    // Once the first writer is done, the lease is free again.
    BatchJob.run(
        spark,
        config,
        range(FIRST_DAY, FIRST_DAY.plusDays(1)),
        quietly(),
        Clock.fixed(NOW, ZoneOffset.UTC));
    assertThat(coverageHistory(spark, config))
        .last()
        .isEqualTo(FIRST_DAY.plusDays(2).atStartOfDay(ZoneOffset.UTC).toInstant());
  }

  /** A lake of its own under the test bucket: empty raw.events, no coverage yet. */
  private static LakeConfig ownLake() {
    String name = "lease" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    return LakeConfigLoader.load(System.getenv(), SharedStack.ownLake(name));
  }

  private static BatchJob.Options range(LocalDate from, LocalDate to) {
    return new BatchJob.Options(from, to, "lease-test", HourlyViews.BotPolicy.EXCLUDE_BOTS);
  }

  /** covered_until of events_hourly in each version of batch.coverage, oldest first. */
  private static List<Instant> coverageHistory(SparkSession spark, LakeConfig config) {
    String location = LakeTable.BATCH_COVERAGE.location(config.storage());
    List<Long> versions =
        DeltaTable.forPath(spark, location).history().select("version").collectAsList().stream()
            .map(row -> row.getLong(0))
            .sorted()
            .toList();
    List<Instant> history = new ArrayList<>();
    for (long version : versions) {
      List<Row> rows =
          spark
              .read()
              .format("delta")
              .option("versionAsOf", version)
              .load(location)
              .filter(col("view").equalTo("events_hourly"))
              .select("covered_until")
              .collectAsList();
      rows.stream().map(row -> row.<Timestamp>getAs(0).toInstant()).forEach(history::add);
    }
    return history;
  }

  private static PrintStream quietly() {
    return new PrintStream(new ByteArrayOutputStream(), true, UTF_8);
  }

  /**
   * A fixed clock that holds the first caller until released: the batch job reads its clock only
   * while moving the coverage, after reading the current coverage and before writing the new one.
   */
  private static final class HeldClock extends Clock {
    private final CountDownLatch reached = new CountDownLatch(1);
    private final CountDownLatch released = new CountDownLatch(1);

    void awaitReached(CompletableFuture<Void> run) throws Exception {
      while (!reached.await(1, TimeUnit.SECONDS)) {
        if (run.isDone()) {
          run.get();
          throw new AssertionError("the held run finished without reading its clock");
        }
      }
    }

    void release() {
      released.countDown();
    }

    @Override
    public Instant instant() {
      reached.countDown();
      try {
        if (!released.await(5, TimeUnit.MINUTES)) {
          throw new IllegalStateException("the held clock was never released");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
      return NOW;
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }
  }
}
