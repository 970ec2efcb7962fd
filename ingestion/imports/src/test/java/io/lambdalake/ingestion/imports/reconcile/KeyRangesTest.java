package io.lambdalake.ingestion.imports.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import org.junit.jupiter.api.Test;

class KeyRangesTest {
  @Test
  void integerRangesCoverBothSidesKeysInEqualWidths() {
    KeyRanges.IntegerRanges ranges =
        KeyRanges.IntegerRanges.covering("id", BigInteger.ONE, BigInteger.valueOf(100_000), 4);

    assertThat(ranges.count()).isEqualTo(4);
    assertThat(ranges.width()).isEqualTo(BigInteger.valueOf(25_000));
    assertThat(ranges.mariaDb()).isEqualTo("((`id` - 1) DIV 25000)");
    assertThat(ranges.spark()).isEqualTo("CAST((`id` - 1) DIV 25000 AS BIGINT)");
    assertThat(ranges.describe(3)).isEqualTo("id in [75001, 100001)");
    // Read through the primary key index, and the same rows as the range number says.
    assertThat(ranges.mariaDbRows(3)).isEqualTo("`id` >= 75001 AND `id` < 100001");
  }

  @Test
  void fewerKeysThanRangesGiveOneKeyPerRange() {
    KeyRanges.IntegerRanges ranges =
        KeyRanges.IntegerRanges.covering("id", BigInteger.valueOf(-1), BigInteger.ONE, 16);

    assertThat(ranges.count()).isEqualTo(3);
    assertThat(ranges.width()).isEqualTo(BigInteger.ONE);
    assertThat(KeyRanges.IntegerRanges.covering("id", BigInteger.ZERO, BigInteger.ZERO, 16).count())
        .isEqualTo(1);
  }

  @Test
  void anUnevenSpanMakesTheRangesOneWiderNotOneMore() {
    KeyRanges.IntegerRanges ranges =
        KeyRanges.IntegerRanges.covering("id", BigInteger.ONE, BigInteger.valueOf(10), 3);

    assertThat(ranges.width()).isEqualTo(BigInteger.valueOf(4));
    assertThat(ranges.count()).isEqualTo(3);
  }
}
