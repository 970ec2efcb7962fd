package io.lambdalake.serving.verify;

import static java.util.Objects.requireNonNull;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.serving.TrinoCatalog;
import io.lambdalake.spark.views.HourlyViews.BotPolicy;
import java.io.PrintWriter;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * {@code lake verify}: recomputes the hourly metrics of a time range straight from {@code
 * raw.events} in Trino and compares them, key by key, with {@code serving.events_hourly} and {@code
 * serving.pages_hourly}: one query per view and chunk of the range, a FULL OUTER JOIN in Trino, so
 * only the differences travel.
 */
public final class ServingVerifier {
  private final LakeConfig config;
  private final TrinoCatalog catalog;

  public ServingVerifier(LakeConfig config) {
    this.config = requireNonNull(config, "config is null");
    this.catalog = new TrinoCatalog(config);
  }

  /** A range of whole UTC hours [from, to), checked in chunks of whole hours. */
  public record Options(Instant from, Instant to, BotPolicy botPolicy, Duration chunk) {
    public Options {
      requireNonNull(from, "from is null");
      requireNonNull(to, "to is null");
      requireNonNull(botPolicy, "botPolicy is null");
      requireNonNull(chunk, "chunk is null");
      requireWholeHour(from, "--from");
      requireWholeHour(to, "--to");
      if (!to.isAfter(from)) {
        throw new LakeException(
            ErrorCode.INVALID_ARGUMENT, "--to " + to + " must be after --from " + from);
      }
      if (chunk.compareTo(Duration.ofHours(1)) < 0 || chunk.toSeconds() % 3600 != 0) {
        throw new LakeException(
            ErrorCode.INVALID_ARGUMENT, "The chunk must be a positive number of hours: " + chunk);
      }
    }

    private static void requireWholeHour(Instant instant, String option) {
      if (!instant.truncatedTo(ChronoUnit.HOURS).equals(instant)) {
        throw new LakeException(
            ErrorCode.INVALID_ARGUMENT,
            option
                + " "
                + instant
                + " is not on a whole hour: the views hold whole UTC hours, e.g. "
                + instant.truncatedTo(ChronoUnit.HOURS));
      }
    }
  }

  /** What a check found: per view the keys compared and the keys that differ. */
  public record Summary(
      long eventKeys, long eventKeysDiffering, long pageKeys, long pageKeysDiffering) {
    public long differingKeys() {
      return eventKeysDiffering + pageKeysDiffering;
    }
  }

  /**
   * Checks the range; hands every difference to {@code differences} and reports each chunk on
   * {@code progress}.
   */
  public Summary verify(Options options, Consumer<Difference> differences, PrintWriter progress) {
    requireNonNull(options, "options is null");
    requireNonNull(differences, "differences is null");
    requireNonNull(progress, "progress is null");
    long[] keys = new long[VerifiedView.values().length];
    long[] differing = new long[VerifiedView.values().length];
    for (Instant start = options.from();
        start.isBefore(options.to());
        start = start.plus(options.chunk())) {
      Instant end = min(start.plus(options.chunk()), options.to());
      for (VerifiedView view : VerifiedView.values()) {
        long started = System.nanoTime();
        long[] counts = compare(view, start, end, options.botPolicy(), differences);
        keys[view.ordinal()] += counts[0];
        differing[view.ordinal()] += counts[1];
        progress.printf(
            "verify %s..%s %s: %d keys, %d differing (%.1f s)%n",
            start,
            end,
            view.view().viewName(),
            counts[0],
            counts[1],
            (System.nanoTime() - started) / 1e9);
        progress.flush();
      }
    }
    return new Summary(
        keys[VerifiedView.EVENTS_HOURLY.ordinal()],
        differing[VerifiedView.EVENTS_HOURLY.ordinal()],
        keys[VerifiedView.PAGES_HOURLY.ordinal()],
        differing[VerifiedView.PAGES_HOURLY.ordinal()]);
  }

