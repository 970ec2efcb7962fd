package io.lambdalake.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** Waiting for a batch's overlapping writes: all of them, whatever fails first. */
class ConcurrentlyTest {
  @Test
  void givesTheResultsInOrder() {
    assertThat(
            Concurrently.awaitAll(
                List.of(
                    CompletableFuture.supplyAsync(() -> "quarantine"),
                    CompletableFuture.completedFuture("events"))))
        .containsExactly("quarantine", "events");
  }

  @Test
  void aFailureIsThrownOnlyAfterTheOtherWorkHasEnded() {
    CountDownLatch failed = new CountDownLatch(1);
    AtomicBoolean slowEnded = new AtomicBoolean();
    CompletableFuture<String> slow =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                // Ends only after the other piece has failed, and a little later.
                failed.await(10, TimeUnit.SECONDS);
                Thread.sleep(200);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
              slowEnded.set(true);
              return "slow";
            });
    CompletableFuture<String> failing =
        CompletableFuture.supplyAsync(
            () -> {
              failed.countDown();
              throw new IllegalStateException("the append failed");
            });

    assertThatThrownBy(() -> Concurrently.awaitAll(List.of(failing, slow)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("the append failed");
    assertThat(slowEnded).isTrue();
  }
}
