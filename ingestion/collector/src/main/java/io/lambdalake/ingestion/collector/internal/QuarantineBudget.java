package io.lambdalake.ingestion.collector.internal;

import static java.util.Objects.requireNonNull;

import io.lambdalake.common.config.CollectorConfig;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * What rejected input may write to the quarantine topic (lake.collector.quarantine-budget): a token
 * bucket of records per client address and one over all. Quarantine keeps the evidence of bad
 * input; without a budget, a client sending junk as fast as it can would fill the topic and the
 * producer's buffer with it. At most {@value #MAX_CLIENTS} client buckets are kept, the least
 * recently used dropped first.
 */
final class QuarantineBudget {
  private static final int MAX_CLIENTS = 100_000;

  private final CollectorConfig.RateLimit perClient;
  private final RateLimiter.TokenBucket total;
  private final LongSupplier nanoTime;
  private final Map<String, RateLimiter.TokenBucket> clients =
      new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, RateLimiter.TokenBucket> eldest) {
          return size() > MAX_CLIENTS;
        }
      };

  QuarantineBudget(CollectorConfig.QuarantineBudget budget, LongSupplier nanoTime) {
    this.perClient = budget.perClient();
    this.nanoTime = requireNonNull(nanoTime, "nanoTime is null");
    this.total = new RateLimiter.TokenBucket(budget.total(), nanoTime.getAsLong());
  }

  /** Takes one record from the client's budget and the total; false, taking none, when empty. */
  boolean tryWrite(Optional<String> clientAddress) {
    long now = nanoTime.getAsLong();
    Optional<RateLimiter.TokenBucket> client = clientAddress.map(address -> client(address, now));
    if (client.isPresent() && client.get().tryTake(1, now) > 0) {
      return false;
    }
    if (total.tryTake(1, now) > 0) {
      client.ifPresent(bucket -> bucket.giveBack(1));
      return false;
    }
    return true;
  }

  private RateLimiter.TokenBucket client(String address, long now) {
    synchronized (clients) {
      return clients.computeIfAbsent(address, key -> new RateLimiter.TokenBucket(perClient, now));
    }
  }
}
