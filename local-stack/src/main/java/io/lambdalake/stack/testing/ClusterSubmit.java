package io.lambdalake.stack.testing;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigRenderOptions;
import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.config.S3Config;
import io.lambdalake.common.config.SparkClusterConfig;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.stack.S3ProxyServer;
import io.lambdalake.stack.SparkMasterStatus;
import io.lambdalake.stack.SparkStandaloneServer;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.spark.launcher.JavaModuleOptions;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;

/**
 * Submits lake jobs from the jobs jar to the local stack's Spark standalone cluster in cluster
 * deploy mode, and judges how each ended. Standalone {@code spark-submit --deploy-mode cluster}
 * exits 0 once the driver was accepted, and again 0 when the driver FAILED: a run is judged by the
 * master's status ({@code /json/}: the driver's state, FINISHED, FAILED, ERROR or KILLED) and by
 * the run record the job wrote ({@code --run-record}), never by spark-submit's exit code. The
 * record goes to the lake's bucket ({@code s3a://}), as on a cluster of several hosts where nobody
 * reads the driver's disk.
 *
 * <p>The configuration reaches the driver as a HOCON file on S3 ({@code spark.lake.config.file
 * =s3a://...}), read with the {@code spark.hadoop.fs.s3a.*} values given to spark-submit. The jobs
 * jar is passed as a local path: the workers run on this machine and read it there (a cluster of
 * several hosts needs an {@code s3a://} or {@code hdfs://} URL every worker can read).
 */
