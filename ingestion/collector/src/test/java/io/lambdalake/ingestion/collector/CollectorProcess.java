package io.lambdalake.ingestion.collector;

import io.lambdalake.common.config.LakeConfigLoader;

/**
 * A collector in a JVM of its own, started as {@code lake collector} starts it (a shutdown hook
 * that closes it gracefully), configured by system properties: for tests that send it a real
 * SIGTERM.
 */
public final class CollectorProcess {
  private CollectorProcess() {}

  public static void main(String[] arguments) throws InterruptedException {
    CollectorServer server = CollectorServer.start(LakeConfigLoader.load());
    Runtime.getRuntime().addShutdownHook(new Thread(server::close, "collector-shutdown"));
    server.awaitTermination();
  }
}
