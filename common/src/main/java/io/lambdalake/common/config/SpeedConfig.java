package io.lambdalake.common.config;

/**
 * The speed layer ({@code lake speed}).
 *
 * @param compactEveryBatches the landing and each speed view compact (Delta OPTIMIZE) and vacuum a
 *     table they write once they have written it in this many micro-batches since the last
 *     compaction, one table per batch; 0 never
 */
public record SpeedConfig(int compactEveryBatches) {
  public SpeedConfig {
    if (compactEveryBatches < 0) {
      throw Checks.invalid(
          "lake.speed.compact-every-batches",
          Integer.toString(compactEveryBatches),
          "0 (never) or a positive number of micro-batches");
    }
  }
}
