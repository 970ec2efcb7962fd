package io.lambdalake.stack;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.config.SparkClusterConfig;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A daemon of the local stack's Spark standalone cluster, run with {@code spark-class} from the
 * Spark distribution of the stack's pyspark (installed with Airflow from PyPI; it holds {@code
 * bin/spark-class} and {@code jars/}, but no start scripts for a master or a worker). Every process
 * the cluster starts (drivers in cluster deploy mode, executors) inherits {@code
 * SPARK_LOCAL_IP=127.0.0.1} and binds to the loopback.
 */
public abstract sealed class SparkStandaloneServer extends ManagedServer
    permits SparkStandaloneServer.Master, SparkStandaloneServer.Worker {
  public static final String MASTER = "spark-master";

  /** The stack's names of the servers of the cluster: the master first, then each worker. */
  public static List<String> names() {
    List<String> names = new ArrayList<>();
    names.add(MASTER);
    for (int number = 1; number <= SparkClusterConfig.WORKERS; number++) {
      names.add(workerName(number));
    }
    return List.copyOf(names);
  }

  public static String workerName(int number) {
    return "spark-worker-" + number;
  }

  protected final LakeConfig config;

  private SparkStandaloneServer(String name, LakeConfig config, StackLayout layout) {
    super(name, layout);
    this.config = config;
  }

  protected final SparkClusterConfig cluster() {
    return config.stack().sparkCluster();
  }

  /**
   * The Spark distribution inside the stack's pyspark: {@code site-packages/pyspark} of the Airflow
   * environment, with {@code bin/} and {@code jars/}. Its scripts find it by asking the {@code
   * python3} on the PATH, which is not the environment's; set {@code SPARK_HOME} to this instead.
   */
  public static Path sparkHome(LakeConfig config) {
    Path lib = AirflowServer.defaultHome(config).resolve("venv").resolve("lib");
    try (Stream<Path> pythons = Files.isDirectory(lib) ? Files.list(lib) : Stream.empty()) {
      return pythons
          .map(python -> python.resolve("site-packages").resolve("pyspark"))
          .filter(home -> Files.isExecutable(home.resolve("bin").resolve("spark-class")))
          .findFirst()
          .orElseThrow(
              () ->
                  new LakeException(
                      ErrorCode.SERVER_DISTRIBUTION_MISSING,
                      "The Spark distribution is not installed (no pyspark with bin/spark-class"
                          + " under "
                          + lib
                          + "): run scripts/stack up, which installs pyspark from PyPI"));
    } catch (IOException e) {
      throw new LakeException(
          ErrorCode.SERVER_DISTRIBUTION_MISSING, "Cannot look for pyspark in " + lib + ": " + e, e);
    }
  }

  /** {@code spark-submit} of the stack's Spark distribution; run it with {@code SPARK_HOME}. */
  public static Path sparkSubmit(LakeConfig config) {
    return sparkHome(config).resolve("bin").resolve("spark-submit");
  }

  @Override
  protected void prepare() {}

  @Override
  protected final List<String> command() {
    List<String> command = new ArrayList<>();
    command.add(sparkHome(config).resolve("bin").resolve("spark-class").toString());
    command.addAll(daemonArguments());
    return command;
  }

  /** The daemon's main class and its arguments. */
  protected abstract List<String> daemonArguments();

  @Override
  protected Map<String, String> environment() {
    Map<String, String> environment = new LinkedHashMap<>();
    environment.put("JAVA_HOME", System.getProperty("java.home"));
    environment.put("SPARK_HOME", sparkHome(config).toString());
    environment.put("SPARK_LOCAL_IP", "127.0.0.1");
    // The daemons themselves are small: the cluster's memory is what the workers offer.
    environment.put("SPARK_DAEMON_MEMORY", "512m");
    environment.put("SPARK_LOG_DIR", home().resolve("logs").toString());
    return environment;
  }

  /** The master: spark://127.0.0.1:<spark-master-port>, its status at the web UI's /json/. */
  public static final class Master extends SparkStandaloneServer {
    public Master(LakeConfig config, StackLayout layout) {
      super(MASTER, config, layout);
    }

    @Override
    public String address() {
      return cluster().masterUrl();
    }

    @Override
    protected List<Integer> ports() {
      return List.of(cluster().masterPort(), cluster().masterWebUiPort());
    }

    @Override
    protected List<String> daemonArguments() {
      return List.of(
          "org.apache.spark.deploy.master.Master",
          "--host",
          "127.0.0.1",
          "--port",
          Integer.toString(cluster().masterPort()),
          "--webui-port",
          Integer.toString(cluster().masterWebUiPort()));
    }

    @Override
    protected Map<String, String> environment() {
      Map<String, String> environment = super.environment();
      // A worker killed with kill -9 is noticed at once (its connection drops); one that hangs
      // is dropped after 15 s (Spark's default 60 s), and its supervised drivers start elsewhere.
      environment.put("SPARK_MASTER_OPTS", "-Dspark.worker.timeout=15");
      return environment;
    }

    /** The master answers its status page and says it is ALIVE. */
    @Override
    public void probe() {
      String status = SparkMasterStatus.read(cluster().masterWebUiUrl()).status();
      if (!status.equals("ALIVE")) {
        throw new IllegalStateException("the Spark master is " + status);
      }
    }
  }

  /** Worker n: registers with the master and offers its cores and memory to drivers, executors. */
  public static final class Worker extends SparkStandaloneServer {
    private final int number;

    public Worker(int number, LakeConfig config, StackLayout layout) {
      super(workerName(number), config, layout);
      if (number < 1 || number > SparkClusterConfig.WORKERS) {
        throw new IllegalArgumentException(
            "worker number " + number + " is not between 1 and " + SparkClusterConfig.WORKERS);
      }
      this.number = number;
    }

    public int port() {
      return cluster().workerPort() + number - 1;
    }

    public int webUiPort() {
      return cluster().workerWebUiPort() + number - 1;
    }

    @Override
    public String address() {
      return "127.0.0.1:"
          + port()
          + " ("
          + cluster().workerCores()
          + " cores, "
          + cluster().workerMemory()
          + ")";
    }

    @Override
    protected List<Integer> ports() {
      return List.of(port(), webUiPort());
    }

    @Override
    protected List<String> daemonArguments() {
      return List.of(
          "org.apache.spark.deploy.worker.Worker",
          "--host",
          "127.0.0.1",
          "--port",
          Integer.toString(port()),
          "--webui-port",
          Integer.toString(webUiPort()),
          "--cores",
          Integer.toString(cluster().workerCores()),
          "--memory",
          cluster().workerMemory(),
          "--work-dir",
          home().resolve("work").toString(),
          cluster().masterUrl());
    }

    /** The master lists this worker as ALIVE. */
    @Override
    public void probe() {
      SparkMasterStatus status = SparkMasterStatus.read(cluster().masterWebUiUrl());
      if (status.aliveWorker("127.0.0.1", port()).isEmpty()) {
        throw new IllegalStateException(
            "the Spark master does not list a live worker at 127.0.0.1:" + port());
      }
    }
  }
}
