package io.lambdalake.ingestion.imports.internal;

import static java.util.Objects.requireNonNull;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Splits the range of a split-by column into the WHERE predicates of parallel reads, the way
 * Sqoop's splitters do: {@code --num-mappers} ranges of equal width between MIN and MAX, each
 * closed below and open above except the last, which includes MAX. Rows whose split value is NULL
 * are read by the first range ({@code OR col IS NULL}), so that no row is lost.
 */
public final class SplitPlanner {
  private static final DateTimeFormatter TIMESTAMP =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSSSSS");

  /** The kinds of column a range can be split on. */
  public enum Kind {
    INTEGER,
    DECIMAL,
    DATE,
    TIMESTAMP
  }

  /** The bounds read with {@code SELECT MIN(col), MAX(col)}; empty when every value is NULL. */
  public record Bounds(Kind kind, Optional<Object> min, Optional<Object> max) {
    public Bounds {
      requireNonNull(kind, "kind is null");
      requireNonNull(min, "min is null");
      requireNonNull(max, "max is null");
      if (min.isPresent() != max.isPresent()) {
        throw new IllegalArgumentException("min and max must both be present or both absent");
      }
    }
  }

  private SplitPlanner() {}

  /** The predicates, at most {@code mappers} of them; together they cover every row once. */
  public static List<String> predicates(String column, Bounds bounds, int mappers) {
    requireNonNull(column, "column is null");
    if (mappers < 1) {
      throw new IllegalArgumentException("mappers must be at least 1: " + mappers);
    }
    if (bounds.min().isEmpty()) {
      // Nothing but NULLs (or no rows at all): one read takes whatever there is.
      return List.of("1 = 1");
    }
    List<String> ranges =
        switch (bounds.kind()) {
          case INTEGER ->
              integerRanges(
                  column,
                  toBigInteger(bounds.min().get()),
                  toBigInteger(bounds.max().get()),
                  mappers);
          case DECIMAL ->
              decimalRanges(
                  column,
                  toBigDecimal(bounds.min().get()),
                  toBigDecimal(bounds.max().get()),
                  mappers);
          case DATE -> dateRanges(column, bounds, mappers);
          case TIMESTAMP ->
              timestampRanges(
                  column,
                  (LocalDateTime) bounds.min().get(),
                  (LocalDateTime) bounds.max().get(),
                  mappers);
        };
    List<String> predicates = new ArrayList<>(ranges);
    predicates.set(0, "(" + predicates.get(0) + ") OR " + column + " IS NULL");
    return List.copyOf(predicates);
  }

  private static List<String> integerRanges(
      String column, BigInteger min, BigInteger max, int mappers) {
    List<BigInteger> points = integerPoints(min, max, mappers);
    return ranges(column, points.stream().map(BigInteger::toString).toList());
  }

  /** Split points min = p0 < p1 < ... < pk = max, at most mappers ranges, each at least 1 wide. */
  private static List<BigInteger> integerPoints(BigInteger min, BigInteger max, int mappers) {
    BigInteger span = max.subtract(min);
    BigInteger count = BigInteger.valueOf(mappers).min(span.max(BigInteger.ONE));
    List<BigInteger> points = new ArrayList<>();
    points.add(min);
    if (span.signum() == 0) {
      points.add(max);
      return points;
    }
    for (int index = 1; index < count.intValue(); index++) {
      BigInteger point = min.add(span.multiply(BigInteger.valueOf(index)).divide(count));
      if (point.compareTo(points.get(points.size() - 1)) > 0) {
        points.add(point);
      }
    }
    points.add(max);
    return points;
  }

  private static List<String> decimalRanges(
      String column, BigDecimal min, BigDecimal max, int mappers) {
    List<String> points = new ArrayList<>();
    points.add(min.toPlainString());
    BigDecimal span = max.subtract(min);
    if (span.signum() > 0) {
      int scale = Math.max(Math.max(min.scale(), max.scale()), 0) + 6;
      for (int index = 1; index < mappers; index++) {
        BigDecimal point =
            min.add(
                span.multiply(BigDecimal.valueOf(index))
                    .divide(BigDecimal.valueOf(mappers), scale, RoundingMode.DOWN));
        String text = point.stripTrailingZeros().toPlainString();
        if (!text.equals(points.get(points.size() - 1))) {
          points.add(text);
        }
      }
    }
    points.add(max.toPlainString());
    return ranges(column, points);
  }

  private static List<String> dateRanges(String column, Bounds bounds, int mappers) {
    long min = ((LocalDate) bounds.min().get()).toEpochDay();
    long max = ((LocalDate) bounds.max().get()).toEpochDay();
    List<String> points =
        integerPoints(BigInteger.valueOf(min), BigInteger.valueOf(max), mappers).stream()
            .map(day -> "'" + LocalDate.ofEpochDay(day.longValueExact()) + "'")
            .toList();
    return ranges(column, points);
  }

  private static List<String> timestampRanges(
      String column, LocalDateTime min, LocalDateTime max, int mappers) {
    long span = ChronoUnit.MICROS.between(min, max);
    List<String> points =
        integerPoints(BigInteger.ZERO, BigInteger.valueOf(span), mappers).stream()
            .map(
                offset ->
                    "'"
                        + TIMESTAMP.format(min.plus(offset.longValueExact(), ChronoUnit.MICROS))
                        + "'")
            .toList();
    return ranges(column, points);
  }

  /** Ranges [p0, p1), [p1, p2), ..., [pk-1, pk] from the points (already SQL literals). */
  private static List<String> ranges(String column, List<String> points) {
    List<String> ranges = new ArrayList<>();
    if (points.size() == 2 && points.get(0).equals(points.get(1))) {
      return List.of(column + " = " + points.get(0));
    }
    for (int index = 0; index + 1 < points.size(); index++) {
      boolean last = index + 2 == points.size();
      ranges.add(
          column
              + " >= "
              + points.get(index)
              + " AND "
              + column
              + (last ? " <= " : " < ")
              + points.get(index + 1));
    }
    return ranges;
  }

  private static BigInteger toBigInteger(Object value) {
    return toBigDecimal(value).toBigIntegerExact();
  }

  private static BigDecimal toBigDecimal(Object value) {
    if (value instanceof BigDecimal decimal) {
      return decimal;
    }
    if (value instanceof BigInteger integer) {
      return new BigDecimal(integer);
    }
    if (value instanceof Number number) {
      return new BigDecimal(number.toString());
    }
    throw new IllegalArgumentException("not a number: " + value);
  }
}
