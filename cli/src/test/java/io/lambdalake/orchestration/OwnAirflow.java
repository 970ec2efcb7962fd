package io.lambdalake.orchestration;

import io.lambdalake.stack.testing.SharedStack;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.Map;

/**
 * The settings of a test's own Airflow beside the stack's: a free port, a home under target/, a
 * short poll interval, and a lake of the test's own ({@link SharedStack#ownLake}).
 */
record OwnAirflow(Path home, Map<String, String> overrides) {
  static OwnAirflow create(String name) throws IOException {
    int port = freePort();
    Path home = Path.of("target", "airflow-" + name).toAbsolutePath();
    return new OwnAirflow(
        home,
        SharedStack.ownLake(
            name,
            "lake.airflow.url",
            "http://127.0.0.1:" + port,
            "lake.airflow.local-home",
            home.toString(),
            "lake.airflow.poll-interval",
            "2s"));
  }

  /** A TCP port nothing listens on now. */
  static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
