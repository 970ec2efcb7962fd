package io.lambdalake.common.config;

import static io.lambdalake.common.config.Checks.checkNotBlank;
import static io.lambdalake.common.config.Checks.checkPositive;

/** How jobs run Spark when started from the command line (spark-submit sets its own master). */
public record SparkConfig(String master, int shufflePartitions, String driverMemory) {
  public SparkConfig {
    checkNotBlank(master, "lake.spark.master");
    checkPositive(shufflePartitions, "lake.spark.shuffle-partitions");
    checkNotBlank(driverMemory, "lake.spark.driver-memory");
  }
}
