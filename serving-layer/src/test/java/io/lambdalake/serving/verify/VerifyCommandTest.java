package io.lambdalake.serving.verify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lambdalake.common.config.TrinoConfig;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.spark.views.HourlyViews.BotPolicy;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class VerifyCommandTest {
  private static final Instant FROM = Instant.parse("2026-11-20T00:00:00Z");
  private static final Instant TO = Instant.parse("2026-11-21T05:00:00Z");

  @Test
  void readsDatesAndUtcTimes() {
    assertThat(VerifyCommand.parseTime("2026-11-20", "--from")).isEqualTo(FROM);
    assertThat(VerifyCommand.parseTime("2026-11-21T05:00Z", "--to")).isEqualTo(TO);
    assertThat(VerifyCommand.parseTime("2026-11-21T05:00:00Z", "--to")).isEqualTo(TO);
    assertThat(VerifyCommand.parseTime("2026-11-21T06:00+01:00", "--to")).isEqualTo(TO);
    assertThat(VerifyCommand.parseTime("2026-11-21T05:00", "--to")).isEqualTo(TO);
  }

  @Test
  void refusesWhatIsNotATime() {
    assertThatThrownBy(() -> VerifyCommand.parseTime("yesterday", "--from"))
        .isInstanceOf(LakeException.class)
        .hasMessage(
            "--from 'yesterday' is neither a date (2026-11-20) nor a time (2026-11-20T05:00Z, UTC"
                + " when without offset)");
  }

  @Test
  void rangesAreWholeHoursForward() {
    assertThatThrownBy(() -> options(Instant.parse("2026-11-20T05:30:00Z"), TO))
        .isInstanceOf(LakeException.class)
        .hasMessage(
            "--from 2026-11-20T05:30:00Z is not on a whole hour: the views hold whole UTC hours,"
                + " e.g. 2026-11-20T05:00:00Z")
        .extracting(error -> ((LakeException) error).errorCode())
        .isEqualTo(ErrorCode.INVALID_ARGUMENT);
    assertThatThrownBy(() -> options(TO, FROM))
        .hasMessage("--to 2026-11-20T00:00:00Z must be after --from 2026-11-21T05:00:00Z");
    assertThatThrownBy(() -> options(FROM, FROM)).hasMessageContaining("must be after");
  }

  @Test
  void comparesInOneQueryPerViewWithTheDefinitionsOfTheHourlyViews() {
    TrinoConfig trino = new TrinoConfig("jdbc:trino://127.0.0.1:18080", "lake", "lake", "it_");

    String events = VerifiedView.EVENTS_HOURLY.comparison(trino, FROM, TO, BotPolicy.EXCLUDE_BOTS);

    assertThat(events)
        .contains("FROM it_raw.events")
        .contains("FROM it_serving.events_hourly")
        .contains("date_trunc('hour', event_time)")
        .contains("cardinality(approx_set(coalesce(user_id, client_id)))")
        .contains("cardinality(merge(CAST(users_sketch AS HyperLogLog)))")
        .contains("event_date BETWEEN DATE '2026-11-20' AND DATE '2026-11-21'")
        .contains(
            "event_time >= TIMESTAMP '2026-11-20 00:00:00 UTC' AND event_time < TIMESTAMP"
                + " '2026-11-21 05:00:00 UTC'")
        .contains(" AND NOT is_bot")
        .contains("FULL OUTER JOIN")
        .contains("GROUPING SETS");
    assertThat(VerifiedView.EVENTS_HOURLY.comparison(trino, FROM, TO, BotPolicy.INCLUDE_BOTS))
        .doesNotContain("is_bot");
    assertThat(VerifiedView.PAGES_HOURLY.comparison(trino, FROM, TO, BotPolicy.EXCLUDE_BOTS))
        .contains("regexp_replace(page_url, '[?#].*$', '') AS name")
        .contains("event_name = 'page_view' AND page_url IS NOT NULL")
        .contains("FROM it_serving.pages_hourly");
    // A range ending at midnight does not read the next day's partition.
    assertThat(
            VerifiedView.EVENTS_HOURLY.comparison(
                trino, FROM, Instant.parse("2026-11-21T00:00:00Z"), BotPolicy.EXCLUDE_BOTS))
        .contains("event_date BETWEEN DATE '2026-11-20' AND DATE '2026-11-20'");
  }

  @Test
  void aDifferenceIsOneLineWithItsKeyAndBothValues() {
    Difference difference =
        new Difference(
            "serving.events_hourly",
            "LL-A",
            Instant.parse("2026-11-20T05:00:00Z"),
            "event_name",
            "page_view",
            "events",
            Optional.of("12"),
            Optional.empty());

    assertThat(difference.toLine())
        .isEqualTo(
            "serving.events_hourly tracking_id=LL-A hour=2026-11-20T05:00:00Z"
                + " event_name=page_view metric=events expected=12 actual=(no row)");
  }

  private static ServingVerifier.Options options(Instant from, Instant to) {
    return new ServingVerifier.Options(from, to, BotPolicy.EXCLUDE_BOTS, Duration.ofDays(7));
  }
}
