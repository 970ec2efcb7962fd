package io.lambdalake.stack;

import static java.util.Objects.requireNonNull;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.config.LakeConfigLoader;
import io.lambdalake.common.config.SparkClusterConfig;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;

/**
 * The local stack: s3proxy, Kafka, MariaDB, the Hive Metastore, Maxwell's Daemon, Trino and Airflow
 * on 127.0.0.1, each its own process, and on request a Spark standalone cluster (a master and two
 * workers). {@link #up} starts what is not running and waits until every server answers a real
 * request; closing a stack stops only the servers that this instance started, so a test run reuses
 * a stack that scripts/test brought up and leaves it running.
 */
public final class LocalStack implements AutoCloseable {
  private final LakeConfig config;
  private final StackLayout layout;
  private final List<ManagedServer> servers;
  private final List<ManagedServer> startedHere = new ArrayList<>();

  public LocalStack(LakeConfig config, Path confDirectory) {
    this.config = requireNonNull(config, "config is null");
    this.layout = new StackLayout(config.localDirectory(), confDirectory);
    S3ProxyServer s3 = new S3ProxyServer(config, layout);
    KafkaServer kafka = new KafkaServer(config, layout);
    MariaDbServer mariaDb = new MariaDbServer(config, layout);
    TrinoServer trino = new TrinoServer(config, layout);
    MaxwellServer maxwell = new MaxwellServer(config, layout);
    AirflowServer airflow = new AirflowServer(config, layout);
    DdlRelayServer ddlRelay = new DdlRelayServer(config, layout);
    MetastoreServer metastore = new MetastoreServer(config, layout);
    List<ManagedServer> all =
        new ArrayList<>(List.of(s3, kafka, mariaDb, metastore, trino, maxwell, ddlRelay, airflow));
    all.add(new SparkStandaloneServer.Master(config, layout));
    for (int number = 1; number <= SparkClusterConfig.WORKERS; number++) {
      all.add(new SparkStandaloneServer.Worker(number, config, layout));
    }
    this.servers = List.copyOf(all);
  }

  /** The stack described by conf/ of this checkout (or LAKE_CONF_DIR / -Dlake.conf.dir). */
  public static LocalStack fromConfiguration() {
    return new LocalStack(LakeConfigLoader.load(), LakeConfigLoader.confDirectory(System.getenv()));
  }

  public LakeConfig config() {
    return config;
  }

  public StackLayout layout() {
    return layout;
  }

  public List<ManagedServer> servers() {
    return servers;
  }

  public ManagedServer server(String name) {
    return servers.stream()
        .filter(server -> server.name().equals(name))
        .findFirst()
        .orElseThrow(
            () ->
                new LakeException(
                    ErrorCode.INVALID_ARGUMENT,
                    "No server named " + name + " in the local stack; there are " + names()));
  }

  private List<String> names() {
    return servers.stream().map(ManagedServer::name).toList();
  }

  /** What happened to one server in {@link #up}. */
  public record ServerReport(String name, String address, boolean started, Duration elapsed) {}

  /** What {@link #up} starts besides the core servers. */
  public enum Extra {
    /** The Spark standalone master and its workers ({@code --with-spark-cluster}). */
    SPARK_CLUSTER
  }

  /**
   * Starts every core server that does not run and waits until each answers. Servers without
   * dependencies start together; the Hive Metastore starts once MariaDB and s3proxy answer, and
   * Trino after it when its catalog is the metastore ({@code lake.catalog.type = thrift}); Maxwell
   * starts once MariaDB and Kafka answer, the DDL relay after it.
   */
  public List<ServerReport> up(Consumer<ServerReport> progress) {
    return up(progress, Set.of());
  }

  /**
   * As {@link #up(Consumer)}, then the extras: the Spark cluster's master, then its workers, once
   * the servers its jobs use answer.
   */
  public List<ServerReport> up(Consumer<ServerReport> progress, Set<Extra> extras) {
    List<ServerReport> done = new ArrayList<>(upCore(progress));
    if (extras.contains(Extra.SPARK_CLUSTER)) {
      done.addAll(start(SparkStandaloneServer.names(), progress));
    }
    return List.copyOf(done);
  }

  private List<ServerReport> upCore(Consumer<ServerReport> progress) {
    Duration timeout = config.stack().startTimeout();
    Instant start = Instant.now();
    ExecutorService executor = Executors.newFixedThreadPool(servers.size());
    try {
      Map<String, Future<ServerReport>> reports = new LinkedHashMap<>();
      for (String name : List.of("s3proxy", "kafka", "mariadb", AirflowServer.NAME)) {
        ManagedServer server = server(name);
        reports.put(name, executor.submit(() -> bringUp(server, start, timeout)));
      }
      Future<ServerReport> metastore =
          executor.submit(
              () -> {
                awaitQuietly(reports.get("s3proxy"));
                awaitQuietly(reports.get("mariadb"));
                return bringUp(server(MetastoreServer.NAME), start, timeout);
              });
      reports.put(MetastoreServer.NAME, metastore);
      boolean trinoNeedsMetastore = config.catalog().isShared();
      reports.put(
          "trino",
          executor.submit(
              () -> {
                if (trinoNeedsMetastore) {
                  awaitQuietly(metastore);
                }
                return bringUp(server("trino"), start, timeout);
              }));
      List<ServerReport> done = new ArrayList<>();
      for (String name : List.of("s3proxy", "kafka", "mariadb", MetastoreServer.NAME)) {
        done.add(report(reports.get(name), progress));
      }
      done.add(bringUp(server("maxwell"), start, timeout));
      progress.accept(done.get(done.size() - 1));
      done.add(bringUp(server(DdlRelayServer.NAME), start, timeout));
      progress.accept(done.get(done.size() - 1));
      done.add(report(reports.get("trino"), progress));
      done.add(report(reports.get(AirflowServer.NAME), progress));
      return List.copyOf(done);
    } finally {
      executor.shutdownNow();
    }
  }

