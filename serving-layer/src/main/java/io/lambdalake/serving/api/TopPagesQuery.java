package io.lambdalake.serving.api;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.time.ZoneId;
import java.util.List;
import java.util.function.Function;

/** A validated {@code /v1/top-pages} request: pages by views over the hours in [from, to). */
public record TopPagesQuery(
    Instant from, Instant to, ZoneId zone, List<String> trackingIds, int limit)
    implements ApiQuery {
  public TopPagesQuery {
    requireNonNull(from, "from is null");
    requireNonNull(to, "to is null");
    if (!from.isBefore(to)) {
      throw new IllegalArgumentException("from " + from + " is not before to " + to);
    }
    requireNonNull(zone, "zone is null");
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
    return topPages.apply(this);
  }
}
