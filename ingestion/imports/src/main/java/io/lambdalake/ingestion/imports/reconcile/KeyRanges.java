package io.lambdalake.ingestion.imports.reconcile;

import static java.util.Objects.requireNonNull;

import java.math.BigInteger;
import java.util.List;

/**
 * How reconcile splits a table's rows into ranges that MariaDB and Spark number alike: by the
 * leading primary key column when it is an integer ({@code (key - low) DIV width}, a key range the
 * source reads through its primary key index), else by the CRC32 of the whole key modulo the count.
 */
sealed interface KeyRanges {
  /** How many ranges there are; they are numbered from 0. */
  int count();

  /** MariaDB: the range number of a row. */
  String mariaDb();

  /** Spark: the range number of a row. */
  String spark();

  /** The range for people, e.g. {@code id in [1, 25001)}. */
  String describe(long range);

  /** MariaDB: the condition of the rows of one range, as the source can answer it best. */
  default String mariaDbRows(long range) {
    return mariaDb() + " = " + range;
  }

  /** Integer keys from low to high (both sides' MIN and MAX), in ranges of equal width. */
  record IntegerRanges(String column, BigInteger low, BigInteger width, int count)
      implements KeyRanges {
    public IntegerRanges {
      requireNonNull(column, "column is null");
      requireNonNull(low, "low is null");
      requireNonNull(width, "width is null");
      if (width.signum() <= 0) {
        throw new IllegalArgumentException("width must be positive: " + width);
      }
    }

    /** {@code count} ranges covering low to high, the last as wide as needed. */
    static IntegerRanges covering(String column, BigInteger low, BigInteger high, int wanted) {
      BigInteger span = high.subtract(low).add(BigInteger.ONE);
      BigInteger[] division = span.divideAndRemainder(BigInteger.valueOf(wanted));
      BigInteger width =
          division[0].add(division[1].signum() > 0 ? BigInteger.ONE : BigInteger.ZERO);
      width = width.max(BigInteger.ONE);
      int count = span.add(width).subtract(BigInteger.ONE).divide(width).intValueExact();
      return new IntegerRanges(column, low, width, count);
    }

    @Override
    public String mariaDb() {
      return "((`" + column + "` - " + low + ") DIV " + width + ")";
    }

    @Override
    public String spark() {
      return "CAST((`" + column + "` - " + low + ") DIV " + width + " AS BIGINT)";
    }

    @Override
    public String describe(long range) {
      BigInteger from = low.add(width.multiply(BigInteger.valueOf(range)));
      return column + " in [" + from + ", " + from.add(width) + ")";
    }

    /** A key range the source reads through its primary key index. */
    @Override
    public String mariaDbRows(long range) {
      BigInteger from = low.add(width.multiply(BigInteger.valueOf(range)));
      return "`" + column + "` >= " + from + " AND `" + column + "` < " + from.add(width);
    }
  }

  /** Any other key: CRC32 of the key's canonical line modulo the count. */
  record HashBuckets(List<CanonicalForm> key, int count) implements KeyRanges {
    public HashBuckets {
      key = List.copyOf(key);
      if (count < 1) {
        throw new IllegalArgumentException("count must be at least 1: " + count);
      }
    }

    @Override
    public String mariaDb() {
      return "(" + CanonicalForm.mariaDbChecksum(key) + " % " + count + ")";
    }

    @Override
    public String spark() {
      return "CAST(" + CanonicalForm.sparkChecksum(key) + " % " + count + " AS BIGINT)";
    }

    @Override
    public String describe(long range) {
      return "key hash bucket " + range + " of " + count;
    }
  }
}
