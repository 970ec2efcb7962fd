package io.lambdalake.serving.api;

import java.time.DayOfWeek;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.time.temporal.TemporalAdjusters;
import java.util.Arrays;
import java.util.Optional;

/** The periods of a series. Days, ISO weeks (from Monday) and months follow the request's zone. */
public enum Granularity {
  HOUR("hour"),
  DAY("day"),
  WEEK("week"),
  MONTH("month");

  private final String wireName;

  Granularity(String wireName) {
    this.wireName = wireName;
  }

  public String wireName() {
    return wireName;
  }

  public static Optional<Granularity> fromWireName(String name) {
    return Arrays.stream(values()).filter(value -> value.wireName.equals(name)).findFirst();
  }

  /**
   * The start of the period an hour belongs to. An hour belongs to the period in which it starts,
   * in the zone: exact where offsets are whole hours; in zones such as Asia/Kolkata (+05:30) the
   * hour 18:00-19:00 UTC (23:30-00:30 there) counts for the day it starts in.
   */
  public Instant periodOf(Instant hourStart, ZoneId zone) {
    ZonedDateTime local = hourStart.atZone(zone);
    return switch (this) {
      case HOUR -> hourStart.truncatedTo(ChronoUnit.HOURS);
      case DAY -> local.toLocalDate().atStartOfDay(zone).toInstant();
      case WEEK ->
          local
              .toLocalDate()
              .with(TemporalAdjusters.previousOrSame(DayOfWeek.MONDAY))
              .atStartOfDay(zone)
              .toInstant();
      case MONTH -> local.toLocalDate().withDayOfMonth(1).atStartOfDay(zone).toInstant();
    };
  }

  /** The start of the period after the one starting at {@code periodStart}. */
  public Instant next(Instant periodStart, ZoneId zone) {
    ZonedDateTime local = periodStart.atZone(zone);
    return switch (this) {
      case HOUR -> periodStart.plus(1, ChronoUnit.HOURS);
      case DAY -> local.toLocalDate().plusDays(1).atStartOfDay(zone).toInstant();
      case WEEK -> local.toLocalDate().plusWeeks(1).atStartOfDay(zone).toInstant();
      case MONTH -> local.toLocalDate().plusMonths(1).atStartOfDay(zone).toInstant();
    };
  }
}
