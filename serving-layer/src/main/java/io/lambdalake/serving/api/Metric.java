package io.lambdalake.serving.api;

import java.util.Arrays;
import java.util.Optional;

/** What {@code /v1/metrics} counts, with its wire name. */
public enum Metric {
  /** Events, from the merged hourly events view. */
  EVENTS("events", Source.HOURLY),
  /** Unique users (HyperLogLog, about 1.6% standard error), from the merged hourly events view. */
  USERS("users", Source.HOURLY),
  /** Page views, from the merged hourly pages view. */
  PAGEVIEWS("pageviews", Source.HOURLY),
  /** Sessions (30-minute rule, cut at midnight UTC), from the batch-only daily view. */
  SESSIONS("sessions", Source.DAILY_UTC),
  /** Revenue per currency, from the batch-only daily view. */
  REVENUE("revenue", Source.DAILY_UTC);

  /** Where a metric comes from, which decides the granularities and time zones it supports. */
  public enum Source {
    /** UTC hours of batch and speed merged: any granularity, any time zone. */
    HOURLY,
    /** UTC days the batch layer covers: day, week or month, in UTC only. */
    DAILY_UTC
  }

  private final String wireName;
  private final Source source;

  Metric(String wireName, Source source) {
    this.wireName = wireName;
    this.source = source;
  }

  public String wireName() {
    return wireName;
  }

  public Source source() {
    return source;
  }

  public boolean takesEventName() {
    return this == EVENTS || this == USERS;
  }

  public static Optional<Metric> fromWireName(String name) {
    return Arrays.stream(values()).filter(metric -> metric.wireName.equals(name)).findFirst();
  }
}
