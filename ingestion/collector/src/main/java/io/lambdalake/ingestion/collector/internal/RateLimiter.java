package io.lambdalake.ingestion.collector.internal;

import static java.util.Objects.requireNonNull;

import io.lambdalake.common.config.CollectorConfig;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * Per-tracking-ID rate limits as token buckets, one per registered tracking ID (so hostile input
 * with made-up IDs allocates nothing). A request takes the tokens for all its events or none.
 */
public final class RateLimiter {
  private final Map<String, TokenBucket> buckets;
  private final LongSupplier nanoTime;

  public RateLimiter(CollectorConfig config, LongSupplier nanoTime) {
    this.nanoTime = requireNonNull(nanoTime, "nanoTime is null");
    Map<String, TokenBucket> buckets = new HashMap<>();
    long now = nanoTime.getAsLong();
    config
        .trackingIds()
        .forEach(
            (trackingId, registration) ->
                buckets.put(trackingId, new TokenBucket(config.rateLimitOf(registration), now)));
    this.buckets = Map.copyOf(buckets);
  }

  /**
   * Takes tokens for the given number of events of each tracking ID.
   *
   * @return empty when granted; else how long the client should wait before retrying
   */
  public Optional<Duration> tryAcquire(Map<String, Integer> eventsByTrackingId) {
    long now = nanoTime.getAsLong();
    Map<TokenBucket, Integer> taken = new HashMap<>();
    for (Map.Entry<String, Integer> entry : eventsByTrackingId.entrySet()) {
      TokenBucket bucket = buckets.get(entry.getKey());
      if (bucket == null) {
        continue;
      }
      long waitNanos = bucket.tryTake(entry.getValue(), now);
      if (waitNanos > 0) {
        taken.forEach((takenFrom, count) -> takenFrom.giveBack(count));
        return Optional.of(Duration.ofNanos(waitNanos));
      }
      taken.put(bucket, entry.getValue());
    }
    return Optional.empty();
  }

  private static final class TokenBucket {
    private final double tokensPerNano;
    private final double capacity;
    private double tokens;
    private long refilledAt;

    TokenBucket(CollectorConfig.RateLimit limit, long now) {
      this.tokensPerNano = limit.eventsPerSecond() / 1e9;
      this.capacity = limit.burst();
      this.tokens = capacity;
      this.refilledAt = now;
    }

    /** Takes the tokens and returns 0, or takes none and returns the nanoseconds until it could. */
    synchronized long tryTake(int count, long now) {
      tokens = Math.min(capacity, tokens + (now - refilledAt) * tokensPerNano);
      refilledAt = now;
      if (tokens >= count) {
        tokens -= count;
        return 0;
      }
      // A request larger than the burst can never pass at once; ask for a full bucket's wait.
      double missing = Math.min(count, capacity) - tokens;
      return Math.max(1, (long) Math.ceil(missing / tokensPerNano));
    }

    synchronized void giveBack(int count) {
      tokens = Math.min(capacity, tokens + count);
    }
  }
}
