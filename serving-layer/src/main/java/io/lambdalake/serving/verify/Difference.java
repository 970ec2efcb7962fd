package io.lambdalake.serving.verify;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.Optional;

/**
 * One metric of one row that differs between the serving view and the recomputation from {@code
 * raw.events}: the view, the row's key (tracking ID, hour, and event name or page), the metric, and
 * both values; an empty value means that side has no row for the key.
 */
public record Difference(
    String view,
    String trackingId,
    Instant hour,
    String keyColumn,
    String key,
    String metric,
    Optional<String> expected,
    Optional<String> actual) {
  public Difference {
    requireNonNull(view, "view is null");
    requireNonNull(trackingId, "trackingId is null");
    requireNonNull(hour, "hour is null");
    requireNonNull(keyColumn, "keyColumn is null");
    requireNonNull(key, "key is null");
    requireNonNull(metric, "metric is null");
    requireNonNull(expected, "expected is null");
    requireNonNull(actual, "actual is null");
  }

  /** One line: the view, the key, the metric, what raw.events says and what the view says. */
  public String toLine() {
    return String.join(
        " ",
        view,
        "tracking_id=" + trackingId,
        "hour=" + hour,
        keyColumn + "=" + key,
        "metric=" + metric,
        "expected=" + expected.orElse("(no row)"),
        "actual=" + actual.orElse("(no row)"));
  }
}
