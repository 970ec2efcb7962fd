package io.lambdalake.serving.verify;

import static java.util.Objects.requireNonNull;

import io.lambdalake.common.config.TrinoConfig;
import io.lambdalake.common.table.LakeTable;
import io.lambdalake.serving.ServingView;
import io.lambdalake.spark.views.HourlyViews.BotPolicy;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;

/**
 * A serving view {@code lake verify} checks, and how to recompute it from {@code raw.events} in
 * Trino with the definitions of spark-common's HourlyViews: UTC hours of the event time, bots left
 * out unless asked for, a user is {@code coalesce(user_id, client_id)}, a page is its URL without
 * query string and fragment. Unique users compare the cardinality of the merged sketches with that
 * of {@code approx_set} over the raw rows: the sketches are byte-identical, so equal sets of users
 * give exactly equal numbers.
 */
enum VerifiedView {
  EVENTS_HOURLY(
      ServingView.EVENTS_HOURLY,
      "event_name",
      "event_name",
      "",
      List.of(
          new Metric("events", "count(*)", "sum(events)"),
          new Metric(
              "users",
              "cardinality(approx_set(coalesce(user_id, client_id)))",
              "cardinality(merge(CAST(users_sketch AS HyperLogLog)))"),
          new Metric("value_sum", "sum(value)", "sum(value_sum)"),
          new Metric("valued_events", "count(value)", "sum(valued_events)"))),
  PAGES_HOURLY(
      ServingView.PAGES_HOURLY,
      "page_url",
      "regexp_replace(page_url, '[?#].*$', '')",
      " AND event_name = 'page_view' AND page_url IS NOT NULL",
      List.of(
          new Metric("pageviews", "count(*)", "sum(pageviews)"),
          new Metric(
              "users",
              "cardinality(approx_set(coalesce(user_id, client_id)))",
              "cardinality(merge(CAST(users_sketch AS HyperLogLog)))")));

  /** A metric: its name, its aggregate over raw rows, its aggregate over the view's rows. */
  record Metric(String name, String fromRaw, String fromView) {
    Metric {
      requireNonNull(name, "name is null");
      requireNonNull(fromRaw, "fromRaw is null");
      requireNonNull(fromView, "fromView is null");
    }
  }

  /** Reported when the view has more than one row for a key (an hour counted twice). */
  static final String VIEW_ROWS = "view_rows";

  private static final DateTimeFormatter TIMESTAMP =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss").withZone(ZoneOffset.UTC);

  private final ServingView view;
  private final String keyColumn;
  private final String keyFromRaw;
  private final String rawFilter;
  private final List<Metric> metrics;

  VerifiedView(
      ServingView view,
      String keyColumn,
      String keyFromRaw,
      String rawFilter,
      List<Metric> metrics) {
    this.view = view;
    this.keyColumn = keyColumn;
    this.keyFromRaw = keyFromRaw;
    this.rawFilter = rawFilter;
    this.metrics = List.copyOf(metrics);
  }

  ServingView view() {
    return view;
  }

  String keyColumn() {
    return keyColumn;
  }

  List<Metric> metrics() {
    return metrics;
  }

  /**
   * One query comparing the view with the recomputation over [from, to): a FULL OUTER JOIN on the
   * key, then grouping sets that return every key with a difference and one summary row (grouping
   * level 7) with the number of keys compared and of keys that differ.
   *
   * <p>Columns: grouping_level, tracking_id, hour_seconds, name, keys, differing, view_rows, then
   * expected_X and actual_X per metric.
   */
  String comparison(TrinoConfig trino, Instant from, Instant to, BotPolicy botPolicy) {
    String rawEvents =
        trino.schema(LakeTable.RAW_EVENTS.zone()) + "." + LakeTable.RAW_EVENTS.table();
    String hours =
        " >= TIMESTAMP '"
            + TIMESTAMP.format(from)
            + " UTC' AND %s < TIMESTAMP '"
            + TIMESTAMP.format(to)
            + " UTC'";
    String days =
        "event_date BETWEEN DATE '"
            + LocalDate.ofInstant(from, ZoneOffset.UTC)
            + "' AND DATE '"
            + LocalDate.ofInstant(to.minusMillis(1), ZoneOffset.UTC)
            + "'";
    StringBuilder sql = new StringBuilder();
    sql.append("WITH expected AS (\n  SELECT tracking_id, date_trunc('hour', event_time) AS hour, ")
        .append(keyFromRaw)
        .append(" AS name");
    for (Metric metric : metrics) {
      sql.append(",\n    ").append(metric.fromRaw()).append(" AS ").append(metric.name());
    }
    sql.append("\n  FROM ")
        .append(rawEvents)
        .append("\n  WHERE ")
        .append(days)
        .append(" AND event_time")
        .append(String.format(hours, "event_time"))
        .append(
            switch (botPolicy) {
              case EXCLUDE_BOTS -> " AND NOT is_bot";
              case INCLUDE_BOTS -> "";
            })
        .append(rawFilter)
        .append("\n  GROUP BY 1, 2, 3\n),\nactual AS (\n  SELECT tracking_id, hour, ")
        .append(keyColumn)
        .append(" AS name");
    for (Metric metric : metrics) {
      sql.append(",\n    ").append(metric.fromView()).append(" AS ").append(metric.name());
    }
    sql.append(",\n    count(*) AS view_rows\n  FROM ")
        .append(view.qualifiedName(trino))
        .append("\n  WHERE ")
        .append(days)
        .append(" AND hour")
        .append(String.format(hours, "hour"))
        .append("\n  GROUP BY 1, 2, 3\n),\ncompared AS (\n")
        .append("  SELECT coalesce(e.tracking_id, a.tracking_id) AS tracking_id,\n")
        .append("    to_unixtime(coalesce(e.hour, a.hour)) AS hour_seconds,\n")
        .append("    coalesce(e.name, a.name) AS name,\n")
        .append("    a.view_rows");
    for (Metric metric : metrics) {
      sql.append(",\n    e.")
          .append(metric.name())
          .append(" AS expected_")
          .append(metric.name())
          .append(", a.")
          .append(metric.name())
          .append(" AS actual_")
          .append(metric.name());
    }
    sql.append(",\n    (coalesce(a.view_rows, 1) > 1");
    for (Metric metric : metrics) {
      sql.append(" OR e.")
          .append(metric.name())
          .append(" IS DISTINCT FROM a.")
          .append(metric.name());
    }
    sql.append(") AS differs\n  FROM expected e FULL OUTER JOIN actual a\n")
        .append("    ON e.tracking_id = a.tracking_id AND e.hour = a.hour AND e.name = a.name\n)\n")
        .append("SELECT grouping(tracking_id, hour_seconds, name) AS grouping_level,\n")
        .append(
            "  tracking_id, hour_seconds, name, count(*) AS keys, count_if(differs) AS differing,")
        .append("\n  sum(view_rows) AS view_rows");
    for (Metric metric : metrics) {
      sql.append(",\n  sum(expected_")
          .append(metric.name())
          .append(") AS expected_")
          .append(metric.name())
          .append(", sum(actual_")
          .append(metric.name())
          .append(") AS actual_")
          .append(metric.name());
    }
    sql.append("\nFROM compared\n")
        .append("GROUP BY GROUPING SETS ((tracking_id, hour_seconds, name), ())\n")
        .append("HAVING grouping(tracking_id, hour_seconds, name) = 7 OR count_if(differs) > 0\n")
        .append("ORDER BY grouping_level, tracking_id, hour_seconds, name");
    return sql.toString();
  }
}
