package io.lambdalake.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lambdalake.spark.DirtyHours.DirtyDay;
import io.lambdalake.spark.DirtyHours.Reason;
import io.lambdalake.spark.DirtyHours.Result;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class DirtyHoursTest {
  private static final Instant COVERED_UNTIL = Instant.parse("2026-11-21T00:00:00Z");

  @Test
  void groupsTheHoursBeforeTheCoverageByDayInOrder() {
    List<DirtyDay> days =
        DirtyHours.dirtyDays(
            List.of(
                Instant.parse("2026-11-20T23:00:00Z"),
                Instant.parse("2026-11-19T21:00:00Z"),
                Instant.parse("2026-11-19T03:00:00Z"),
                Instant.parse("2026-11-19T21:00:00Z")),
            COVERED_UNTIL,
            Reason.ADDED_SINCE_COMPUTED);

    assertThat(days)
        .containsExactly(
            new DirtyDay(
                LocalDate.parse("2026-11-19"),
                List.of(
                    Instant.parse("2026-11-19T03:00:00Z"), Instant.parse("2026-11-19T21:00:00Z")),
                Reason.ADDED_SINCE_COMPUTED),
            new DirtyDay(
                LocalDate.parse("2026-11-20"),
                List.of(Instant.parse("2026-11-20T23:00:00Z")),
                Reason.ADDED_SINCE_COMPUTED));
  }

  @Test
  void hoursAtOrAfterTheCoverageAreTheSpeedLayersNotDirty() {
    assertThat(
            DirtyHours.dirtyDays(
                List.of(COVERED_UNTIL, Instant.parse("2026-11-23T05:00:00Z")),
                COVERED_UNTIL,
                Reason.ADDED_SINCE_COMPUTED))
        .isEmpty();
  }

  @Test
  void anHourIsTheHourItStartsIn() {
    assertThat(
            DirtyHours.dirtyDays(
                    List.of(Instant.parse("2026-11-20T23:59:59Z")),
                    COVERED_UNTIL,
                    Reason.ADDED_SINCE_COMPUTED)
                .get(0)
                .hours())
        .containsExactly(Instant.parse("2026-11-20T23:00:00Z"));
  }

  @Test
  void conservativelyEveryCoveredDayFromTheFirstDayOfData() {
    assertThat(
            DirtyHours.wholeDays(
                LocalDate.parse("2026-11-18"), COVERED_UNTIL, Reason.LOG_NOT_RETAINED))
        .extracting(DirtyDay::day)
        .containsExactly(
            LocalDate.parse("2026-11-18"),
            LocalDate.parse("2026-11-19"),
            LocalDate.parse("2026-11-20"));
    assertThat(
            DirtyHours.wholeDays(
                LocalDate.parse("2026-11-21"), COVERED_UNTIL, Reason.NO_RECORDED_VERSION))
        .isEmpty();
  }

  @Test
  void readsTheCommitFilesAfterTheRecordedVersion() {
    assertThat(DirtyHours.commitFiles("s3a://lake/raw/events", 9, 11))
        .containsExactly(
            "s3a://lake/raw/events/_delta_log/00000000000000000010.json",
            "s3a://lake/raw/events/_delta_log/00000000000000000011.json");
    assertThatThrownBy(() -> DirtyHours.commitFiles("s3a://lake/raw/events", 11, 11))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("through 11 is not after since 11");
  }

  @Test
  void resolvesTheDataFileAnAddActionNames() {
    assertThat(
            DirtyHours.dataFile(
                "s3a://lake/raw/events", "event_date=2026-11-19/part-00000-a%20b.snappy.parquet"))
        .isEqualTo("s3a://lake/raw/events/event_date=2026-11-19/part-00000-a b.snappy.parquet");
    assertThat(DirtyHours.dataFile("s3a://lake/raw/events", "s3a://other/part-1.parquet"))
        .isEqualTo("s3a://other/part-1.parquet");
  }

  @Test
  void describesWhatItFoundAndWhy() {
    Result result =
        new Result(
            Optional.of(11L),
            14,
            Optional.of(COVERED_UNTIL),
            List.of(
                new DirtyDay(
                    LocalDate.parse("2026-11-19"),
                    List.of(Instant.parse("2026-11-19T21:00:00Z")),
                    Reason.ADDED_SINCE_COMPUTED)),
            List.of("s3a://lake/raw/events/event_date=2026-11-19/part-1.parquet"));

    assertThat(result.describe())
        .containsExactly(
            "dirty hours: raw.events after version 11 up to version 14, covered until"
                + " 2026-11-21T00:00:00Z: 1 day(s) (1 added file(s) read)",
            "  2026-11-19 21:00: events landed after the day was last computed");
    assertThat(result.dirtyDays()).containsExactly(LocalDate.parse("2026-11-19"));
  }
}
