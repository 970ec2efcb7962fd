package io.lambdalake.common.config;

import static io.lambdalake.common.config.Checks.checkNotBlank;
import static io.lambdalake.common.config.Checks.checkPort;
import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.Optional;

/** Ports and settings of the embedded local stack; unused on a cluster. */
public record StackConfig(
    int kafkaPort,
    int kafkaControllerPort,
    int s3ProxyPort,
    int trinoPort,
    String trinoMaxHeap,
    Optional<String> trinoJavaHome,
    int mariaDbPort,
    int metastorePort,
    String metastoreDatabase,
    Duration startTimeout,
    SparkClusterConfig sparkCluster) {
  public StackConfig {
    checkPort(kafkaPort, "lake.stack.kafka-port");
    checkPort(kafkaControllerPort, "lake.stack.kafka-controller-port");
    checkPort(s3ProxyPort, "lake.stack.s3proxy-port");
    checkPort(trinoPort, "lake.stack.trino-port");
    checkNotBlank(trinoMaxHeap, "lake.stack.trino-max-heap");
    requireNonNull(trinoJavaHome, "trinoJavaHome is null");
    checkPort(mariaDbPort, "lake.stack.mariadb-port");
    checkPort(metastorePort, "lake.stack.metastore-port");
    checkNotBlank(metastoreDatabase, "lake.stack.metastore-database");
    if (!metastoreDatabase.matches("[A-Za-z0-9_]+")) {
      throw Checks.invalid(
          "lake.stack.metastore-database",
          metastoreDatabase,
          "a MariaDB database name of letters, digits and underscores");
    }
    requireNonNull(startTimeout, "startTimeout is null");
    if (startTimeout.isNegative() || startTimeout.isZero()) {
      throw Checks.invalid("lake.stack.start-timeout", startTimeout, "a positive duration");
    }
    requireNonNull(sparkCluster, "sparkCluster is null");
  }
}
