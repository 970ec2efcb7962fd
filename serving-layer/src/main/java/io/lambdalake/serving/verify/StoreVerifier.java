package io.lambdalake.serving.verify;

import static java.util.Objects.requireNonNull;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.serving.ServingView;
import io.lambdalake.serving.TrinoCatalog;
import io.lambdalake.serving.store.StoreDatabase;
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
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * The point-read store against the Trino serving views: every row of {@code serving.events_hourly}
 * and {@code serving.pages_hourly} in the range must be in the store's merge of batch and speed at
 * its own watermark, with the same counts, values and sketch bytes (so the same unique users over
 * any set of rows), and the store must have no row the view lacks. The store follows the lake a
 * sync round behind: compare after {@code lake serving-sync --once}, or expect the last round's
 * changes to show.
 */
public final class StoreVerifier {
  private static final Duration CHUNK = Duration.ofDays(1);

  private final LakeConfig config;
  private final StoreDatabase store;
  private final TrinoCatalog trino;

  public StoreVerifier(LakeConfig config, StoreDatabase store) {
    this.config = requireNonNull(config, "config is null");
    this.store = requireNonNull(store, "store is null");
    this.trino = new TrinoCatalog(config);
  }

  /** Keys compared and keys with at least one difference, over both views. */
  public record Summary(long keys, long differingKeys) {}

  private record Family(ServingView view, StoreTable batch, StoreTable speed, String keyColumn) {
    String storeColumns() {
      return view == ServingView.EVENTS_HOURLY
          ? "tracking_id, hour, event_name, events, users_sketch, value_sum, valued_events"
          : "tracking_id, hour, page_url, pageviews, users_sketch, NULL, NULL";
    }

    String trinoColumns() {
      return view == ServingView.EVENTS_HOURLY
          ? "tracking_id, CAST(to_unixtime(hour) AS bigint), event_name, events, users_sketch,"
              + " value_sum, valued_events"
          : "tracking_id, CAST(to_unixtime(hour) AS bigint), page_url, pageviews, users_sketch,"
              + " NULL, NULL";
    }
  }

  private static final List<Family> FAMILIES =
      List.of(
          new Family(
              ServingView.EVENTS_HOURLY,
              StoreTable.BATCH_EVENTS_HOURLY,
              StoreTable.SPEED_EVENTS_HOURLY,
              "event_name"),
          new Family(
              ServingView.PAGES_HOURLY,
              StoreTable.BATCH_PAGES_HOURLY,
              StoreTable.SPEED_PAGES_HOURLY,
              "page_url"));

  /** One row of an hourly view: its key and its metrics. */
  private record Key(String trackingId, long hour, String name) {}

  private record Metrics(long count, byte[] sketch, BigDecimal valueSum, Long valuedEvents) {}

