package io.lambdalake.serving.api;

import java.util.Arrays;
import java.util.Optional;

/** What {@code /v1/breakdowns} groups by, mapped to a column of the daily traffic view. */
public enum Dimension {
  SOURCE("source", "traffic_source"),
  MEDIUM("medium", "traffic_medium"),
  CAMPAIGN("campaign", "traffic_campaign"),
  DEVICE("device", "device_class"),
  BROWSER("browser", "browser");

  private final String wireName;
  private final String column;

  Dimension(String wireName, String column) {
    this.wireName = wireName;
    this.column = column;
  }

  public String wireName() {
    return wireName;
  }

  /** The column in SQL: fixed here, never taken from a request. */
  public String column() {
    return column;
  }

  public static Optional<Dimension> fromWireName(String name) {
    return Arrays.stream(values()).filter(value -> value.wireName.equals(name)).findFirst();
  }
}
