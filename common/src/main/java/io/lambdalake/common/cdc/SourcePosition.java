package io.lambdalake.common.cdc;

import static java.util.Objects.requireNonNull;

import java.util.Comparator;

/**
 * Where a change sits in its source's history. Two positions of the same source compare in the
 * order the source applied the changes, so an older change can never overwrite a newer one.
 */
public sealed interface SourcePosition
    permits SourcePosition.BinlogPosition, SourcePosition.ClusterTime {

  /**
   * A MySQL/MariaDB binlog position: the file ({@code <basename>.<number>}), the offset in it, and
   * the row's offset within its transaction. Files sort by their number, not by their name: the
   * number is zero-padded to six digits only up to {@code .999999}, the next file is {@code
   * .1000000}. Positions of different basenames belong to different binlogs and have no order.
   *
   * @param xoffset the row's index in its transaction; Maxwell leaves it out on a transaction's
   *     last row, which is then {@link #LAST_IN_TRANSACTION} so that it sorts after the others
   */
  record BinlogPosition(String file, long position, long xoffset)
      implements SourcePosition, Comparable<BinlogPosition> {
    /** The xoffset of a transaction's last row, which Maxwell sends without one. */
    public static final long LAST_IN_TRANSACTION = Long.MAX_VALUE;

    /** The xoffset of rows a snapshot import wrote as of a position read before it began. */
    public static final long SNAPSHOT = -1;

    private static final Comparator<BinlogPosition> ORDER =
        Comparator.comparingLong(BinlogPosition::sequence)
            .thenComparingLong(BinlogPosition::position)
            .thenComparingLong(BinlogPosition::xoffset);

    public BinlogPosition {
      requireNonNull(file, "file is null");
      int dot = file.lastIndexOf('.');
      if (dot <= 0 || dot == file.length() - 1 || !isDigits(file.substring(dot + 1))) {
        throw new IllegalArgumentException("binlog file is not <basename>.<number>: " + file);
      }
      if (position < 0) {
        throw new IllegalArgumentException("position is negative: " + position);
      }
      if (xoffset < SNAPSHOT) {
        throw new IllegalArgumentException("xoffset is below -1: " + xoffset);
      }
    }

    /** Parses Maxwell's {@code "mariadb-bin.000002:51432"}. */
    public static BinlogPosition parse(String filePosition, long xoffset) {
      requireNonNull(filePosition, "filePosition is null");
      int colon = filePosition.lastIndexOf(':');
      if (colon <= 0 || colon == filePosition.length() - 1) {
        throw new IllegalArgumentException(
            "binlog position is not <file>:<offset>: " + filePosition);
      }
      try {
        return new BinlogPosition(
            filePosition.substring(0, colon),
            Long.parseLong(filePosition.substring(colon + 1)),
            xoffset);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("binlog offset is not a number: " + filePosition, e);
      }
    }

    /** The file's name without its number: {@code mariadb-bin} of {@code mariadb-bin.000002}. */
    public String basename() {
      return file.substring(0, file.lastIndexOf('.'));
    }

    /** The file's number: 2 of {@code mariadb-bin.000002}, 1000000 of {@code .1000000}. */
    public long sequence() {
      return Long.parseLong(file.substring(file.lastIndexOf('.') + 1));
    }

    /** Whether both positions are in the same binlog (the same basename), so they have an order. */
    public boolean sameLog(BinlogPosition other) {
      return basename().equals(other.basename());
    }

    /**
     * @throws IllegalArgumentException when the positions are in different binlogs
     */
    @Override
    public int compareTo(BinlogPosition other) {
      if (!sameLog(other)) {
        throw new IllegalArgumentException(
            "positions of different binlogs have no order: "
                + file
                + ":"
                + position
                + " and "
                + other.file
                + ":"
                + other.position);
      }
      return ORDER.compare(this, other);
    }

    private static boolean isDigits(String text) {
      return text.length() <= 18 && text.chars().allMatch(c -> c >= '0' && c <= '9');
    }
  }

  /**
   * A MongoDB change stream position: the cluster time (seconds, increment) of the operation, and
   * the resume token that continues the stream after it. Events of one transaction share a cluster
   * time; their resume tokens ({@code _data}, hex) sort in stream order, so they break the tie.
   */
  record ClusterTime(long seconds, long increment, String resumeToken)
      implements SourcePosition, Comparable<ClusterTime> {
    private static final Comparator<ClusterTime> ORDER =
        Comparator.comparingLong(ClusterTime::seconds)
            .thenComparingLong(ClusterTime::increment)
            .thenComparing(ClusterTime::resumeToken);

    public ClusterTime {
      if (seconds < 0) {
        throw new IllegalArgumentException("seconds is negative: " + seconds);
      }
      if (increment < 0) {
        throw new IllegalArgumentException("increment is negative: " + increment);
      }
      requireNonNull(resumeToken, "resumeToken is null");
    }

    @Override
    public int compareTo(ClusterTime other) {
      return ORDER.compare(this, other);
    }
  }
}
