package io.lambdalake.stack;

import static java.util.Objects.requireNonNull;

import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A server of the local stack that runs as its own operating-system process, detached from the JVM
 * that started it (so {@code scripts/stack up} can return), with a PID file, a log file and a probe
 * that proves it really answers. {@link #stop()} stops only a process this stack started.
 */
public abstract class ManagedServer {
  private static final Logger LOG = LoggerFactory.getLogger(ManagedServer.class);
  private static final Duration PROBE_INTERVAL = Duration.ofMillis(500);
  private static final Duration STOP_GRACE = Duration.ofSeconds(30);

  private final String name;
  private final Path home;
  private final Path logFile;

  protected ManagedServer(String name, StackLayout layout) {
    this(name, layout.serverHome(name), layout.logFile(name));
  }

  /** A server whose folder is configured apart from the stack's (e.g. lake.airflow.local-home). */
  protected ManagedServer(String name, Path home, Path logFile) {
    this.name = requireNonNull(name, "name is null");
    this.home = requireNonNull(home, "home is null").toAbsolutePath();
    this.logFile = requireNonNull(logFile, "logFile is null").toAbsolutePath();
  }

  public final String name() {
    return name;
  }

  /** Where clients reach the server, e.g. {@code 127.0.0.1:19092}. */
  public abstract String address();

  /** Folder with this server's data and generated configuration. */
  protected final Path home() {
    return home;
  }

  public final Path logFile() {
    return logFile;
  }

  private Path pidFile() {
    return home.resolve("server.pid");
  }

  /** The process of this server if the stack started it and it still runs. */
  public final Optional<ProcessHandle> process() {
    Path pidFile = pidFile();
    if (!Files.isRegularFile(pidFile)) {
      return Optional.empty();
    }
    try {
      long pid = Long.parseLong(Files.readString(pidFile).trim());
      return ProcessHandle.of(pid).filter(ProcessHandle::isAlive);
    } catch (IOException | NumberFormatException e) {
      return Optional.empty();
    }
  }

  /**
   * Whether the stack started this server and did not stop it since: it runs, or it was killed (its
   * PID file is still there).
   */
  public final boolean wasStarted() {
    return Files.isRegularFile(pidFile());
  }

  public final boolean isRunning() {
    return process().isPresent();
  }

  /**
   * Starts the server unless it already runs; returns at once, before it is ready.
   *
   * @return whether this call started it
   */
  public final boolean start() {
    // After prepare(): a server's environment may read what prepare() writes (Airflow's secret).
    return launch(this::environment);
  }

  /**
   * Starts the server with the environment of its last start ({@code server.env} beside its PID
   * file), not the caller's: a program that stopped a server of a stack it did not start, e.g. a
   * chaos scenario run with a bucket of its own, brings it back as it was (Trino's metastore is in
   * the bucket its environment names). As {@link #start} when no start was recorded.
   *
   * @return whether this call started it
   */
  public final boolean startAsBefore() {
    return launch(() -> recordedEnvironment().orElseGet(this::environment));
  }

  private Optional<Map<String, String>> recordedEnvironment() {
    Path file = environmentFile();
    if (!Files.isRegularFile(file)) {
      return Optional.empty();
    }
    Properties properties = new Properties();
    try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      properties.load(reader);
    } catch (IOException e) {
      throw new LakeException(
          ErrorCode.SERVER_FAILED_TO_START,
          name + " cannot be started as before: " + file + ": " + e.getMessage(),
          e);
    }
    Map<String, String> environment = new LinkedHashMap<>();
    properties
        .stringPropertyNames()
        .forEach(key -> environment.put(key, properties.getProperty(key)));
    return Optional.of(environment);
  }

  private Path environmentFile() {
    return home.resolve("server.env");
  }

  private void recordEnvironment(Map<String, String> environment) throws IOException {
    Properties properties = new Properties();
    properties.putAll(environment);
    Path file = environmentFile();
    try (Writer writer = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
      properties.store(writer, "The environment " + name + " was last started with");
    }
    // It holds the stack's S3 keys and passwords.
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
  }

  private boolean launch(Supplier<Map<String, String>> environmentOf) {
    if (isRunning()) {
      return false;
    }
    for (int port : ports()) {
      if (!isFree(port)) {
        throw new LakeException(
            ErrorCode.SERVER_FAILED_TO_START,
            name
                + " cannot start: port "
                + port
                + " on 127.0.0.1 is taken by a process this stack did not start"
                + " (another checkout's stack? stop it, or change lake.stack.* ports)");
      }
    }
    try {
      Files.createDirectories(home);
      Files.createDirectories(logFile.getParent());
      prepare();
      Map<String, String> environment = environmentOf.get();
      List<String> command = new ArrayList<>();
      // Its own session: a Ctrl-C in the terminal that ran `scripts/stack up` does not reach it.
      command.add("setsid");
      command.addAll(command());
      ProcessBuilder builder =
          new ProcessBuilder(command)
              .directory(home.toFile())
              .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
              .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
              .redirectErrorStream(true);
      builder.environment().putAll(environment);
      recordEnvironment(environment);
      Files.writeString(
          logFile,
          "---- " + Instant.now() + " starting " + name + ": " + String.join(" ", command) + "\n",
          StandardCharsets.UTF_8,
          StandardOpenOption.CREATE,
          StandardOpenOption.APPEND);
      Process process = builder.start();
      Files.writeString(pidFile(), Long.toString(process.pid()));
      LOG.info("Started {} as process {}", name, process.pid());
      return true;
    } catch (IOException e) {
      throw new LakeException(
          ErrorCode.SERVER_FAILED_TO_START,
          name + " could not be started: " + e.getMessage() + " (log: " + logFile + ")",
          e);
    }
  }

  /** Waits until the probe succeeds; fails with one line naming the server and its log. */
  public final void awaitReady(Duration timeout) {
    Instant deadline = Instant.now().plus(timeout);
    Exception lastFailure = null;
    while (Instant.now().isBefore(deadline)) {
      if (!isRunning() && requiresOwnProcess()) {
        throw new LakeException(
            ErrorCode.SERVER_FAILED_TO_START, name + " exited while starting; see " + logFile);
      }
      try {
        probe();
        return;
      } catch (Exception e) {
        lastFailure = e;
      }
      sleep(PROBE_INTERVAL);
    }
    throw new LakeException(
        ErrorCode.SERVER_FAILED_TO_START,
        name
            + " did not answer within "
            + timeout.toSeconds()
            + " s ("
            + (lastFailure == null ? "no probe ran" : oneLine(lastFailure))
            + "); see "
            + logFile);
  }

  /** Whether a server process of ours must be alive for the probe to count. */
  protected boolean requiresOwnProcess() {
    return true;
  }

  /**
   * Stops the server if this stack started it: SIGTERM, then SIGKILL after a grace period.
   *
   * @return whether a process was stopped
   */
  public final boolean stop() {
    Optional<ProcessHandle> process = process();
    if (process.isEmpty()) {
      deletePidFile();
      return false;
    }
    ProcessHandle handle = process.get();
    List<ProcessHandle> descendants = handle.descendants().toList();
    handle.destroy();
    try {
      handle.onExit().get(STOP_GRACE.toSeconds(), TimeUnit.SECONDS);
    } catch (Exception e) {
      LOG.warn("{} did not stop within {} s; killing it", name, STOP_GRACE.toSeconds());
      handle.destroyForcibly();
      handle.onExit().join();
    }
    descendants.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
    deletePidFile();
    return true;
  }

  private void deletePidFile() {
    try {
      Files.deleteIfExists(pidFile());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The TCP ports on 127.0.0.1 the server listens on; they must be free before it starts. */
  protected abstract List<Integer> ports();

  private static boolean isFree(int port) {
    try (ServerSocket socket = new ServerSocket()) {
      socket.setReuseAddress(true);
      socket.bind(new InetSocketAddress("127.0.0.1", port));
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** Writes configuration files and initializes data folders before the first start. */
  protected abstract void prepare() throws IOException;

  /** The command that runs the server in the foreground. */
  protected abstract List<String> command();

  /** Environment variables the server process gets in addition to this JVM's. */
  protected Map<String, String> environment() {
    return Map.of();
  }

  /** Proves the server answers real requests; throws when it does not (yet). */
  public abstract void probe() throws Exception;

  protected static String javaExecutable() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  static String oneLine(Throwable error) {
    Throwable root = error;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String message =
        root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
    return message.lines().findFirst().orElse("").strip();
  }

  static void sleep(Duration duration) {
    try {
      Thread.sleep(duration.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new LakeException(ErrorCode.INTERNAL_ERROR, "Interrupted while waiting", e);
    }
  }
}
