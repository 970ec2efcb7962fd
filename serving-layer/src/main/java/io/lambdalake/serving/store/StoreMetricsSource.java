package io.lambdalake.serving.store;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lambdalake.serving.api.BreakdownQuery;
import io.lambdalake.serving.api.Granularity;
import io.lambdalake.serving.api.MetricsQuery;
import io.lambdalake.serving.api.MetricsSource;
import io.lambdalake.serving.api.TopPagesQuery;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The metrics API's point reads from the serving store that {@code lake serving-sync} keeps:
 * events, unique users, page views and top pages of the merged hourly views, with batch rows before
 * the coverage watermark and speed rows at and after it, and sessions, revenue and breakdowns of
 * the batch layer's daily views for the days the coverage covers, as in the Trino views. Each read
 * is one consistent snapshot of the store (one statement, or one transaction), so a sync round is
 * seen whole or not at all. Unique users are merged from the sketches here, as Trino merges them.
 */
public final class StoreMetricsSource implements MetricsSource, AutoCloseable {
  /** The batch and speed tables of a merged hourly view, and its row in the coverage. */
  private record Layers(StoreTable batch, StoreTable speed, String coverageView) {}

  private static final long SECONDS_PER_DAY = 86_400;
  private static final int REVENUE_SCALE = 4;

  private static final Layers EVENTS =
      new Layers(StoreTable.BATCH_EVENTS_HOURLY, StoreTable.SPEED_EVENTS_HOURLY, "events_hourly");
  private static final Layers PAGES =
      new Layers(StoreTable.BATCH_PAGES_HOURLY, StoreTable.SPEED_PAGES_HOURLY, "pages_hourly");