  /** Runs one comparison; returns the keys compared and the keys that differ. */
  private long[] compare(
      VerifiedView view,
      Instant from,
      Instant to,
      BotPolicy botPolicy,
      Consumer<Difference> differences) {
    String sql = view.comparison(config.trino(), from, to, botPolicy);
    try (Connection connection = catalog.connection();
        Statement statement = connection.createStatement();
        ResultSet rows = statement.executeQuery(sql)) {
      long[] counts = new long[2];
      while (rows.next()) {
        if (rows.getInt("grouping_level") != 0) {
          counts[0] = rows.getLong("keys");
          counts[1] = rows.getLong("differing");
          continue;
        }
        report(view, rows, differences);
      }
      return counts;
    } catch (SQLException e) {
      throw failure(view, e);
    }
  }

  private void report(VerifiedView view, ResultSet row, Consumer<Difference> differences)
      throws SQLException {
    String trackingId = row.getString("tracking_id");
    Instant hour = Instant.ofEpochMilli(Math.round(row.getDouble("hour_seconds") * 1000));
    String key = row.getString("name");
    String name = "serving." + view.view().viewName();
    long viewRows = row.getLong("view_rows");
    if (!row.wasNull() && viewRows > 1) {
      differences.accept(
          new Difference(
              name,
              trackingId,
              hour,
              view.keyColumn(),
              key,
              VerifiedView.VIEW_ROWS,
              Optional.of("1"),
              Optional.of(Long.toString(viewRows))));
    }
    // The first metric counts rows (count(*) or a sum of counts): null only where a side has no
    // row.
    String counted = view.metrics().get(0).name();
    boolean expectedRow = row.getObject("expected_" + counted) != null;
    boolean actualRow = row.getObject("actual_" + counted) != null;
    for (VerifiedView.Metric metric : view.metrics()) {
      Optional<String> expected = value(row, "expected_" + metric.name(), expectedRow);
      Optional<String> actual = value(row, "actual_" + metric.name(), actualRow);
      if (!same(expected, actual)) {
        differences.accept(
            new Difference(
                name, trackingId, hour, view.keyColumn(), key, metric.name(), expected, actual));
      }
    }
  }

  /** A value as text: empty without a row, "null" for a null value (a sum over no value). */
  private static Optional<String> value(ResultSet row, String column, boolean rowExists)
      throws SQLException {
    Object value = row.getObject(column);
    if (!rowExists) {
      return Optional.empty();
    }
    if (value == null) {
      return Optional.of("null");
    }
    return Optional.of(
        value instanceof BigDecimal decimal
            ? decimal.stripTrailingZeros().toPlainString()
            : value.toString());
  }

  private static boolean same(Optional<String> expected, Optional<String> actual) {
    if (expected.isEmpty() || actual.isEmpty()) {
      return expected.isEmpty() && actual.isEmpty();
    }
    String left = expected.get();
    String right = actual.get();
    try {
      return new BigDecimal(left).compareTo(new BigDecimal(right)) == 0;
    } catch (NumberFormatException e) {
      return left.equals(right);
    }
  }

  private LakeException failure(VerifiedView view, SQLException e) {
    // "Query failed (#id): line 7:8: Schema 'raw' does not exist" -> "Schema 'raw' does not exist"
    String message =
        String.valueOf(e.getMessage())
            .replaceFirst("^Query failed \\(#[^)]*\\): ", "")
            .replaceFirst("^line \\d+:\\d+: ", "");
    if (message.contains("does not exist")) {
      return new LakeException(
          ErrorCode.INVALID_ARGUMENT,
          "Cannot verify "
              + view.view().qualifiedName(config.trino())
              + ": "
              + message
              + " (run `lake serving init` once the pipeline has written raw.events)",
          e);
    }
    return new LakeException(
        ErrorCode.SERVER_NOT_AVAILABLE,
        "Trino at "
            + config.trino().url()
            + " failed to compare "
            + view.view().qualifiedName(config.trino())
            + " with raw.events: "
            + message,
        e);
  }

  private static Instant min(Instant left, Instant right) {
    return left.isBefore(right) ? left : right;
  }
}
