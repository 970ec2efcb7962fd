package io.lambdalake.serving.api;

import static java.util.Objects.requireNonNull;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;

/** Where the API's numbers come from: the serving views in Trino, or a fake in unit tests. */
public interface MetricsSource {
  /** Period start to count (events, users, page views or sessions); periods without data absent. */
  SortedMap<Instant, Long> counts(MetricsQuery query);

  /** Period start to revenue per currency; periods without data absent. */
  SortedMap<Instant, Map<String, BigDecimal>> revenue(MetricsQuery query);

  List<PageRow> topPages(TopPagesQuery query);

  List<BreakdownRow> breakdown(BreakdownQuery query);

  /** One page of the top pages: its views and unique users. */
  record PageRow(String pageUrl, long pageviews, long users) {
    public PageRow {
      requireNonNull(pageUrl, "pageUrl is null");
    }
  }

  /** One value of a breakdown dimension: its sessions, bounces, events and unique users. */
  record BreakdownRow(String value, long sessions, long bouncedSessions, long events, long users) {
    public BreakdownRow {
      requireNonNull(value, "value is null");
    }
  }
}
