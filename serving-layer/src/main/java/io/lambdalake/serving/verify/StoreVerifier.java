package io.lambdalake.serving.verify;

import static java.util.Objects.requireNonNull;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.serving.ServingView;
import io.lambdalake.serving.TrinoCatalog;
import io.lambdalake.serving.store.StoreDatabase;
import io.lambdalake.serving.store.StoreMetricsSource;
import io.lambdalake.serving.store.StoreTable;
import java.io.PrintWriter;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * The point-read store against the Trino serving views: every row of {@code serving.events_hourly}
 * and {@code serving.pages_hourly} in the range must be in the store's merge of batch and speed at
 * its own watermark, and every row of {@code serving.sessions_daily} and {@code
 * serving.traffic_daily} in the store's daily rows of the days its watermark covers, with the same
 * counts, values, revenue and sketch bytes (so the same unique users over any set of rows); the
 * store must have no row the view lacks. The store follows the lake a sync round behind: compare
 * after {@code lake serving-sync --once}, or expect the last round's changes to show.
 */
public final class StoreVerifier {
  private static final Duration CHUNK = Duration.ofDays(1);

  /** The days whose start is in [from, to) (epoch seconds), as the store's rows are chosen. */
  private static final String DAYS_IN_RANGE =
      " WHERE date_diff('day', DATE '1970-01-01', event_date) * 86400 >= ?"
          + " AND date_diff('day', DATE '1970-01-01', event_date) * 86400 < ?";

  private final LakeConfig config;
  private final StoreDatabase store;
  private final TrinoCatalog trino;

  public StoreVerifier(LakeConfig config, StoreDatabase store) {
    this.config = requireNonNull(config, "config is null");
    this.store = requireNonNull(store, "store is null");
    this.trino = new TrinoCatalog(config);
  }

  /** Keys compared and keys with at least one difference, over all views. */
  public record Summary(long keys, long differingKeys) {}

  /**
   * One view and its rows in the store. Both queries return the key (tracking ID, period start in
   * epoch seconds, name) and then the metrics, in {@code metrics} order; each takes the period
   * range [from, to) in epoch seconds as its parameters, the store's query twice.
   */
  private record Family(
      ServingView view, String keyColumn, List<String> metrics, String trinoSql, String storeSql) {}

  /** The rows of a view or the store in one chunk: key to metric values. */
  private record Key(String trackingId, long period, String name) {}

  /** Verifies [from, to) a day at a time; hands every difference over and reports each day. */
  public Summary verify(
      Instant from, Instant to, Consumer<Difference> differences, PrintWriter progress) {
    long keys = 0;
    long differing = 0;
    for (Family family : families()) {
      for (Instant start = from; start.isBefore(to); start = start.plus(CHUNK)) {
        Instant end = start.plus(CHUNK).isBefore(to) ? start.plus(CHUNK) : to;
        Map<Key, List<Object>> expected = trinoRows(family, start, end);
        Map<Key, List<Object>> actual = storeRows(family, start, end);
        Set<Key> all = new HashSet<>(expected.keySet());
        all.addAll(actual.keySet());
        long before = differing;
        for (Key key : all) {
          List<Difference> found = compare(family, key, expected.get(key), actual.get(key));
          if (!found.isEmpty()) {
            differing++;
            found.forEach(differences);
          }
        }
        keys += all.size();
        progress.printf(
            "store %s %s..%s: %d keys, %d differing%n",
            family.view().viewName(), start, end, all.size(), differing - before);
        progress.flush();
      }
    }
    return new Summary(keys, differing);
  }

