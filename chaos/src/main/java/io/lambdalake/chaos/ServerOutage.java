package io.lambdalake.chaos;

import static java.util.Objects.requireNonNull;
import static org.awaitility.Awaitility.await;

import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.stack.LocalStack;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * A server of the local stack the driver runs against, stopped for a while and started again
 * through the stack's own PID files ({@link LocalStack#stop} and {@link LocalStack#start}, as
 * {@code scripts/stack stop|start} do). It stops that stack's server for every client: run these
 * scenarios on a stack of their own (docs/chaos.md, "A second stack"), never on a shared one.
 */
final class ServerOutage implements AutoCloseable {
  /** How long a server stays stopped: the 60 s, longer than every client timeout. */
  static final Duration OUTAGE = Duration.ofSeconds(60);

  private final LocalStack stack;
  private final String server;
  private final PrintStream progress;
  private Instant stoppedAt;

  private ServerOutage(LocalStack stack, String server, PrintStream progress) {
    this.stack = requireNonNull(stack, "stack is null");
    this.server = requireNonNull(server, "server is null");
    this.progress = requireNonNull(progress, "progress is null");
  }

  /** Stops {@code server} of the configured stack; fails when the stack did not start it. */
  static ServerOutage stop(String server) {
    LocalStack stack = LocalStack.fromConfiguration();
    ServerOutage outage = new ServerOutage(stack, server, System.err);
    outage.progress.printf(
        "chaos: stopping %s of the stack in %s (a stack of the chaos run's own, never a shared"
            + " one)%n",
        server, stack.layout().localDirectory());
    if (stack.stop(List.of(server)).isEmpty()) {
      throw new LakeException(
          ErrorCode.INTERNAL_ERROR,
          server
              + " of the stack in "
              + stack.layout().localDirectory()
              + " does not run from that stack's PID file, so the scenario cannot stop it: start"
              + " a stack of its own (docs/chaos.md, \"A second stack\")");
    }
    outage.stoppedAt = Instant.now();
    return outage;
  }

  /** Waits until the server has been down for {@link #OUTAGE}, whatever the clients do. */
  void lastOut() {
    Duration left = OUTAGE.minus(Duration.between(stoppedAt, Instant.now()));
    if (!left.isNegative()) {
      await().pollDelay(left).atMost(left.plusSeconds(10)).until(() -> true);
    }
  }

  /** Starts the server again and waits until it answers. */
  void end() {
    if (stoppedAt == null) {
      return;
    }
    // As it was started, not with this run's configuration: on a stack the run shares, the
    // run's own bucket would move Trino's metastore (seen on 2026-12-07).
    stack.restartAsBefore(List.of(server));
    progress.printf(
        "chaos: %s back after %d s%n",
        server, Duration.between(stoppedAt, Instant.now()).toSeconds());
    stoppedAt = null;
  }

  /** Ends the outage if a failed scenario left it open: the stack is never left half down. */
  @Override
  public void close() {
    end();
  }

  /**
   * What an operator reads of a failed run: the job's own one-line error ({@code lake <command>:
   * ...}), or else the last non-blank line of its log. Spark's threads may still log after the
   * job's line (a task killed while the context stops, ending in "Driver stacktrace:").
   */
  static String lastLine(Path log) throws IOException {
    List<String> lines = Files.readAllLines(log);
    for (int index = lines.size() - 1; index >= 0; index--) {
      if (lines.get(index).startsWith("lake ")) {
        return lines.get(index).strip();
      }
    }
    for (int index = lines.size() - 1; index >= 0; index--) {
      if (!lines.get(index).isBlank()) {
        return lines.get(index).strip();
      }
    }
    return "";
  }
}