  /** The first day the daily views do not cover: the UTC day of the events' watermark. */
  private static final String COVERED_DAYS_END =
      "(SELECT FLOOR(MAX(covered_until) / 86400) FROM "
          + StoreTable.BATCH_COVERAGE.tableName()
          + " WHERE view_name = 'events_hourly')";

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);

  private final StoreDatabase store;
  private final int queryTimeoutSeconds;

  public StoreMetricsSource(StoreDatabase store, Duration queryTimeout) {
    this.store = requireNonNull(store, "store is null");
    this.queryTimeoutSeconds = (int) Math.max(1, (queryTimeout.toMillis() + 999) / 1000);
  }

  @Override
  public SortedMap<Instant, Long> counts(MetricsQuery query) {
    HourlyFold fold = new HourlyFold(query.granularity(), query.zone());
    switch (query.metric()) {
      case EVENTS -> sumPerHour(query, EVENTS, "events", fold);
      case PAGEVIEWS -> sumPerHour(query, PAGES, "pageviews", fold);
      case USERS -> {
        Statement statement = merged(query, EVENTS, "hour, users_sketch");
        read(
            statement,
            row -> fold.addSketch(row.getLong(1), row.getBytes(2)),
            "reading unique users");
        return fold.uniqueUsers();
      }
      case SESSIONS -> {
        HourlyFold days = new HourlyFold(query.granularity(), ZoneOffset.UTC);
        Statement sessions =
            daily(query, "SELECT event_date, SUM(sessions)", " GROUP BY event_date");
        read(
            sessions,
            row -> days.addCount(row.getLong(1) * SECONDS_PER_DAY, row.getLong(2)),
            "reading sessions");
        return days.counts();
      }
      case REVENUE -> throw new IllegalArgumentException("revenue is not a count");
    }
    return fold.counts();
  }

  private void sumPerHour(MetricsQuery query, Layers layers, String column, HourlyFold fold) {
    Statement rows = merged(query, layers, "hour, " + column + " AS value");
    Statement perHour =
        new Statement(
            "SELECT hour, SUM(value) FROM (" + rows.sql() + ") merged GROUP BY hour",
            rows.parameters());
    read(perHour, row -> fold.addCount(row.getLong(1), row.getLong(2)), "reading " + column);
  }

  /** Revenue per period and currency, summed from each day's map (its JSON in the store). */
  @Override
  public SortedMap<Instant, Map<String, BigDecimal>> revenue(MetricsQuery query) {
    SortedMap<Instant, Map<String, BigDecimal>> series = new TreeMap<>();
    read(
        daily(query, "SELECT event_date, revenue", ""),
        row -> {
          Instant period = query.granularity().periodOf(dayStart(row.getLong(1)), ZoneOffset.UTC);
          for (Map.Entry<String, BigDecimal> amount : amounts(row.getString(2)).entrySet()) {
            series
                .computeIfAbsent(period, ignored -> new TreeMap<>())
                .merge(amount.getKey(), amount.getValue(), BigDecimal::add);
          }
        },
        "reading revenue");
    return series;
  }

  /**
   * A day's revenue per currency from the JSON the sync stored: decimals exactly as written, at the
   * view's scale (DECIMAL(28, 4)), as Trino's sum returns them.
   */
  public static Map<String, BigDecimal> amounts(String json) throws SQLException {
    Map<String, BigDecimal> amounts = new TreeMap<>();
    try {
      JsonNode map = JSON.readTree(json);
      map.fields()
          .forEachRemaining(
              entry -> {
                if (!entry.getValue().isNull()) {
                  amounts.put(
                      entry.getKey(),
                      entry
                          .getValue()
                          .decimalValue()
                          .setScale(REVENUE_SCALE, RoundingMode.UNNECESSARY));
                }
              });
    } catch (JsonProcessingException e) {
      throw new SQLException("revenue is not a JSON map: " + e.getOriginalMessage(), e);
    }
    return amounts;
  }

  /**
   * Sessions, bounces and events per value of the dimension over the UTC days (ties by value in
   * code point order, as Trino orders varchar), then the sketches of those values only, in one
   * transaction: one snapshot of the store.
   */
  @Override
  public List<BreakdownRow> breakdown(BreakdownQuery query) {
    String column = query.dimension().column();
    List<Object> parameters = new ArrayList<>(query.trackingIds());
    parameters.add(query.from().toEpochDay());
    parameters.add(query.to().plusDays(1).toEpochDay());
    String filter =
        " FROM "
            + StoreTable.BATCH_TRAFFIC_DAILY.tableName()
            + " WHERE tracking_id IN ("
            + placeholders(query.trackingIds().size())
            + ") AND event_date >= ? AND event_date < ? AND event_date < "
            + COVERED_DAYS_END;
    List<Object> topParameters = new ArrayList<>(parameters);
    topParameters.add((long) query.limit());
    Statement top =
        new Statement(
            "SELECT "
                + column
                + ", SUM(sessions) AS sessions_sum, SUM(bounced_sessions), SUM(events)"
                + filter
                + " GROUP BY "
                + column
                + " ORDER BY sessions_sum DESC, "
                + column
                + " LIMIT ?",
            topParameters);
    Connection connection = borrow();
    boolean failed = true;
    try {
      connection.setAutoCommit(false);
      Map<String, long[]> totals = new LinkedHashMap<>();
      Map<String, List<byte[]>> sketches = new HashMap<>();
      run(
          connection,
          top,
          row -> {
            totals.put(
                row.getString(1), new long[] {row.getLong(2), row.getLong(3), row.getLong(4)});
            sketches.put(row.getString(1), new ArrayList<>());
          },
          "reading the " + query.dimension().wireName() + " breakdown");
      if (!totals.isEmpty()) {
        List<Object> sketchParameters = new ArrayList<>(parameters);
        sketchParameters.addAll(totals.keySet());
        run(
            connection,
            new Statement(
                "SELECT "
                    + column
                    + ", users_sketch"
                    + filter
                    + " AND "
                    + column
                    + " IN ("
                    + placeholders(totals.size())
                    + ")",
                sketchParameters),
            row -> sketches.get(row.getString(1)).add(row.getBytes(2)),
            "reading the " + query.dimension().wireName() + " breakdown's users");
      }
      connection.commit();
      connection.setAutoCommit(true);
      List<BreakdownRow> rows = new ArrayList<>();
      totals.forEach(
          (value, sums) ->
              rows.add(
                  new BreakdownRow(
                      value,
                      sums[0],
                      sums[1],
                      sums[2],
                      HourlyFold.cardinality(sketches.get(value)))));
      failed = false;
      return rows;
    } catch (SQLException e) {
      throw store.unavailable("reading the " + query.dimension().wireName() + " breakdown", e);
    } finally {
      store.release(connection, failed);
    }
  }

  /**
   * A statement over the daily sessions of the query's UTC days [from's day, to's day) that the
   * coverage covers, as the Trino source reads serving.sessions_daily.
   */
  private static Statement daily(MetricsQuery query, String select, String groupBy) {
    if (query.granularity() == Granularity.HOUR) {
      throw new IllegalArgumentException("daily views have no hours");
    }
    List<Object> parameters = new ArrayList<>(query.trackingIds());
    parameters.add(LocalDate.ofInstant(query.from(), ZoneOffset.UTC).toEpochDay());
    parameters.add(LocalDate.ofInstant(query.to(), ZoneOffset.UTC).toEpochDay());
    return new Statement(
        select
            + " FROM "
            + StoreTable.BATCH_EVENTS_DAILY.tableName()
            + " WHERE tracking_id IN ("
            + placeholders(query.trackingIds().size())
            + ") AND event_date >= ? AND event_date < ? AND event_date < "
            + COVERED_DAYS_END
            + groupBy,
        parameters);
  }

  private static Instant dayStart(long epochDay) {
    return Instant.ofEpochSecond(epochDay * SECONDS_PER_DAY);
  }

  /**
   * Pages by views over the range (ties by URL in code point order, as Trino orders varchar), then
   * the sketches of those pages only, both in one transaction: one snapshot of the store.
   */
  @Override
  public List<PageRow> topPages(TopPagesQuery query) {
    Statement pages =
        merged(
            PAGES,
            query.trackingIds(),
            query.from(),
            query.to(),
            Optional.empty(),
            "page_key, page_url, pageviews");
    List<Object> parameters = new ArrayList<>(pages.parameters());
    parameters.add((long) query.limit());
    Statement top =
        new Statement(
            "SELECT page_key, MIN(page_url) AS page_url, SUM(pageviews) AS views FROM ("
                + pages.sql()
                + ") merged GROUP BY page_key ORDER BY views DESC, page_url LIMIT ?",
            parameters);
    Connection connection = borrow();
    boolean failed = true;
    try {
      connection.setAutoCommit(false);
      Map<String, byte[]> keys = new LinkedHashMap<>();
      Map<String, long[]> views = new HashMap<>();
      Map<String, List<byte[]>> sketches = new HashMap<>();
      run(
          connection,
          top,
          row -> {
            String url = row.getString(2);
            keys.put(url, row.getBytes(1));
            views.put(url, new long[] {row.getLong(3)});
            sketches.put(url, new ArrayList<>());
          },
          "reading top pages");
      if (!keys.isEmpty()) {
        Statement rows =
            merged(
                PAGES,
                query.trackingIds(),
                query.from(),
                query.to(),
                Optional.empty(),
                "page_key, page_url, users_sketch");
        List<Object> sketchParameters = new ArrayList<>(rows.parameters());
        sketchParameters.addAll(keys.values());
        run(
            connection,
            new Statement(
                "SELECT page_url, users_sketch FROM ("
                    + rows.sql()
                    + ") merged WHERE page_key IN ("
                    + placeholders(keys.size())
                    + ")",
                sketchParameters),
            row -> sketches.get(row.getString(1)).add(row.getBytes(2)),
            "reading top pages' users");
      }
      connection.commit();
      connection.setAutoCommit(true);
      List<PageRow> result = new ArrayList<>();
      for (String url : keys.keySet()) {
        result.add(new PageRow(url, views.get(url)[0], HourlyFold.cardinality(sketches.get(url))));
      }
      failed = false;
      return result;
    } catch (SQLException e) {
      throw store.unavailable("reading top pages", e);
    } finally {
      store.release(connection, failed);
    }
  }

  private static Statement merged(MetricsQuery query, Layers layers, String columns) {
    return merged(
        layers, query.trackingIds(), query.from(), query.to(), query.eventName(), columns);
  }

  /**
   * The rows of the merged view in [from, to): batch rows before the coverage watermark, speed rows
   * at or after it (all speed rows without a coverage row), as one statement.
   */
  private static Statement merged(
      Layers layers,
      List<String> trackingIds,
      Instant from,
      Instant to,
      Optional<String> eventName,
      String columns) {
    String watermark =
        "(SELECT MAX(covered_until) FROM "
            + StoreTable.BATCH_COVERAGE.tableName()
            + " WHERE view_name = ?)";
    String filter =
        " WHERE tracking_id IN ("
            + placeholders(trackingIds.size())
            + ") AND hour >= ? AND hour < ?"
            + (eventName.isPresent() ? " AND event_name = ?" : "");
    List<Object> parameters = new ArrayList<>();
    for (int layer = 0; layer < 2; layer++) {
      parameters.addAll(trackingIds);
      parameters.add(from.getEpochSecond());
      parameters.add(to.getEpochSecond());
      eventName.ifPresent(parameters::add);
      parameters.add(layers.coverageView());
    }
    String sql =
        "SELECT "
            + columns
            + " FROM "
            + layers.batch().tableName()
            + filter
            + " AND hour < "
            + watermark
            + " UNION ALL SELECT "
            + columns
            + " FROM "
            + layers.speed().tableName()
            + filter
            + " AND hour >= COALESCE("
            + watermark
            + ", "
            + Long.MIN_VALUE
            + ")";
    return new Statement(sql, parameters);
  }

  private static String placeholders(int count) {
    return String.join(", ", Collections.nCopies(count, "?"));
  }

  private record Statement(String sql, List<Object> parameters) {}

  private interface RowReader {
    void read(ResultSet row) throws SQLException;
  }

  private void read(Statement statement, RowReader reader, String what) {
    Connection connection = borrow();
    boolean failed = true;
    try {
      run(connection, statement, reader, what);
      failed = false;
    } catch (SQLException e) {
      throw store.unavailable(what, e);
    } finally {
      store.release(connection, failed);
    }
  }

  private void run(Connection connection, Statement statement, RowReader reader, String what)
      throws SQLException {
    try (PreparedStatement prepared = connection.prepareStatement(statement.sql())) {
      prepared.setQueryTimeout(queryTimeoutSeconds);
      for (int index = 0; index < statement.parameters().size(); index++) {
        Object parameter = statement.parameters().get(index);
        if (parameter instanceof Long number) {
          prepared.setLong(index + 1, number);
        } else if (parameter instanceof byte[] bytes) {
          prepared.setBytes(index + 1, bytes);
        } else {
          prepared.setString(index + 1, (String) parameter);
        }
      }
      try (ResultSet rows = prepared.executeQuery()) {
        while (rows.next()) {
          reader.read(rows);
        }
      }
    }
  }

  private Connection borrow() {
    try {
      return store.borrow();
    } catch (SQLException e) {
      throw store.unavailable("connecting", e);
    }
  }

  @Override
  public void close() {
    store.close();
  }
}
