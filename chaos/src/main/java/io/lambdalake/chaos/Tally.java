package io.lambdalake.chaos;

/**
 * What a scenario found in the data after its fault and the restart: accepted events or committed
 * source rows missing (lost), present more than once (duplicated), and serving keys or mirror rows
 * that differ from a recompute from the source of truth (diverged).
 */
public record Tally(long lost, long duplicated, long diverged) {
  public static final Tally CLEAN = new Tally(0, 0, 0);

  public Tally {
    if (lost < 0 || duplicated < 0 || diverged < 0) {
      throw new IllegalArgumentException(
          "counts must not be negative: lost="
              + lost
              + " duplicated="
              + duplicated
              + " diverged="
              + diverged);
    }
  }

  public Tally plus(Tally other) {
    return new Tally(lost + other.lost, duplicated + other.duplicated, diverged + other.diverged);
  }

  public boolean clean() {
    return lost == 0 && duplicated == 0 && diverged == 0;
  }

  /** The counts as the driver prints them. */
  public String toLine() {
    return "lost=" + lost + " duplicated=" + duplicated + " diverged=" + diverged;
  }
}
