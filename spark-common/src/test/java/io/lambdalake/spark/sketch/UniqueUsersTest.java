package io.lambdalake.spark.sketch;

import static org.assertj.core.api.Assertions.assertThat;

import io.airlift.slice.Slices;
import io.airlift.stats.cardinality.HyperLogLog;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** The union the speed views use to add a batch's users to an hour's row. */
class UniqueUsersTest {
  @Test
  void theUnionOfTwoBatchesIsTheSketchOfAllTheirUsersByteForByte() {
    // Small sketches stay sparse, large ones turn dense; the union crosses that line too.
    for (int[] sizes : new int[][] {{10, 20}, {300, 2_000}, {5_000, 40_000}}) {
      byte[] first = sketchOf(0, sizes[0]);
      byte[] second = sketchOf(sizes[0] / 2, sizes[1]);
      byte[] all = sketchOf(0, sizes[0] / 2 + sizes[1]);
      assertThat(UniqueUsers.union(first, second)).as("sizes %s", sizes[0]).isEqualTo(all);
      assertThat(UniqueUsers.union(second, first)).isEqualTo(all);
    }
  }

  @Test
  void aMissingSketchIsNoUsers() {
    byte[] some = sketchOf(0, 50);
    assertThat(UniqueUsers.union(some, null)).isEqualTo(some);
    assertThat(UniqueUsers.union(null, some)).isEqualTo(some);
    assertThat(UniqueUsers.union(null, null)).isNull();
  }

  /** The sketch of users from, from + 1, ..., from + count - 1, as the aggregation makes it. */
  private static byte[] sketchOf(int from, int count) {
    HyperLogLog sketch = HyperLogLog.newInstance(UniqueUsers.BUCKETS);
    IntStream.range(from, from + count).forEach(i -> sketch.add(Slices.utf8Slice("user-" + i)));
    return sketch.serialize().getBytes();
  }
}