  /** Compares [from, to) a day at a time; hands every difference over and reports each day. */
  public Summary verify(
      Instant from, Instant to, Consumer<Difference> differences, PrintWriter progress) {
    long keys = 0;
    long differing = 0;
    for (Family family : FAMILIES) {
      for (Instant start = from; start.isBefore(to); start = start.plus(CHUNK)) {
        Instant end = start.plus(CHUNK).isBefore(to) ? start.plus(CHUNK) : to;
        Map<Key, Metrics> expected = trinoRows(family, start, end);
        Map<Key, Metrics> actual = storeRows(family, start, end);
        Set<Key> all = new HashSet<>(expected.keySet());
        all.addAll(actual.keySet());
        long before = differing;
        for (Key key : all) {
          List<Difference> found =
              compare(family, key, Optional.ofNullable(expected.get(key)), actual.get(key));
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

  private List<Difference> compare(
      Family family, Key key, Optional<Metrics> expected, Metrics actual) {
    String view = store.config().database() + "." + family.view().viewName();
    List<Difference> found = new ArrayList<>();
    Set<String> metrics = new TreeSet<>();
    if (expected.isEmpty() || actual == null) {
      metrics.add(family.view() == ServingView.EVENTS_HOURLY ? "events" : "pageviews");
    } else {
      Metrics want = expected.get();
      if (want.count() != actual.count()) {
        metrics.add(family.view() == ServingView.EVENTS_HOURLY ? "events" : "pageviews");
      }
      if (!Arrays.equals(want.sketch(), actual.sketch())) {
        metrics.add("users_sketch");
      }
      if (!decimalEquals(want.valueSum(), actual.valueSum())) {
        metrics.add("value_sum");
      }
      if (!Objects.equals(want.valuedEvents(), actual.valuedEvents())) {
        metrics.add("valued_events");
      }
    }
    for (String metric : metrics) {
      found.add(
          new Difference(
              view,
              key.trackingId(),
              Instant.ofEpochSecond(key.hour()),
              family.keyColumn(),
              key.name(),
              metric,
              expected.map(metricsOf -> value(metricsOf, metric)),
              Optional.ofNullable(actual).map(metricsOf -> value(metricsOf, metric))));
    }
    return found;
  }

  private static boolean decimalEquals(BigDecimal left, BigDecimal right) {
    return left == null ? right == null : right != null && left.compareTo(right) == 0;
  }

  private static String value(Metrics metrics, String metric) {
    return switch (metric) {
      case "users_sketch" -> metrics.sketch().length + " bytes";
      case "value_sum" -> String.valueOf(metrics.valueSum());
      case "valued_events" -> String.valueOf(metrics.valuedEvents());
      default -> String.valueOf(metrics.count());
    };
  }

  private Map<Key, Metrics> trinoRows(Family family, Instant from, Instant to) {
    String sql =
        "SELECT "
            + family.trinoColumns()
            + " FROM "
            + family.view().qualifiedName(config.trino())
            + " WHERE hour >= from_unixtime(?) AND hour < from_unixtime(?)";
    try (Connection connection = trino.connection();
        PreparedStatement statement = connection.prepareStatement(sql)) {
      statement.setLong(1, from.getEpochSecond());
      statement.setLong(2, to.getEpochSecond());
      return rows(statement);
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

  /** The store's merged rows: batch before its watermark, speed at or after it, one snapshot. */
  private Map<Key, Metrics> storeRows(Family family, Instant from, Instant to) {
    String watermark =
        "(SELECT MAX(covered_until) FROM "
            + StoreTable.BATCH_COVERAGE.tableName()
            + " WHERE view_name = '"
            + family.view().viewName()
            + "')";
    String sql =
        "SELECT "
            + family.storeColumns()
            + " FROM "
            + family.batch().tableName()
            + " WHERE hour >= ? AND hour < ? AND hour < "
            + watermark
            + " UNION ALL SELECT "
            + family.storeColumns()
            + " FROM "
            + family.speed().tableName()
            + " WHERE hour >= ? AND hour < ? AND hour >= COALESCE("
            + watermark
            + ", "
            + Long.MIN_VALUE
            + ")";
    Connection connection;
    try {
      connection = store.borrow();
    } catch (SQLException e) {
      throw store.unavailable("connecting", e);
    }
    boolean failed = true;
    try (PreparedStatement statement = connection.prepareStatement(sql)) {
      statement.setLong(1, from.getEpochSecond());
      statement.setLong(2, to.getEpochSecond());
      statement.setLong(3, from.getEpochSecond());
      statement.setLong(4, to.getEpochSecond());
      Map<Key, Metrics> rows = rows(statement);
      failed = false;
      return rows;
    } catch (SQLException e) {
      throw store.unavailable("reading " + family.view().viewName(), e);
    } finally {
      store.release(connection, failed);
    }
  }

  private static Map<Key, Metrics> rows(PreparedStatement statement) throws SQLException {
    Map<Key, Metrics> rows = new HashMap<>();
    try (ResultSet result = statement.executeQuery()) {
      while (result.next()) {
        long valuedEvents = result.getLong(7);
        Long valued = result.wasNull() ? null : valuedEvents;
        rows.put(
            new Key(result.getString(1), result.getLong(2), result.getString(3)),
            new Metrics(result.getLong(4), result.getBytes(5), result.getBigDecimal(6), valued));
      }
    }
    return rows;
  }
}
