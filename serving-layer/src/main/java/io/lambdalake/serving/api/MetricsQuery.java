package io.lambdalake.serving.api;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.time.ZoneId;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * A validated {@code /v1/metrics} request: hours whose start is in [from, to), of the given
 * tracking IDs (all of them the key's own), in periods of the zone.
 */
public record MetricsQuery(
    Metric metric,
    Granularity granularity,
    Instant from,
    Instant to,
    ZoneId zone,
    Optional<String> eventName,
    List<String> trackingIds)
    implements ApiQuery {
  public MetricsQuery {
    requireNonNull(metric, "metric is null");
    requireNonNull(granularity, "granularity is null");
    requireNonNull(from, "from is null");
    requireNonNull(to, "to is null");
    if (!from.isBefore(to)) {
      throw new IllegalArgumentException("from " + from + " is not before to " + to);
    }
    requireNonNull(zone, "zone is null");
    requireNonNull(eventName, "eventName is null");
    trackingIds = List.copyOf(trackingIds);
    if (trackingIds.isEmpty()) {
      throw new IllegalArgumentException("trackingIds is empty");
    }
  }

  @Override
  public <R> R match(
      Function<MetricsQuery, R> metrics,
      Function<TopPagesQuery, R> topPages,
      Function<BreakdownQuery, R> breakdown) {
    return metrics.apply(this);
  }
}
