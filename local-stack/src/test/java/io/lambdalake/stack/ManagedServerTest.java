package io.lambdalake.stack;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Starts a real process (a shell) the way the stack starts its servers. */
class ManagedServerTest {
  @TempDir Path home;

  private ShellServer server;

  @AfterEach
  void stopTheServer() {
    if (server != null) {
      server.stop();
    }
  }

  @Test
  void aServerOnAFreshMachineGetsAnEnvironmentBuiltFromWhatItsPrepareWrote() throws Exception {
    // Airflow's environment carries the secret its prepare() creates on the first start; a fresh
    // machine's `scripts/stack up` failed with "Cannot read .../airflow/secret" when the
    // environment was built before prepare().
    server = new ShellServer(home, "first");

    assertThat(server.start()).isTrue();
    server.awaitReady(Duration.ofSeconds(30));

    assertThat(Files.readString(home.resolve("seen"), StandardCharsets.UTF_8).strip())
        .isEqualTo("first");
  }

  @Test
  void startAsBeforeUsesTheRecordedEnvironmentNotTheCallersOne() throws Exception {
    server = new ShellServer(home, "recorded");
    server.start();
    server.awaitReady(Duration.ofSeconds(30));
    server.stop();
    Files.delete(home.resolve("seen"));

    server = new ShellServer(home, "the caller's");
    assertThat(server.startAsBefore()).isTrue();
    server.awaitReady(Duration.ofSeconds(30));

    assertThat(Files.readString(home.resolve("seen"), StandardCharsets.UTF_8).strip())
        .isEqualTo("recorded");
    assertThat(Files.getPosixFilePermissions(home.resolve("server.env")))
        .hasSize(2)
        .allMatch(permission -> permission.name().startsWith("OWNER_"));
  }

  /** Writes its secret in prepare(), reads it into the environment, echoes it into a file. */
  private static final class ShellServer extends ManagedServer {
    private final String secret;

    ShellServer(Path home, String secret) {
      super("shell", home, home.resolve("shell.log"));
      this.secret = secret;
    }

    @Override
    public String address() {
      return "nowhere";
    }

    @Override
    protected List<Integer> ports() {
      return List.of();
    }

    @Override
    protected void prepare() throws IOException {
      Files.writeString(home().resolve("secret"), secret, StandardCharsets.UTF_8);
    }

    @Override
    protected Map<String, String> environment() {
      try {
        return Map.of(
            "SHELL_SECRET", Files.readString(home().resolve("secret"), StandardCharsets.UTF_8));
      } catch (IOException e) {
        throw new IllegalStateException("Cannot read the secret: " + e, e);
      }
    }

    @Override
    protected List<String> command() {
      // Written aside and renamed: the probe must never see the file created but still empty.
      return List.of(
          "bash", "-c", "echo \"$SHELL_SECRET\" > seen.tmp && mv seen.tmp seen; exec sleep 60");
    }

    @Override
    public void probe() throws IOException {
      if (!Files.isRegularFile(home().resolve("seen"))) {
        throw new IOException("not yet");
      }
    }
  }
}
