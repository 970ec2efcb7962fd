package io.lambdalake.serving.api;

import static java.util.Objects.requireNonNull;

import io.lambdalake.common.config.ApiConfig;
import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The serving views in Trino, read through trino-jdbc. Every value from a request is a bound
 * parameter; the SQL text holds only the configured view names (checked to be plain identifiers)
 * and fragments chosen by enums.
 */
public final class TrinoMetricsSource implements MetricsSource {
  private static final String USERS = "cardinality(merge(CAST(users_sketch AS HyperLogLog)))";
  private final LakeConfig config;
  private final ApiConfig.Views views;
  private final int queryTimeoutSeconds;

  public TrinoMetricsSource(LakeConfig config) {
    this.config = requireNonNull(config, "config is null");
    // Trino cancels the query itself; the API answers 504 on its own timer.
    this.queryTimeoutSeconds =
        (int) Math.max(1, (config.api().queryTimeout().toMillis() + 999) / 1000);
    this.views = config.api().views();
  }

  @Override
  public SortedMap<Instant, Long> counts(MetricsQuery query) {
    Statement statement =
        switch (query.metric()) {
          case EVENTS -> hourly(query, "sum(events)", views.eventsHourly());
          case USERS -> hourly(query, USERS, views.eventsHourly());
          case PAGEVIEWS -> hourly(query, "sum(pageviews)", views.pagesHourly());
          case SESSIONS -> daily(query, "sum(sessions)", "", "");
          case REVENUE -> throw new IllegalArgumentException("revenue is not a count");
        };
    SortedMap<Instant, Long> series = new TreeMap<>();
    run(
        statement,
        row -> series.put(periodStart(query, row), row.getLong(2)),
        "reading " + query.metric().wireName());
    return series;
  }

  @Override
  public SortedMap<Instant, Map<String, BigDecimal>> revenue(MetricsQuery query) {
    Statement statement =
        daily(
            query,
            "currency, sum(amount)",
            " CROSS JOIN UNNEST(revenue) AS r(currency, amount)",
            ", 2");
    SortedMap<Instant, Map<String, BigDecimal>> series = new TreeMap<>();
    run(
        statement,
        row ->
            series
                .computeIfAbsent(periodStart(query, row), ignored -> new TreeMap<>())
                .put(row.getString(2), row.getBigDecimal(3)),
        "reading revenue");
    return series;
  }

  @Override
  public List<PageRow> topPages(TopPagesQuery query) {
    List<Object> parameters = new ArrayList<>(query.trackingIds());
    addHourRange(parameters, query.from(), query.to());
    parameters.add((long) query.limit());
    String sql =
        "SELECT page_url, sum(pageviews) AS pageviews, "
            + USERS
            + " AS users FROM "
            + views.pagesHourly()
            + " WHERE tracking_id IN ("
            + placeholders(query.trackingIds().size())
            + ")"
            + HOUR_RANGE
            + " GROUP BY page_url ORDER BY pageviews DESC, page_url LIMIT ?";
    List<PageRow> rows = new ArrayList<>();
    run(
        new Statement(sql, parameters),
        row -> rows.add(new PageRow(row.getString(1), row.getLong(2), row.getLong(3))),
        "reading top pages");
    return rows;
  }

  @Override
  public List<BreakdownRow> breakdown(BreakdownQuery query) {
    List<Object> parameters = new ArrayList<>(query.trackingIds());
    parameters.add(query.from().toString());
    parameters.add(query.to().plusDays(1).toString());
    parameters.add((long) query.limit());
    String sql =
        "SELECT "
            + query.dimension().column()
            + ", sum(sessions) AS sessions, sum(bounced_sessions), sum(events), "
            + USERS
            + " FROM "
            + views.trafficDaily()
            + " WHERE tracking_id IN ("
            + placeholders(query.trackingIds().size())
            + ") AND event_date >= CAST(? AS date) AND event_date < CAST(? AS date)"
            + " GROUP BY 1 ORDER BY sessions DESC, 1 LIMIT ?";
    List<BreakdownRow> rows = new ArrayList<>();
    run(
        new Statement(sql, parameters),
        row ->
            rows.add(
                new BreakdownRow(
                    row.getString(1),
                    row.getLong(2),
                    row.getLong(3),
                    row.getLong(4),
                    row.getLong(5))),
        "reading the " + query.dimension().wireName() + " breakdown");
    return rows;
  }

  /** The hours of the range; event_date (the hour's UTC date) lets Trino skip other days' files. */
  private static final String HOUR_RANGE =
      " AND event_date >= CAST(? AS date) AND event_date <= CAST(? AS date)"
          + " AND hour >= from_unixtime(?) AND hour < from_unixtime(?)";

