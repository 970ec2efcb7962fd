package io.lambdalake.ingestion.collector.internal;

import static java.util.Objects.requireNonNull;

import io.lambdalake.common.config.CollectorConfig;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * Per-tracking-ID rate limits as token buckets, one per registered tracking ID (so hostile input
 * with made-up IDs allocates nothing). A request takes the tokens for all its events or none.
 *
 * <p>Beside them, one bucket per client address (lake.collector.client-rate-limit): tracking IDs
 * are public in pages, so without it one client could spend a merchant's whole limit. At most
 * {@value #MAX_CLIENTS} client buckets are kept, the least recently used dropped first (a dropped
 * bucket comes back full, as it would have refilled).
 */
public final class RateLimiter {
  private static final int MAX_CLIENTS = 100_000;

  private final Map<String, TokenBucket> buckets;
  private final CollectorConfig.RateLimit clientLimit;
  private final Map<String, TokenBucket> clientBuckets =
      new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, TokenBucket> eldest) {
          return size() > MAX_CLIENTS;
        }
      };
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
    this.clientLimit = config.clientRateLimit();
  }

  /**
   * Takes tokens for the events of one request from its client address's bucket.
   *
   * @return empty when granted; else how long the client should wait before retrying
   */
  public Optional<Duration> tryAcquireForClient(String clientAddress, int events) {
    long now = nanoTime.getAsLong();
    TokenBucket bucket;
    synchronized (clientBuckets) {
      bucket =
          clientBuckets.computeIfAbsent(
              clientAddress, address -> new TokenBucket(clientLimit, now));
    }
    long waitNanos = bucket.tryTake(events, now);
    return waitNanos > 0 ? Optional.of(Duration.ofNanos(waitNanos)) : Optional.empty();
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

  /** A token bucket; thread-safe. */
  static final class TokenBucket {
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