  private List<Family> families() {
    String events = StoreTable.BATCH_EVENTS_HOURLY.tableName();
    String pages = StoreTable.BATCH_PAGES_HOURLY.tableName();
    return List.of(
        new Family(
            ServingView.EVENTS_HOURLY,
            "event_name",
            List.of("events", "users_sketch", "value_sum", "valued_events"),
            "SELECT tracking_id, CAST(to_unixtime(hour) AS bigint), event_name, events,"
                + " users_sketch, value_sum, valued_events FROM "
                + ServingView.EVENTS_HOURLY.qualifiedName(config.trino())
                + " WHERE hour >= from_unixtime(?) AND hour < from_unixtime(?)",
            merged(
                events,
                StoreTable.SPEED_EVENTS_HOURLY.tableName(),
                "events_hourly",
                "tracking_id, hour, event_name, events, users_sketch, value_sum, valued_events")),
        new Family(
            ServingView.PAGES_HOURLY,
            "page_url",
            List.of("pageviews", "users_sketch"),
            "SELECT tracking_id, CAST(to_unixtime(hour) AS bigint), page_url, pageviews,"
                + " users_sketch FROM "
                + ServingView.PAGES_HOURLY.qualifiedName(config.trino())
                + " WHERE hour >= from_unixtime(?) AND hour < from_unixtime(?)",
            merged(
                pages,
                StoreTable.SPEED_PAGES_HOURLY.tableName(),
                "pages_hourly",
                "tracking_id, hour, page_url, pageviews, users_sketch")),
        new Family(
            ServingView.SESSIONS_DAILY,
            "event_date",
            List.of("sessions", "revenue"),
            "SELECT tracking_id, date_diff('day', DATE '1970-01-01', event_date) * 86400, '',"
                + " sessions, revenue FROM "
                + ServingView.SESSIONS_DAILY.qualifiedName(config.trino())
                + DAYS_IN_RANGE,
            daily(StoreTable.BATCH_EVENTS_DAILY.tableName(), "'', sessions, revenue")),
        new Family(
            ServingView.TRAFFIC_DAILY,
            "source/medium/campaign/device/browser",
            List.of("sessions", "bounced_sessions", "events", "users_sketch"),
            "SELECT tracking_id, date_diff('day', DATE '1970-01-01', event_date) * 86400,"
                + " concat_ws('/', traffic_source, traffic_medium, traffic_campaign, device_class,"
                + " browser), sessions, bounced_sessions, events, users_sketch FROM "
                + ServingView.TRAFFIC_DAILY.qualifiedName(config.trino())
                + DAYS_IN_RANGE,
            daily(
                StoreTable.BATCH_TRAFFIC_DAILY.tableName(),
                "CONCAT_WS('/', traffic_source, traffic_medium, traffic_campaign, device_class,"
                    + " browser), sessions, bounced_sessions, events, users_sketch")));
  }

  /** The store's merged hourly rows: batch before its watermark, speed at or after it. */
  private static String merged(String batch, String speed, String view, String columns) {
    String watermark =
        "(SELECT MAX(covered_until) FROM "
            + StoreTable.BATCH_COVERAGE.tableName()
            + " WHERE view_name = '"
            + view
            + "')";
    return "SELECT "
        + columns
        + " FROM "
        + batch
        + " WHERE hour >= ? AND hour < ? AND hour < "
        + watermark
        + " UNION ALL SELECT "
        + columns
        + " FROM "
        + speed
        + " WHERE hour >= ? AND hour < ? AND hour >= COALESCE("
        + watermark
        + ", "
        + Long.MIN_VALUE
        + ")";
  }

  /** The store's daily rows of the days the events watermark covers (the range given twice). */
  private static String daily(String table, String columns) {
    return "SELECT tracking_id, event_date * 86400, "
        + columns
        + " FROM "
        + table
        + " WHERE event_date * 86400 >= ? AND event_date * 86400 < ?"
        + " AND event_date * 86400 >= ? AND event_date * 86400 < ?"
        + " AND event_date < (SELECT FLOOR(MAX(covered_until) / 86400) FROM "
        + StoreTable.BATCH_COVERAGE.tableName()
        + " WHERE view_name = 'events_hourly')";
  }

  private List<Difference> compare(
      Family family, Key key, List<Object> expected, List<Object> actual) {
    List<String> differing = new ArrayList<>();
    if (expected == null || actual == null) {
      differing.add(family.metrics().get(0));
    } else {
      for (int index = 0; index < family.metrics().size(); index++) {
        if (!same(expected.get(index), actual.get(index))) {
          differing.add(family.metrics().get(index));
        }
      }
    }
    List<Difference> found = new ArrayList<>();
    for (String metric : differing) {
      int index = family.metrics().indexOf(metric);
      found.add(
          new Difference(
              store.config().database() + "." + family.view().viewName(),
              key.trackingId(),
              Instant.ofEpochSecond(key.period()),
              family.keyColumn(),
              key.name(),
              metric,
              Optional.ofNullable(expected).map(values -> describe(values.get(index))),
              Optional.ofNullable(actual).map(values -> describe(values.get(index)))));
    }
    return found;
  }

