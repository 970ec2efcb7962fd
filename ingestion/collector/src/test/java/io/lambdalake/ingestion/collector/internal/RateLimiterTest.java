package io.lambdalake.ingestion.collector.internal;

import static io.lambdalake.ingestion.collector.internal.TestConfigs.SLOW_TRACKING_ID;
import static io.lambdalake.ingestion.collector.internal.TestConfigs.TRACKING_ID;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class RateLimiterTest {
  private final AtomicLong nanos = new AtomicLong();
  private final RateLimiter limiter = new RateLimiter(TestConfigs.lake().collector(), nanos::get);

  @Test
  void allowsTheBurstThenTheRate() {
    // LL-TEST-SLOW: 1 event per second, bursts of 3.
    assertThat(limiter.tryAcquire(Map.of(SLOW_TRACKING_ID, 3))).isEmpty();
    assertThat(limiter.tryAcquire(Map.of(SLOW_TRACKING_ID, 1))).contains(Duration.ofSeconds(1));
    nanos.addAndGet(Duration.ofMillis(500).toNanos());
    assertThat(limiter.tryAcquire(Map.of(SLOW_TRACKING_ID, 1))).contains(Duration.ofMillis(500));
    nanos.addAndGet(Duration.ofMillis(500).toNanos());
    assertThat(limiter.tryAcquire(Map.of(SLOW_TRACKING_ID, 1))).isEmpty();
  }

  @Test
  void takesTokensForAllTrackingIdsOfARequestOrNone() {
    assertThat(limiter.tryAcquire(Map.of(SLOW_TRACKING_ID, 2))).isEmpty();
    // The fast tracking ID's tokens are given back when the slow one is over its limit.
    assertThat(limiter.tryAcquire(Map.of(TRACKING_ID, 10_000, SLOW_TRACKING_ID, 2))).isPresent();
    assertThat(limiter.tryAcquire(Map.of(TRACKING_ID, 10_000))).isEmpty();
  }

  @Test
  void aRequestLargerThanTheBurstWaitsForAFullBucket() {
    assertThat(limiter.tryAcquire(Map.of(SLOW_TRACKING_ID, 10))).isPresent();
  }

  @Test
  void unknownTrackingIdsHaveNoBucket() {
    assertThat(limiter.tryAcquire(Map.of("LL-NOT-REGISTERED", 1_000_000))).isEmpty();
  }
}
