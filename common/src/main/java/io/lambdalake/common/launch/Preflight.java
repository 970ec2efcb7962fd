package io.lambdalake.common.launch;

import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.common.launch.Endpoint.Address;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Checks, before a job starts Spark or a client, that each server it needs accepts a TCP connection
 * within a short timeout: an unreachable server fails the run in seconds with exit code 75 and a
 * line that names it, instead of after minutes of client retries.
 */
public final class Preflight {
  private Preflight() {}

  /** Throws {@link ErrorCode#SERVER_NOT_AVAILABLE} for the first endpoint that does not answer. */
  public static void check(List<Endpoint> endpoints, Duration timeout) {
    for (Endpoint endpoint : endpoints) {
      if (endpoint.addresses().stream().noneMatch(address -> answers(address, timeout))) {
        throw new LakeException(
            ErrorCode.SERVER_NOT_AVAILABLE,
            endpoint.name()
                + " at "
                + endpoint.addresses().stream()
                    .map(Address::toString)
                    .collect(Collectors.joining(","))
                + " does not answer within "
                + seconds(timeout)
                + ": "
                + endpoint.remedy());
      }
    }
  }

  private static boolean answers(Address address, Duration timeout) {
    try (Socket socket = new Socket()) {
      socket.connect(
          new InetSocketAddress(address.host(), address.port()), (int) timeout.toMillis());
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static String seconds(Duration timeout) {
    return timeout.toMillis() % 1000 == 0 ? timeout.toSeconds() + " s" : timeout.toMillis() + " ms";
  }
}
