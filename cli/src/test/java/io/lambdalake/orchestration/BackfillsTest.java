package io.lambdalake.orchestration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BackfillsTest {
  private static final LocalDate FIRST = LocalDate.parse("2026-11-01");

  @Test
  void aRequestIsTheDagsParams() {
    Backfills.Request request =
        new Backfills.Request(FIRST, FIRST.plusDays(2), "fix-7", Backfills.VIEWS);

    assertThat(request.days()).isEqualTo(3);
    assertThat(request.conf())
        .isEqualTo(
            Map.of(
                "from", "2026-11-01",
                "to", "2026-11-03",
                "logic_version", "fix-7",
                "views", List.of("events_hourly", "pages_hourly")));
  }

  @Test
  void refusesABadRangeOrASubsetOfViews() {
    assertThatThrownBy(() -> new Backfills.Request(FIRST, FIRST.minusDays(1), "v", Backfills.VIEWS))
        .isInstanceOf(LakeException.class)
        .hasMessage("--to 2026-10-31 is before --from 2026-11-01")
        .extracting(error -> ((LakeException) error).errorCode())
        .isEqualTo(ErrorCode.INVALID_ARGUMENT);
    assertThatThrownBy(() -> new Backfills.Request(FIRST, FIRST, " ", Backfills.VIEWS))
        .hasMessage("--logic-version is empty");
    assertThatThrownBy(() -> new Backfills.Request(FIRST, FIRST, "v", List.of("pages_hourly")))
        .hasMessage(
            "--views pages_hourly is not supported: the batch job recomputes events_hourly and"
                + " pages_hourly together");
  }

  @Test
  void theReasonIsTheJobsOwnLineAboveTheOperatorsSummary() {
    List<String> log =
        List.of(
            "Executing <Task(BatchJobOperator): recompute_day> on 2026-11-22",
            "26/11/22 05:41:10 INFO Executor: Running task 1.0 in stage 0.0 (TID 1)",
            "lake batch: Quality check failed, nothing published: batch.events_hourly for"
                + " 2026-11-12 has 5 row(s) for hours outside the day",
            "AirflowFailException: Quality check failed, nothing published (the batch job's"
                + " reason is in the log above)");

    assertThat(Backfills.reason(log))
        .contains(
            "Quality check failed, nothing published: batch.events_hourly for 2026-11-12 has 5"
                + " row(s) for hours outside the day");
    assertThat(Backfills.reason(List.of("ValueError: to 2026-11-01 is before from 2026-11-02")))
        .contains("to 2026-11-01 is before from 2026-11-02");
    assertThat(Backfills.reason(List.of("INFO nothing to see"))).isEmpty();
  }
}