  /**
   * Starts the named servers that do not run, one after the other in the given order, and waits
   * until each answers: a part of the stack (e.g. {@code s3proxy kafka} for a landing test), or a
   * server stopped by {@link #stop(List)} brought back. Name a server after those it needs.
   */
  public List<ServerReport> start(List<String> names, Consumer<ServerReport> progress) {
    Instant start = Instant.now();
    List<ServerReport> done = new ArrayList<>();
    for (String name : names) {
      ServerReport report = bringUp(server(name), start, config.stack().startTimeout());
      progress.accept(report);
      done.add(report);
    }
    return List.copyOf(done);
  }

  /**
   * Starts the named servers again with the environment each was last started with ({@link
   * ManagedServer#startAsBefore}), and waits until each answers: for a program that stopped a
   * server of this stack and must bring it back as it was, whatever its own configuration says.
   */
  public void restartAsBefore(List<String> names) {
    for (String name : names) {
      ManagedServer server = server(name);
      server.startAsBefore();
      server.awaitReady(config.stack().startTimeout());
    }
  }

  /**
   * Stops the named servers that run from this stack's PID files, in the given order, as {@link
   * #down} does for all of them; the others keep running.
   *
   * @return the names of the servers that were running and are stopped now
   */
  public List<String> stop(List<String> names) {
    List<ManagedServer> named = names.stream().map(this::server).toList();
    List<String> stopped = new ArrayList<>();
    for (ManagedServer server : named) {
      if (server.stop()) {
        stopped.add(server.name());
      }
    }
    return List.copyOf(stopped);
  }

  private ServerReport bringUp(ManagedServer server, Instant stackStart, Duration timeout) {
    boolean started = server.start();
    if (started) {
      synchronized (startedHere) {
        startedHere.add(server);
      }
    }
    server.awaitReady(timeout);
    return new ServerReport(
        server.name(), server.address(), started, Duration.between(stackStart, Instant.now()));
  }

  /** Waits for a server another task brings up; its failure is reported where it is read. */
  private static void awaitQuietly(Future<ServerReport> future) {
    try {
      future.get();
    } catch (ExecutionException e) {
      // report() names this server's failure in its turn.
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static ServerReport report(Future<ServerReport> future, Consumer<ServerReport> progress) {
    try {
      ServerReport report = future.get();
      progress.accept(report);
      return report;
    } catch (ExecutionException e) {
      if (e.getCause() instanceof LakeException lakeException) {
        throw lakeException;
      }
      throw new LakeException(ErrorCode.INTERNAL_ERROR, "Starting the stack failed", e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new LakeException(ErrorCode.INTERNAL_ERROR, "Interrupted while starting the stack", e);
    }
  }

  /** Stops every server of the stack that runs from its PID file, dependents first. */
  public List<String> down() {
    List<String> stopped = new ArrayList<>();
    // The Spark cluster first (workers before their master), then the core servers.
    List<String> order = new ArrayList<>(SparkStandaloneServer.names());
    Collections.reverse(order);
    order.addAll(
        List.of(
            AirflowServer.NAME,
            DdlRelayServer.NAME,
            "maxwell",
            "trino",
            MetastoreServer.NAME,
            "kafka",
            "mariadb",
            "s3proxy"));
    for (String name : order) {
      if (server(name).stop()) {
        stopped.add(name);
      }
    }
    return stopped;
  }

  /** Whether a server runs, and whether it answers its probe. */
  public record ServerStatus(
      String name, String address, Optional<Long> pid, Optional<String> problem) {
    public boolean healthy() {
      return pid.isPresent() && problem.isEmpty();
    }
  }

  /**
   * The status of every core server, and of each extra (the Spark cluster) that was started and not
   * stopped since: one killed counts as down.
   */
  public List<ServerStatus> status() {
    List<ServerStatus> statuses = new ArrayList<>();
    for (ManagedServer server : servers) {
      if (server instanceof SparkStandaloneServer && !server.wasStarted()) {
        continue;
      }
      Optional<Long> pid = server.process().map(ProcessHandle::pid);
      Optional<String> problem;
      if (pid.isEmpty()) {
        problem = Optional.of("not running");
      } else {
        problem = probeProblem(server);
      }
      statuses.add(new ServerStatus(server.name(), server.address(), pid, problem));
    }
    return List.copyOf(statuses);
  }

  private static Optional<String> probeProblem(ManagedServer server) {
    try {
      server.probe();
      return Optional.empty();
    } catch (Exception e) {
      return Optional.of("does not answer: " + ManagedServer.oneLine(e));
    }
  }

  /** Stops the servers this instance started; a stack someone else started keeps running. */
  @Override
  public void close() {
    List<ManagedServer> started;
    synchronized (startedHere) {
      started = new ArrayList<>(startedHere);
      startedHere.clear();
    }
    for (int index = started.size() - 1; index >= 0; index--) {
      started.get(index).stop();
    }
  }
}
