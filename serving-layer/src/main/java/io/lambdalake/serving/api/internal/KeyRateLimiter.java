package io.lambdalake.serving.api.internal;

import static java.util.Objects.requireNonNull;

import io.lambdalake.common.config.ApiConfig;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.LongSupplier;

/** A token bucket per API key (by its hash): a sustained rate and a burst. */
public final class KeyRateLimiter {
  private final ApiConfig.RateLimit limit;
  private final LongSupplier nanoTime;
  private final ConcurrentMap<String, Bucket> buckets = new ConcurrentHashMap<>();

  public KeyRateLimiter(ApiConfig.RateLimit limit, LongSupplier nanoTime) {
    this.limit = requireNonNull(limit, "limit is null");
    this.nanoTime = requireNonNull(nanoTime, "nanoTime is null");
  }

  /** Takes one request's token; empty when granted, else how long to wait. */
  public Optional<Duration> tryAcquire(String keyHash) {
    long now = nanoTime.getAsLong();
    Bucket bucket = buckets.computeIfAbsent(keyHash, ignored -> new Bucket(limit, now));
    long waitNanos = bucket.tryTake(now);
    return waitNanos == 0 ? Optional.empty() : Optional.of(Duration.ofNanos(waitNanos));
  }

  private static final class Bucket {
    private final double tokensPerNano;
    private final double capacity;
    private double tokens;
    private long updatedAt;

    Bucket(ApiConfig.RateLimit limit, long now) {
      this.tokensPerNano = limit.requestsPerSecond() / 1e9;
      this.capacity = limit.burst();
      this.tokens = capacity;
      this.updatedAt = now;
    }

    synchronized long tryTake(long now) {
      tokens = Math.min(capacity, tokens + (now - updatedAt) * tokensPerNano);
      updatedAt = now;
      if (tokens >= 1) {
        tokens -= 1;
        return 0;
      }
      return Math.max(1, (long) Math.ceil((1 - tokens) / tokensPerNano));
    }
  }
}
