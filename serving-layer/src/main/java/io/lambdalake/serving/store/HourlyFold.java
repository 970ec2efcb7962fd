package io.lambdalake.serving.store;

import static java.util.Objects.requireNonNull;

import io.airlift.slice.Slices;
import io.airlift.stats.cardinality.HyperLogLog;
import io.lambdalake.serving.api.Granularity;
import java.time.Instant;
import java.time.ZoneId;
import java.util.HashMap;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Folds the store's hourly rows (batch and speed already split at the watermark) into the periods
 * of a request, as the Trino source's SQL does: a period is the one its hour starts in, in the
 * request's zone ({@link Granularity#periodOf}); counts are summed; unique users are the
 * cardinality of the union of the period's sketches, merged as Trino's {@code
 * merge(CAST(users_sketch AS HyperLogLog))} merges them (the first sketch, then {@code mergeWith}
 * of each other one; a union, so the order does not change the result).
 */
public final class HourlyFold {
  private final Granularity granularity;
  private final ZoneId zone;
  private final SortedMap<Instant, Long> sums = new TreeMap<>();
  private final Map<Instant, HyperLogLog> sketches = new HashMap<>();

  public HourlyFold(Granularity granularity, ZoneId zone) {
    this.granularity = requireNonNull(granularity, "granularity is null");
    this.zone = requireNonNull(zone, "zone is null");
  }

  /** Adds a count of the hour starting at {@code hourEpochSecond}. */
  public void addCount(long hourEpochSecond, long count) {
    sums.merge(period(hourEpochSecond), count, Math::addExact);
  }

  /** Adds a sketch of unique users (Trino's HyperLogLog format) of the hour. */
  public void addSketch(long hourEpochSecond, byte[] sketch) {
    HyperLogLog input = HyperLogLog.newInstance(Slices.wrappedBuffer(sketch));
    sketches.merge(
        period(hourEpochSecond),
        input,
        (merged, next) -> {
          merged.mergeWith(next);
          return merged;
        });
  }

  /** Period start to summed count; periods without rows absent. */
  public SortedMap<Instant, Long> counts() {
    return new TreeMap<>(sums);
  }

  /** Period start to unique users; periods without rows absent. */
  public SortedMap<Instant, Long> uniqueUsers() {
    SortedMap<Instant, Long> users = new TreeMap<>();
    sketches.forEach((period, sketch) -> users.put(period, sketch.cardinality()));
    return users;
  }

  /** The cardinality of the union of sketches, e.g. a page's users over a range. */
  public static long cardinality(Iterable<byte[]> sketches) {
    HyperLogLog merged = null;
    for (byte[] sketch : sketches) {
      HyperLogLog input = HyperLogLog.newInstance(Slices.wrappedBuffer(sketch));
      if (merged == null) {
        merged = input;
      } else {
        merged.mergeWith(input);
      }
    }
    return merged == null ? 0 : merged.cardinality();
  }

  private Instant period(long hourEpochSecond) {
    return granularity.periodOf(Instant.ofEpochSecond(hourEpochSecond), zone);
  }
}
