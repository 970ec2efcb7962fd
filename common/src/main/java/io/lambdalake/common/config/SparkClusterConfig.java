package io.lambdalake.common.config;

import static io.lambdalake.common.config.Checks.checkNotBlank;
import static io.lambdalake.common.config.Checks.checkPort;
import static io.lambdalake.common.config.Checks.checkPositive;

/**
 * The local stack's Spark standalone cluster ({@code scripts/stack up --with-spark-cluster}): a
 * master and {@link #WORKERS} workers on 127.0.0.1. Worker {@code n} (1-based) listens on {@code
 * workerPort + n - 1} and serves its web UI on {@code workerWebUiPort + n - 1}. Each worker offers
 * {@code workerCores} cores and {@code workerMemory} to drivers and executors; the cores are
 * scheduling slots, not the machine's cores (a worker may offer more than the machine has).
 */
public record SparkClusterConfig(
    int masterPort,
    int masterWebUiPort,
    int workerPort,
    int workerWebUiPort,
    int workerCores,
    String workerMemory) {
  public static final int WORKERS = 2;

  public SparkClusterConfig {
    checkPort(masterPort, "lake.stack.spark-master-port");
    checkPort(masterWebUiPort, "lake.stack.spark-master-web-ui-port");
    checkPort(workerPort, "lake.stack.spark-worker-port");
    checkPort(workerPort + WORKERS - 1, "lake.stack.spark-worker-port (+ workers - 1)");
    checkPort(workerWebUiPort, "lake.stack.spark-worker-web-ui-port");
    checkPort(workerWebUiPort + WORKERS - 1, "lake.stack.spark-worker-web-ui-port (+ workers - 1)");
    checkPositive(workerCores, "lake.stack.spark-worker-cores");
    checkNotBlank(workerMemory, "lake.stack.spark-worker-memory");
  }

  /** The URL drivers and spark-submit use: {@code spark://127.0.0.1:<master-port>}. */
  public String masterUrl() {
    return "spark://127.0.0.1:" + masterPort;
  }

  /** The master's status page; {@code /json/} below it is the machine-readable status. */
  public String masterWebUiUrl() {
    return "http://127.0.0.1:" + masterWebUiPort;
  }
}
