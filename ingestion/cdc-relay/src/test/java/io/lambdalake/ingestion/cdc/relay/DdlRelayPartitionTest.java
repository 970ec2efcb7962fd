package io.lambdalake.ingestion.cdc.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class DdlRelayPartitionTest {
  @Test
  void theRelayPicksThePartitionMaxwellGaveTheDatabasesRows() {
    // Seen on the local stack: Maxwell put every row of this database into partition 3 of 4.
    assertThat(DdlRelay.maxwellPartition("chaos_renba51da36", 4)).isEqualTo(3);
    // A name whose hash code is negative still gets a partition in range.
    assertThat("polygenelubricants".hashCode()).isEqualTo(Integer.MIN_VALUE);
    assertThat(DdlRelay.maxwellPartition("polygenelubricants", 4)).isBetween(0, 3);
    assertThat(DdlRelay.maxwellPartition("anything", 1)).isZero();
  }

  @Test
  void aTopicWithoutPartitionsIsRefused() {
    assertThatThrownBy(() -> DdlRelay.maxwellPartition("db", 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("partitions must be positive: 0");
  }
}