public final class ClusterSubmit {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern SUBMITTED =
      Pattern.compile("Driver successfully submitted as (driver-[0-9]+-[0-9]+)");
  private static final Duration POLL = Duration.ofSeconds(1);
  private static final HttpClient HTTP =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5))
          .followRedirects(HttpClient.Redirect.NEVER)
          .build();

  private final LakeConfig config;
  private final Path jobsJar;
  private final Path logs;

  public ClusterSubmit(LakeConfig config, Path jobsJar, Path logs) {
    this.config = requireNonNull(config, "config is null");
    this.jobsJar = requireNonNull(jobsJar, "jobsJar is null").toAbsolutePath();
    this.logs = requireNonNull(logs, "logs is null");
    if (!Files.isRegularFile(this.jobsJar)) {
      throw new LakeException(
          ErrorCode.INVALID_ARGUMENT,
          "The jobs jar "
              + this.jobsJar
              + " does not exist: build it with mvn -B -ntp package -pl jobs -am -DskipTests");
    }
  }

  /** The jobs jar of a checkout, {@code jobs/target/lambda-lake-jobs.jar}. */
  public static Path jobsJar(Path checkout) {
    return checkout.resolve("jobs").resolve("target").resolve("lambda-lake-jobs.jar");
  }

  /**
   * One job to submit: its main class, the name its SparkSession gives the application (how its
   * applications are told from others' in the master's status), its arguments and the spark-submit
   * options around it.
   */
  public record Submission(
      String label,
      String mainClass,
      String applicationName,
      List<String> arguments,
      String configurationUrl,
      boolean supervise,
      Map<String, String> sparkConf) {
    public Submission {
      requireNonNull(label, "label is null");
      requireNonNull(mainClass, "mainClass is null");
      requireNonNull(applicationName, "applicationName is null");
      arguments = List.copyOf(arguments);
      requireNonNull(configurationUrl, "configurationUrl is null");
      sparkConf = Map.copyOf(sparkConf);
    }
  }

  /**
   * A driver the master accepted, spark-submit's exit code (0 whatever becomes of the driver), and
   * the applications that existed before it was submitted.
   */
  public record Submitted(
      Submission submission,
      String driverId,
      int submitExitCode,
      String runRecordKey,
      Set<String> applicationsBefore) {}

  /** How a submitted run ended, from the master and from the run record. */
  public record Outcome(
      String driverId,
      String driverState,
      List<SparkMasterStatus.Application> applications,
      Optional<Integer> recordExitCode,
      Optional<String> recordMessage) {
    public Outcome {
      applications = List.copyOf(applications);
    }

    /** The driver FINISHED, every application it ran FINISHED, and its record says exit code 0. */
    public boolean succeeded() {
      return driverState.equals("FINISHED")
          && !applications.isEmpty()
          && applications.stream().allMatch(application -> application.state().equals("FINISHED"))
          && recordExitCode.equals(Optional.of(0));
    }

    /** One line: the driver's state, the applications' states and the record's exit and message. */
    public String describe() {
      return driverId
          + " "
          + driverState
          + ", applications "
          + applications.stream()
              .map(application -> application.id() + " " + application.state())
              .collect(Collectors.joining(", ", "[", "]"))
          + ", run record "
          + recordExitCode.map(code -> "exit code " + code).orElse("missing")
          + recordMessage.map(message -> ": " + message).orElse("");
    }
  }

  /**
   * Writes {@code settings} (keys like {@code lake.storage.root}) as a HOCON file to the lake's
   * bucket under {@code key} and returns its {@code s3a://} URL, for {@code
   * spark.lake.config.file}.
   */
  public String uploadConfiguration(String key, Map<String, String> settings) {
    String text =
        ConfigFactory.parseMap(settings, "cluster submission")
            .root()
            .render(ConfigRenderOptions.defaults().setOriginComments(false));
    S3Config s3 = config.s3();
    try (S3Client client = S3ProxyServer.client(s3)) {
      client.putObject(
          request -> request.bucket(s3.bucket()).key(key), RequestBody.fromString(text, UTF_8));
    }
    return "s3a://" + s3.bucket() + "/" + key;
  }

  /**
   * Runs spark-submit in cluster deploy mode without waiting for the driver, and returns the driver
   * the master accepted (named in spark-submit's output). spark-submit's own output goes to {@code
   * <logs>/<label>-submit.log}.
   */
  public Submitted submit(Submission submission) throws IOException, InterruptedException {
    Files.createDirectories(logs);
    String runRecordKey =
        "cluster-runs/" + submission.label() + "-" + UUID.randomUUID() + "/run-record.json";
    Set<String> before = applicationIds(status());
    Path log = logs.resolve(submission.label() + "-submit.log");
    Process process = start(command(submission, runRecordKey), log);
    if (!process.waitFor(3, TimeUnit.MINUTES)) {
      process.destroyForcibly();
      throw new LakeException(
          ErrorCode.SERVER_NOT_AVAILABLE,
          "spark-submit of " + submission.label() + " did not return within 3 minutes; see " + log);
    }
    String output = Files.readString(log, UTF_8);
    Matcher submitted = SUBMITTED.matcher(output);
    if (!submitted.find()) {
      throw new LakeException(
          ErrorCode.SERVER_NOT_AVAILABLE,
          "spark-submit of "
              + submission.label()
              + " exited with "
              + process.exitValue()
              + " and the master accepted no driver; see "
              + log);
    }
    return new Submitted(submission, submitted.group(1), process.exitValue(), runRecordKey, before);
  }

  /**
   * Starts spark-submit with the stack's Spark distribution; it and the driver it submits (which
   * gets spark-submit's environment in standalone cluster mode) bind to the loopback.
   */
  private Process start(List<String> command, Path log) throws IOException {
    ProcessBuilder builder =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.to(log.toFile()))
            .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
    builder.environment().put("SPARK_HOME", SparkStandaloneServer.sparkHome(config).toString());
    builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
    builder.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
    return builder.start();
  }

  private List<String> command(Submission submission, String runRecordKey) {
    SparkClusterConfig cluster = config.stack().sparkCluster();
    List<String> command = new ArrayList<>();
    command.add(SparkStandaloneServer.sparkSubmit(config).toString());
    command.addAll(List.of("--master", cluster.masterUrl(), "--deploy-mode", "cluster"));
    if (submission.supervise()) {
      command.add("--supervise");
    }
    command.addAll(List.of("--class", submission.mainClass()));
    Map<String, String> sparkConf = new LinkedHashMap<>();
    sparkConf.put("spark.lake.config.file", submission.configurationUrl());
    // spark-submit returns once the master accepted the driver; the master's status says the rest.
    sparkConf.put("spark.standalone.submit.waitAppCompletion", "false");
    sparkConf.put("spark.driver.memory", "1g");
    sparkConf.put("spark.driver.cores", "1");
    sparkConf.put("spark.executor.memory", "1g");
    sparkConf.put("spark.executor.cores", "1");
    sparkConf.put("spark.cores.max", "1");
    sparkConf.put("spark.ui.enabled", "false");
    sparkConf.putAll(s3aSettings(config.s3()));
    sparkConf.putAll(submission.sparkConf());
    // A standalone worker starts a cluster-mode driver with the submission's options only, without
    // the --add-opens spark-submit gives every JVM it starts itself (DriverJvm in the jobs).
    sparkConf.merge(
        "spark.driver.extraJavaOptions",
        JavaModuleOptions.defaultModuleOptions(),
        (given, modules) -> modules + " " + given);
    sparkConf.forEach((key, value) -> command.addAll(List.of("--conf", key + "=" + value)));
    command.add(jobsJar.toString());
    command.addAll(submission.arguments());
    command.addAll(List.of("--run-record", "s3a://" + config.s3().bucket() + "/" + runRecordKey));
    return command;
  }

  /** What the driver needs to read the configuration file from the lake's S3 service. */
  private static Map<String, String> s3aSettings(S3Config s3) {
    Map<String, String> settings = new LinkedHashMap<>();
    s3.endpoint()
        .ifPresent(
            endpoint -> {
              settings.put("spark.hadoop.fs.s3a.endpoint", endpoint);
              settings.put(
                  "spark.hadoop.fs.s3a.connection.ssl.enabled",
                  Boolean.toString(endpoint.startsWith("https:")));
            });
    settings.put("spark.hadoop.fs.s3a.endpoint.region", s3.region());
    settings.put("spark.hadoop.fs.s3a.path.style.access", Boolean.toString(s3.pathStyleAccess()));
    s3.accessKey().ifPresent(key -> settings.put("spark.hadoop.fs.s3a.access.key", key));
    s3.secretKey().ifPresent(key -> settings.put("spark.hadoop.fs.s3a.secret.key", key));
    return settings;
  }

  /**
   * The driver that carries a submission on: a supervised driver whose worker was lost ends
   * RELAUNCHING, and the master starts its description again under a new driver id (Spark's {@code
   * Master.relaunchDriver}: the old driver may still run behind a network partition). Followed from
   * driver to driver, the same submission with the id of its latest driver.
   */
  public Submitted follow(Submitted submitted) {
    return follow(submitted, status());
  }

  /** {@link #follow(Submitted)} in a status already read. */
  private static Submitted follow(Submitted submitted, SparkMasterStatus status) {
    Submitted current = submitted;
    while (true) {
      String id = current.driverId();
      Optional<SparkMasterStatus.Driver> driver = status.driver(id);
      if (driver.isEmpty() || !driver.get().state().equals("RELAUNCHING")) {
        return current;
      }
      // Driver ids are driver-<yyyyMMddHHmmss>-<counter>: the relaunch is the first later one of
      // the same main class.
      Optional<String> next =
          Stream.concat(status.activeDrivers().stream(), status.completedDrivers().stream())
              .filter(other -> other.mainClass().equals(driver.get().mainClass()))
              .map(SparkMasterStatus.Driver::id)
              .filter(other -> other.compareTo(id) > 0)
              .sorted()
              .findFirst();
      if (next.isEmpty()) {
        return current;
      }
      current =
          new Submitted(
              current.submission(),
              next.get(),
              current.submitExitCode(),
              current.runRecordKey(),
              current.applicationsBefore());
    }
  }

  /** The master's status now. */
  public SparkMasterStatus status() {
    return SparkMasterStatus.read(config.stack().sparkCluster().masterWebUiUrl());
  }

  /** Waits until the master says the driver ended, then judges the run. */
  public Outcome awaitOutcome(Submitted submitted, Duration timeout)
      throws IOException, InterruptedException {
    Instant deadline = Instant.now().plus(timeout);
    while (true) {
      SparkMasterStatus status = status();
      Submitted current = follow(submitted, status);
      Optional<SparkMasterStatus.Driver> driver = status.driver(current.driverId());
      if (driver.isPresent() && driver.get().done()) {
        return outcome(current, driver.get().state(), status);
      }
      if (Instant.now().isAfter(deadline)) {
        throw new LakeException(
            ErrorCode.INTERNAL_ERROR,
            submitted.submission().label()
                + " ("
                + submitted.driverId()
                + ") did not end within "
                + timeout
                + "; the master says "
                + driver.map(SparkMasterStatus.Driver::state).orElse("nothing of it"));
      }
      Thread.sleep(POLL.toMillis());
    }
  }

  /**
   * The run as it stands: the driver's state now, the applications started since it was submitted,
   * and its run record if it wrote one.
   */
  public Outcome outcome(Submitted submitted, String driverState, SparkMasterStatus status)
      throws IOException {
    List<SparkMasterStatus.Application> applications =
        Stream.concat(status.activeApplications().stream(), status.completedApplications().stream())
            .filter(application -> !submitted.applicationsBefore().contains(application.id()))
            .filter(
                application -> application.name().equals(submitted.submission().applicationName()))
            .toList();
    Optional<Integer> exitCode = Optional.empty();
    Optional<String> message = Optional.empty();
    Optional<String> text = runRecord(submitted.runRecordKey());
    if (text.isPresent()) {
      JsonNode record = JSON.readTree(text.get());
      exitCode = Optional.of(record.path("exit_code").asInt(-1));
      message =
          Optional.of(record.path("message")).filter(JsonNode::isTextual).map(JsonNode::asText);
    }
    return new Outcome(submitted.driverId(), driverState, applications, exitCode, message);
  }

  /** The run record the driver wrote to the lake's bucket, if it wrote one. */
  private Optional<String> runRecord(String key) {
    S3Config s3 = config.s3();
    try (S3Client client = S3ProxyServer.client(s3)) {
      return Optional.of(
          client.getObjectAsBytes(request -> request.bucket(s3.bucket()).key(key)).asString(UTF_8));
    } catch (NoSuchKeyException e) {
      return Optional.empty();
    }
  }

  /**
   * Asks the master to kill a driver, as an operator stops a streaming job; it ends KILLED and is
   * not started again although supervised. Through the master's web UI ({@code POST
   * /driver/kill/}): {@code spark-submit --kill} goes through the REST submission server, which a
   * Spark 4 master does not run unless {@code spark.master.rest.enabled}.
   */
  public void kill(String driverId) throws IOException, InterruptedException {
    String url = config.stack().sparkCluster().masterWebUiUrl() + "/driver/kill/";
    HttpResponse<Void> response =
        HTTP.send(
            HttpRequest.newBuilder(URI.create(url))
                .timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(
                    HttpRequest.BodyPublishers.ofString(
                        "id=" + URLEncoder.encode(driverId, UTF_8) + "&terminate=true"))
                .build(),
            HttpResponse.BodyHandlers.discarding());
    // The master answers with a redirect to its status page.
    if (response.statusCode() != 302 && response.statusCode() != 200) {
      throw new LakeException(
          ErrorCode.SERVER_NOT_AVAILABLE,
          "The Spark master did not take the kill of "
              + driverId
              + ": HTTP "
              + response.statusCode());
    }
  }

  /**
   * The driver JVM of a driver on this machine: the worker runs it in {@code
   * <work-dir>/<driver-id>/} with the jobs jar copied there, so its command line names that folder.
   */
  public static Optional<ProcessHandle> driverProcess(String driverId) {
    String folder = "/" + driverId + "/";
    return ProcessHandle.allProcesses()
        .filter(
            process ->
                process
                    .info()
                    .arguments()
                    .map(arguments -> String.join(" ", arguments))
                    .filter(line -> line.contains("DriverWrapper") && line.contains(folder))
                    .isPresent())
        .findFirst();
  }

  private static Set<String> applicationIds(SparkMasterStatus status) {
    return Stream.concat(
            status.activeApplications().stream(), status.completedApplications().stream())
        .map(SparkMasterStatus.Application::id)
        .collect(Collectors.toSet());
  }
}
