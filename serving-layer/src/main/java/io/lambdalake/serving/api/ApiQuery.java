package io.lambdalake.serving.api;

import java.util.List;
import java.util.function.Function;

/**
 * A validated request of the metrics API, one record per endpoint. The set is closed, and {@link
 * #match} is the exhaustive switch over it that Java 17 allows (a {@code switch} over sealed types
 * needs Java 21): a new kind of query does not compile until every caller handles it.
 */
public sealed interface ApiQuery permits MetricsQuery, TopPagesQuery, BreakdownQuery {

  /** The tracking IDs the query reads, all of them the API key's own. */
  List<String> trackingIds();

  /** The result of the function for this query's kind. */
  <R> R match(
      Function<MetricsQuery, R> metrics,
      Function<TopPagesQuery, R> topPages,
      Function<BreakdownQuery, R> breakdown);
}
