package io.lambdalake.serving.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.airlift.slice.Slices;
import io.airlift.stats.cardinality.HyperLogLog;
import io.lambdalake.serving.api.Granularity;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class HourlyFoldTest {
  private static final long NOV_20 = Instant.parse("2026-11-20T00:00:00Z").getEpochSecond();
  private static final long HOUR = 3600;

  @Test
  void sumsCountsIntoThePeriodEachHourStartsInOfTheZone() {
    HourlyFold berlin = new HourlyFold(Granularity.DAY, ZoneId.of("Europe/Berlin"));
    // 22:00 UTC on the 20th is 23:00 in Berlin (the 20th); 23:00 UTC is midnight of the 21st.
    berlin.addCount(NOV_20 + 22 * HOUR, 5);
    berlin.addCount(NOV_20 + 23 * HOUR, 7);
    berlin.addCount(NOV_20 + 23 * HOUR, 1);
    berlin.addCount(NOV_20 + 2 * HOUR, 10);

    assertThat(berlin.counts())
        .containsExactly(
            Map.entry(Instant.parse("2026-11-19T23:00:00Z"), 15L),
            Map.entry(Instant.parse("2026-11-20T23:00:00Z"), 8L));
  }

  @Test
  void countsAnHourOfAHalfHourZoneForTheDayItStartsIn() {
    HourlyFold kolkata = new HourlyFold(Granularity.DAY, ZoneId.of("Asia/Kolkata"));
    // 18:00 UTC is 23:30 in Kolkata: the hour counts for the 20th there.
    kolkata.addCount(NOV_20 + 18 * HOUR, 3);
    kolkata.addCount(NOV_20 + 19 * HOUR, 4);

    assertThat(kolkata.counts())
        .containsExactly(
            Map.entry(Instant.parse("2026-11-19T18:30:00Z"), 3L),
            Map.entry(Instant.parse("2026-11-20T18:30:00Z"), 4L));
  }

  @Test
  void hoursStayHoursAndEmptyPeriodsAreAbsent() {
    HourlyFold hours = new HourlyFold(Granularity.HOUR, ZoneOffset.UTC);
    hours.addCount(NOV_20 + HOUR, 2);
    hours.addCount(NOV_20 + 3 * HOUR, 9);

    assertThat(hours.counts())
        .containsExactly(
            Map.entry(Instant.ofEpochSecond(NOV_20 + HOUR), 2L),
            Map.entry(Instant.ofEpochSecond(NOV_20 + 3 * HOUR), 9L));
    assertThat(new HourlyFold(Granularity.WEEK, ZoneOffset.UTC).uniqueUsers()).isEmpty();
  }

  @Test
  void uniqueUsersAreTheCardinalityOfTheUnionNotASumOfHourlyUniques() {
    // Users 0..1999 in the first hour, 1000..3999 in the second: 4,000 distinct, 5,000 summed.
    byte[] first = sketch(0, 2000);
    byte[] second = sketch(1000, 4000);
    HourlyFold day = new HourlyFold(Granularity.DAY, ZoneOffset.UTC);
    day.addSketch(NOV_20, first);
    day.addSketch(NOV_20 + HOUR, second);

    long expected = cardinality(sketch(0, 4000));
    assertThat(day.uniqueUsers())
        .containsExactly(Map.entry(Instant.ofEpochSecond(NOV_20), expected));
    assertThat(expected).isBetween(3800L, 4200L);
  }

  @Test
  void theMergedCardinalityDoesNotDependOnTheOrderOfTheRows() {
    // Sparse sketches (few users) and a dense one (many), merged in both orders.
    List<byte[]> sketches = new ArrayList<>();
    sketches.add(sketch(0, 30));
    sketches.add(sketch(20, 60));
    sketches.add(sketch(50, 9000));
    sketches.add(sketch(8000, 8100));
    List<byte[]> reversed = new ArrayList<>(sketches);
    Collections.reverse(reversed);

    long forward = HourlyFold.cardinality(sketches);
    assertThat(HourlyFold.cardinality(reversed)).isEqualTo(forward);
    assertThat(forward).isEqualTo(cardinality(sketch(0, 9000)));
  }

  @Test
  void aSingleSketchKeepsItsOwnCardinalityAndNoSketchIsZero() {
    byte[] one = sketch(0, 123);

    assertThat(HourlyFold.cardinality(List.of(one))).isEqualTo(cardinality(one));
    assertThat(HourlyFold.cardinality(List.of())).isZero();
  }

  /** A sketch of users {@code u<from>} .. {@code u<to - 1>}, as the views' writers build them. */
  private static byte[] sketch(int from, int to) {
    HyperLogLog hyperLogLog = HyperLogLog.newInstance(4096);
    for (int user = from; user < to; user++) {
      hyperLogLog.add(Slices.utf8Slice("u" + user));
    }
    return hyperLogLog.serialize().getBytes();
  }

  private static long cardinality(byte[] sketch) {
    return HyperLogLog.newInstance(Slices.wrappedBuffer(sketch)).cardinality();
  }
}
