package io.lambdalake.serving.api;

import static java.util.Objects.requireNonNull;

import java.time.LocalDate;
import java.util.List;
import java.util.function.Function;

/** A validated {@code /v1/breakdowns} request: sessions by a dimension over UTC days [from, to]. */
public record BreakdownQuery(
    Dimension dimension, LocalDate from, LocalDate to, List<String> trackingIds, int limit)
    implements ApiQuery {
  public BreakdownQuery {
    requireNonNull(dimension, "dimension is null");
    requireNonNull(from, "from is null");
    requireNonNull(to, "to is null");
    if (to.isBefore(from)) {
      throw new IllegalArgumentException("to " + to + " is before from " + from);
    }
    trackingIds = List.copyOf(trackingIds);
    if (trackingIds.isEmpty() || limit < 1) {
      throw new IllegalArgumentException("no tracking IDs, or limit " + limit + " below 1");
    }
  }

  @Override
  public <R> R match(
      Function<MetricsQuery, R> metrics,
      Function<TopPagesQuery, R> topPages,
      Function<BreakdownQuery, R> breakdown) {
    return breakdown.apply(this);
  }
}