  /** Equal values: sketches byte for byte, decimals by value, revenue per currency by value. */
  static boolean same(Object expected, Object actual) {
    if (expected instanceof byte[] left && actual instanceof byte[] right) {
      return Arrays.equals(left, right);
    }
    if (expected instanceof BigDecimal left && actual instanceof BigDecimal right) {
      return left.compareTo(right) == 0;
    }
    if (expected instanceof Map<?, ?> left && actual instanceof Map<?, ?> right) {
      if (!left.keySet().equals(right.keySet())) {
        return false;
      }
      for (Object currency : left.keySet()) {
        if (!same(left.get(currency), right.get(currency))) {
          return false;
        }
      }
      return true;
    }
    return Objects.equals(expected, actual);
  }

  private static String describe(Object value) {
    return value instanceof byte[] bytes ? bytes.length + " bytes" : String.valueOf(value);
  }

  private Map<Key, List<Object>> trinoRows(Family family, Instant from, Instant to) {
    try (Connection connection = trino.connection();
        PreparedStatement statement = connection.prepareStatement(family.trinoSql())) {
      statement.setLong(1, from.getEpochSecond());
      statement.setLong(2, to.getEpochSecond());
      return rows(family, statement, false);
    } catch (SQLException e) {
      throw new LakeException(
          ErrorCode.SERVER_NOT_AVAILABLE,
          "Trino at "
              + config.trino().url()
              + " failed reading "
              + family.view().viewName()
              + ": "
              + e.getMessage(),
          e);
    }
  }

  private Map<Key, List<Object>> storeRows(Family family, Instant from, Instant to) {
    Connection connection;
    try {
      connection = store.borrow();
    } catch (SQLException e) {
      throw store.unavailable("connecting", e);
    }
    boolean failed = true;
    try (PreparedStatement statement = connection.prepareStatement(family.storeSql())) {
      statement.setLong(1, from.getEpochSecond());
      statement.setLong(2, to.getEpochSecond());
      statement.setLong(3, from.getEpochSecond());
      statement.setLong(4, to.getEpochSecond());
      Map<Key, List<Object>> rows = rows(family, statement, true);
      failed = false;
      return rows;
    } catch (SQLException e) {
      throw store.unavailable("reading " + family.view().viewName(), e);
    } finally {
      store.release(connection, failed);
    }
  }

  private static Map<Key, List<Object>> rows(
      Family family, PreparedStatement statement, boolean fromStore) throws SQLException {
    Map<Key, List<Object>> rows = new HashMap<>();
    try (ResultSet result = statement.executeQuery()) {
      while (result.next()) {
        List<Object> values = new ArrayList<>();
        for (int index = 0; index < family.metrics().size(); index++) {
          values.add(value(family.metrics().get(index), result, index + 4, fromStore));
        }
        rows.put(new Key(result.getString(1), result.getLong(2), result.getString(3)), values);
      }
    }
    return rows;
  }

  private static Object value(String metric, ResultSet result, int column, boolean fromStore)
      throws SQLException {
    return switch (metric) {
      case "users_sketch" -> result.getBytes(column);
      case "value_sum" -> result.getBigDecimal(column);
      case "revenue" ->
          fromStore
              ? StoreMetricsSource.amounts(result.getString(column))
              : revenue(result, column);
      default -> {
        long number = result.getLong(column);
        yield result.wasNull() ? null : number;
      }
    };
  }

  /**
   * Trino's MAP(varchar, decimal) as trino-jdbc returns it, nulls left out as the store leaves
   * them.
   */
  private static Map<String, BigDecimal> revenue(ResultSet result, int column) throws SQLException {
    Map<String, BigDecimal> amounts = new TreeMap<>();
    Object map = result.getObject(column);
    if (map instanceof Map<?, ?> entries) {
      entries.forEach(
          (currency, amount) -> {
            if (amount != null) {
              amounts.put(String.valueOf(currency), (BigDecimal) amount);
            }
          });
    }
    return amounts;
  }
}