  private static void addHourRange(List<Object> parameters, Instant from, Instant to) {
    parameters.add(LocalDate.ofInstant(from, ZoneOffset.UTC).toString());
    parameters.add(LocalDate.ofInstant(to.minusMillis(1), ZoneOffset.UTC).toString());
    parameters.add(from.getEpochSecond());
    parameters.add(to.getEpochSecond());
  }

  /** A series from an hourly view: periods in the query's zone, computed from UTC hours. */
  private static Statement hourly(MetricsQuery query, String value, String view) {
    List<Object> parameters = new ArrayList<>();
    String period =
        switch (query.granularity()) {
          case HOUR -> "hour";
          case DAY -> "date_trunc('day', at_timezone(hour, ?))";
          case WEEK -> "date_trunc('week', at_timezone(hour, ?))";
          case MONTH -> "date_trunc('month', at_timezone(hour, ?))";
        };
    if (query.granularity() != Granularity.HOUR) {
      parameters.add(query.zone().getId());
    }
    parameters.addAll(query.trackingIds());
    addHourRange(parameters, query.from(), query.to());
    String eventName = "";
    if (query.eventName().isPresent()) {
      eventName = " AND event_name = ?";
      parameters.add(query.eventName().get());
    }
    String sql =
        "SELECT to_unixtime("
            + period
            + ") AS period_start, "
            + value
            + " FROM "
            + view
            + " WHERE tracking_id IN ("
            + placeholders(query.trackingIds().size())
            + ")"
            + HOUR_RANGE
            + eventName
            + " GROUP BY 1";
    return new Statement(sql, parameters);
  }

  /** A series from the daily sessions view: UTC days, weeks from Monday, months. */
  private Statement daily(MetricsQuery query, String values, String join, String moreGroups) {
    String period =
        switch (query.granularity()) {
          case HOUR -> throw new IllegalArgumentException("daily views have no hours");
          case DAY -> "event_date";
          case WEEK -> "date_trunc('week', event_date)";
          case MONTH -> "date_trunc('month', event_date)";
        };
    List<Object> parameters = new ArrayList<>(query.trackingIds());
    parameters.add(LocalDate.ofInstant(query.from(), ZoneOffset.UTC).toString());
    parameters.add(LocalDate.ofInstant(query.to(), ZoneOffset.UTC).toString());
    String sql =
        "SELECT CAST("
            + period
            + " AS varchar) AS period_start, "
            + values
            + " FROM "
            + views.sessionsDaily()
            + join
            + " WHERE tracking_id IN ("
            + placeholders(query.trackingIds().size())
            + ") AND event_date >= CAST(? AS date) AND event_date < CAST(? AS date)"
            + " GROUP BY 1"
            + moreGroups;
    return new Statement(sql, parameters);
  }

  private static Instant periodStart(MetricsQuery query, ResultSet row) throws SQLException {
    if (query.metric().source() == Metric.Source.DAILY_UTC) {
      return LocalDate.parse(row.getString(1)).atStartOfDay(ZoneOffset.UTC).toInstant();
    }
    return Instant.ofEpochMilli(Math.round(row.getDouble(1) * 1000));
  }

  private static String placeholders(int count) {
    return String.join(", ", Collections.nCopies(count, "?"));
  }

  private record Statement(String sql, List<Object> parameters) {}

  private interface RowReader {
    void read(ResultSet row) throws SQLException;
  }

  private void run(Statement statement, RowReader reader, String what) {
    try (Connection connection = connection();
        PreparedStatement prepared = connection.prepareStatement(statement.sql())) {
      prepared.setQueryTimeout(queryTimeoutSeconds);
      for (int index = 0; index < statement.parameters().size(); index++) {
        Object parameter = statement.parameters().get(index);
        if (parameter instanceof Long number) {
          prepared.setLong(index + 1, number);
        } else {
          prepared.setString(index + 1, (String) parameter);
        }
      }
      try (ResultSet rows = prepared.executeQuery()) {
        while (rows.next()) {
          reader.read(rows);
        }
      }
    } catch (SQLException e) {
      throw new LakeException(
          ErrorCode.SERVER_NOT_AVAILABLE,
          "Trino at " + config.trino().url() + " failed " + what + ": " + e.getMessage(),
          e);
    }
  }

  private Connection connection() throws SQLException {
    Properties properties = new Properties();
    properties.setProperty("user", config.trino().user());
    properties.setProperty("source", "lambda-lake-api");
    Connection connection = DriverManager.getConnection(config.trino().url(), properties);
    connection.setCatalog(config.trino().catalog());
    return connection;
  }
}
