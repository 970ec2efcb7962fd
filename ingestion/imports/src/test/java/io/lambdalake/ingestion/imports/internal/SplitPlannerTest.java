package io.lambdalake.ingestion.imports.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class SplitPlannerTest {
  private static SplitPlanner.Bounds bounds(SplitPlanner.Kind kind, Object min, Object max) {
    return new SplitPlanner.Bounds(kind, Optional.of(min), Optional.of(max));
  }

  @Test
  void integerRangesAreHalfOpenExceptTheLastAndTheFirstTakesNulls() {
    List<String> predicates =
        SplitPlanner.predicates(
            "id", bounds(SplitPlanner.Kind.INTEGER, new BigDecimal(1), new BigDecimal(100)), 4);

    assertThat(predicates)
        .containsExactly(
            "(id >= 1 AND id < 25) OR id IS NULL",
            "id >= 25 AND id < 50",
            "id >= 50 AND id < 75",
            "id >= 75 AND id <= 100");
  }

  @Test
  void neverMoreRangesThanValues() {
    assertThat(
            SplitPlanner.predicates(
                "id", bounds(SplitPlanner.Kind.INTEGER, new BigDecimal(5), new BigDecimal(6)), 4))
        .containsExactly("(id >= 5 AND id <= 6) OR id IS NULL");
    assertThat(
            SplitPlanner.predicates(
                "id", bounds(SplitPlanner.Kind.INTEGER, new BigDecimal(7), new BigDecimal(7)), 4))
        .containsExactly("(id = 7) OR id IS NULL");
  }

  @Test
  void onlyNullsOrNoRowsIsOneRead() {
    assertThat(
            SplitPlanner.predicates(
                "id",
                new SplitPlanner.Bounds(
                    SplitPlanner.Kind.INTEGER, Optional.empty(), Optional.empty()),
                4))
        .containsExactly("1 = 1");
  }

  @Test
  void decimalDateAndTimestampRanges() {
    assertThat(
            SplitPlanner.predicates(
                "amount",
                bounds(SplitPlanner.Kind.DECIMAL, new BigDecimal("0.00"), new BigDecimal("1.00")),
                2))
        .containsExactly(
            "(amount >= 0.00 AND amount < 0.5) OR amount IS NULL",
            "amount >= 0.5 AND amount <= 1.00");
    assertThat(
            SplitPlanner.predicates(
                "day",
                bounds(SplitPlanner.Kind.DATE, LocalDate.of(2026, 1, 1), LocalDate.of(2026, 1, 5)),
                2))
        .containsExactly(
            "(day >= '2026-01-01' AND day < '2026-01-03') OR day IS NULL",
            "day >= '2026-01-03' AND day <= '2026-01-05'");
    assertThat(
            SplitPlanner.predicates(
                "at",
                bounds(
                    SplitPlanner.Kind.TIMESTAMP,
                    LocalDateTime.of(2026, 1, 1, 0, 0),
                    LocalDateTime.of(2026, 1, 1, 0, 0, 1)),
                2))
        .containsExactly(
            "(at >= '2026-01-01 00:00:00.000000' AND at < '2026-01-01 00:00:00.500000') OR at IS NULL",
            "at >= '2026-01-01 00:00:00.500000' AND at <= '2026-01-01 00:00:01.000000'");
  }
}
