package io.lambdalake.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.config.LakeConfigLoader;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.stack.testing.SharedStack;
import io.lambdalake.stack.testing.TestSpark;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

/** The lease on s3proxy: conditional creation picks one winner, fencing, takeover, release. */
class LeaseIT {
  private static final Lease.Settings SHORT =
      new Lease.Settings(Duration.ofSeconds(3), Duration.ofSeconds(1), Clock.systemUTC());
  private static final Lease.Settings NEVER_RENEWED =
      new Lease.Settings(Duration.ofSeconds(2), Duration.ofHours(1), Clock.systemUTC());

  @Test
  void ofWritersRacingForTheLeaseExactlyOneWins() throws Exception {
    SparkSession spark = TestSpark.session();
    LakeConfig config = ownLake();
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Callable<Lease>> racers = new ArrayList<>();
      for (int index = 0; index < 4; index++) {
        String runId = "racer-" + index;
        racers.add(() -> Lease.acquire(spark, config, "race", "test writer", runId, SHORT));
      }
      List<Lease> winners = new ArrayList<>();
      List<LakeException> losers = new ArrayList<>();
      for (Future<Lease> result : pool.invokeAll(racers)) {
        try {
          winners.add(result.get());
        } catch (ExecutionException e) {
          losers.add((LakeException) e.getCause());
        }
      }
      assertThat(winners).hasSize(1);
      assertThat(losers)
          .hasSize(3)
          .allSatisfy(loser -> assertThat(loser.errorCode()).isEqualTo(ErrorCode.LEASE_HELD));
      winners.get(0).checkHeld("a commit");
      winners.get(0).close();
      // Released: the next writer takes it at once, with a higher fencing token.
      try (Lease next = Lease.acquire(spark, config, "race", "test writer", "next", SHORT)) {
        assertThat(next.token()).isGreaterThan(winners.get(0).token());
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void aRenewedLeaseStaysHeldAndAnExpiredOneIsTakenOverAndFenced() {
    SparkSession spark = TestSpark.session();
    LakeConfig config = ownLake();
    try (Lease renewed = Lease.acquire(spark, config, "renewed", "test writer", "a", SHORT)) {
      // Well past its time to live, the heartbeat keeps it.
      await()
          .pollDelay(Duration.ofSeconds(5))
          .atMost(Duration.ofSeconds(20))
          .untilAsserted(() -> renewed.checkHeld("a commit"));
      assertThatThrownBy(() -> Lease.acquire(spark, config, "renewed", "test writer", "b", SHORT))
          .hasMessageStartingWith("Another test writer holds the renewed lease")
          .hasMessageContaining("run a on host");
    }

    Lease stalled = Lease.acquire(spark, config, "stalled", "test writer", "c", NEVER_RENEWED);
    Lease successor =
        await()
            .atMost(Duration.ofSeconds(30))
            .ignoreException(LakeException.class)
            .until(
                () -> Lease.acquire(spark, config, "stalled", "test writer", "d", NEVER_RENEWED),
                lease -> true);
    assertThat(successor.token()).isEqualTo(stalled.token() + 1);
    assertThatThrownBy(() -> stalled.checkHeld("moving batch.coverage"))
        .isInstanceOf(LakeException.class)
        .hasMessageStartingWith("This test writer lost the stalled lease (token 1, taken over")
        .hasMessageContaining("stopped before moving batch.coverage");
    // The stalled writer's release does not free its successor's lease.
    stalled.close();
    assertThatThrownBy(() -> Lease.acquire(spark, config, "stalled", "test writer", "e", SHORT))
        .isInstanceOf(LakeException.class)
        .extracting(error -> ((LakeException) error).errorCode())
        .isEqualTo(ErrorCode.LEASE_HELD);
    successor.close();
  }

  private static LakeConfig ownLake() {
    String name = "lease" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    return LakeConfigLoader.load(System.getenv(), SharedStack.ownLake(name));
  }
}
