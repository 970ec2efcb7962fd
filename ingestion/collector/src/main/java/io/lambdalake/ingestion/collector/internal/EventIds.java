package io.lambdalake.ingestion.collector.internal;

import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Event IDs the collector makes when a client sent none: UUID version 7 (RFC 9562), time-ordered so
 * that IDs of one period cluster together, with 74 random bits.
 */
public final class EventIds {
  private EventIds() {}

  public static String next(long epochMillis) {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    long mostSignificant = (epochMillis << 16) | 0x7000L | (random.nextLong() & 0x0fffL);
    long leastSignificant = (random.nextLong() & 0x3fffffffffffffffL) | 0x8000000000000000L;
    return new UUID(mostSignificant, leastSignificant).toString();
  }
}
