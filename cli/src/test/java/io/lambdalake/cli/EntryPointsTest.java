package io.lambdalake.cli;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.lambdalake.batch.BatchJob;
import io.lambdalake.common.launch.Launcher;
import io.lambdalake.consumers.match.MatchJob;
import io.lambdalake.consumers.spam.SpamJob;
import io.lambdalake.ingestion.cdc.CdcJob;
import io.lambdalake.ingestion.collector.CollectorCommand;
import io.lambdalake.ingestion.imports.FilesImportJob;
import io.lambdalake.ingestion.imports.JdbcImportJob;
import io.lambdalake.ingestion.imports.MongoExportJob;
import io.lambdalake.serving.api.ApiCommand;
import io.lambdalake.speed.SpeedJob;
import java.io.File;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;

/**
 * Every command and every job's main starts through the one launcher: a bad argument exits 2 and an
 * unreachable server 75 within seconds, each with one line on stderr and a failed run record, the
 * same from {@code lake} and from the job's main in its own JVM (as spark-submit runs it); and
 * {@code --help} exits 0 everywhere. No server is needed: every endpoint points at a closed port.
 */
class EntryPointsTest {
  /** Every server of the configuration, at a port nothing listens on. */
  private static final Map<String, String> UNREACHABLE =
      Map.of(
          "lake.kafka.bootstrap-servers", "127.0.0.1:1",
          "lake.s3.endpoint", "http://127.0.0.1:1",
          "lake.trino.url", "jdbc:trino://127.0.0.1:1",
          "lake.mariadb.host", "127.0.0.1",
          "lake.mariadb.port", "1",
          "lake.airflow.url", "http://127.0.0.1:1",
          "lake.collector.host", "127.0.0.1",
          "lake.collector.port", "1",
          "lake.preflight.timeout", "1s");

  @TempDir Path runs;

  /**
   * A command with arguments that pass its checks, the first server it needs, a bad argument, and
   * the job class spark-submit runs, if any.
   */
  private record Case(
      String command,
      List<String> arguments,
      String server,
      List<String> badArguments,
      String badArgumentMessage,
      Optional<Class<?>> main) {
    @Override
    public String toString() {
      return command;
    }

    List<String> commandLine(List<String> tail) {
      List<String> line = new ArrayList<>(Arrays.asList(command.split(" ")));
      line.addAll(tail);
      return line;
    }

    String jobName() {
      return command.replace(' ', '-');
    }
  }

  private static Case job(
      String command,
      List<String> arguments,
      String server,
      List<String> badArguments,
      String badArgumentMessage,
      Class<?> main) {
    return new Case(
        command, arguments, server, badArguments, badArgumentMessage, Optional.of(main));
  }

  private static Case command(
      String command,
      List<String> arguments,
      String server,
      List<String> badArguments,
      String badArgumentMessage) {
    return new Case(command, arguments, server, badArguments, badArgumentMessage, Optional.empty());
  }

  static Stream<Case> cases() {
    return Stream.of(
        job(
            "speed",
            List.of("--available-now"),
            "Kafka",
            List.of("--trigger", "soon"),
            "--trigger",
            SpeedJob.class),
        job(
            "cdc",
            List.of("--available-now"),
            "Kafka",
            List.of("--trigger", "soon"),
            "--trigger",
            CdcJob.class),
        command(
            "cdc resync",
            List.of("--table", "shop.customers"),
            "S3",
            List.of("--table", "customers"),
            "--table must be <database>.<table>, not customers"),
        command(
            "cdc reconcile",
            List.of("--dry-run"),
            "MariaDB",
            List.of("--ranges", "0"),
            "--ranges must be from 1 to 100000: 0"),
        command(
            "cdc sample-changes",
            List.of(),
            "MariaDB",
            List.of("--database", "a-b"),
            "--database must be letters, digits and _, not a-b"),
        job(
            "batch",
            List.of("--from", "2026-11-01", "--to", "2026-11-01"),
            "S3",
            List.of("--from", "2026-11-05", "--to", "2026-11-01"),
            "2026-11-05",
            BatchJob.class),
        job(
            "import-jdbc",
            List.of(
                "--connect",
                "jdbc:mariadb://127.0.0.1:1/shop",
                "--table",
                "t",
                "--target",
                "raw.t"),
            "S3",
            List.of(
                "--connect",
                "jdbc:mariadb://127.0.0.1:1/shop",
                "--table",
                "t",
                "--target",
                "raw.t",
                "--password",
                "s3cret"),
            "--password is not accepted",
            JdbcImportJob.class),
        job(
            "import-files",
            List.of("--format", "parquet", "--target", "raw.t", "/tmp/no-such-input"),
            "S3",
            List.of("--format", "parquet", "--target", "nozone", "/tmp/no-such-input"),
            "nozone",
            FilesImportJob.class),
        job(
            "import-mongoexport",
            List.of("--collection", "shop.orders", "/tmp/no-such-input"),
            "S3",
            List.of("--collection", "shop.orders", "--promote", "total", "/tmp/no-such-input"),
            "--promote total is not FIELD:TYPE",
            MongoExportJob.class),
        command(
            "serving init",
            List.of(),
            "Trino",
            List.of("--no-such-option"),
            "Unknown option: '--no-such-option'"),
        command(
            "verify",
            List.of("--from", "2026-11-20", "--to", "2026-11-21"),
            "Trino",
            List.of("--from", "yesterday", "--to", "2026-11-21"),
            "--from 'yesterday' is neither a date"),
        job(
            "api",
            List.of(),
            "Trino",
            List.of("--no-such-option"),
            "Unknown option: '--no-such-option'",
            ApiCommand.class),
        job(
            "spam",
            List.of("--available-now"),
            "Kafka",
            List.of("--trigger", "soon"),
            "--trigger",
            SpamJob.class),
        job(
            "match",
            List.of(),
            "S3",
            List.of("--as-of", "noon"),
            "--as-of must be an ISO-8601 instant",
            MatchJob.class),
        command(
            "backfill",
            List.of("--from", "2026-11-01", "--to", "2026-11-02"),
            "Airflow",
            List.of("--from", "2026-11-05", "--to", "2026-11-01"),
            "2026-11-05"),
        command(
            "dags status",
            List.of(),
            "Airflow",
            List.of("--runs", "many"),
            "Invalid value for option '--runs'"),
        command(
            "generate-events",
            List.of("--events", "10"),
            "Kafka",
            List.of("--events", "0"),
            "--events must be positive, but is 0"),
        command(
            "generate-sample-db",
            List.of(),
            "MariaDB",
            List.of("--until", "noon"),
            "--until must be an ISO-8601 instant"),
        command(
            "sql",
            List.of("SELECT 1"),
            "Trino",
            List.of("SELECT 1", "--format", "XML"),
            "Invalid value for option '--format'"));
  }

  /** Commands without servers to check: a bad argument only. */
  static Stream<Case> commandsWithoutPreflight() {
    return Stream.of(
        command(
            "collector",
            List.of(),
            "",
            List.of("--port", "http"),
            "Invalid value for option '--port'"),
        command("config", List.of(), "", List.of("lake.no-such-key"), "No configuration key"),
        command("stack up", List.of(), "", List.of("--fast"), "Unknown option: '--fast'"),
        command(
            "api keys create",
            List.of(),
            "",
            List.of("--merchant", "m", "--tracking-id", "not valid"),
            "--tracking-id 'not valid' must be"));
  }

  static Stream<Arguments> jobMains() {
    return cases()
        .filter(entry -> entry.main().isPresent())
        .map(entry -> Arguments.of(entry, entry.main().get()));
  }

  @ParameterizedTest(name = "lake {0}, bad argument")
  @MethodSource({"cases", "commandsWithoutPreflight"})
  void aBadArgumentExitsTwoFromLake(Case entry) throws IOException {
    Result result = lake(entry.commandLine(entry.badArguments()));

    assertFailed(result, entry, 2, entry.badArgumentMessage(), "INVALID_ARGUMENT");
  }

  @ParameterizedTest(name = "lake {0}, unreachable server")
  @MethodSource("cases")
  void anUnreachableServerExitsSeventyFiveFromLake(Case entry) throws IOException {
    Result result = lake(entry.commandLine(entry.arguments()));

    assertFailed(
        result,
        entry,
        75,
        entry.server() + " at 127.0.0.1:1 does not answer within 1 s: ",
        "SERVER_NOT_AVAILABLE");
  }

  @ParameterizedTest(name = "{1}.main, bad argument and unreachable server")
  @MethodSource("jobMains")
  void theJobsMainExitsTheSame(Case entry, Class<?> main) throws Exception {
    Result bad = main(main, entry.badArguments());
    assertFailed(bad, entry, 2, entry.badArgumentMessage(), "INVALID_ARGUMENT");

    Result unreachable = main(main, entry.arguments());
    assertFailed(
        unreachable,
        entry,
        75,
        entry.server() + " at 127.0.0.1:1 does not answer within 1 s: ",
        "SERVER_NOT_AVAILABLE");

    Result help = main(main, List.of("--help"));
    assertThat(help.exitCode()).as(help.err()).isZero();
    assertThat(help.out()).contains("Usage: " + entry.command());
  }

  /**
   * The collector and the metrics API start from their own mains with no Spark, Scala or Delta on
   * the class path, as the lake tarball's lib/collector and lib/api run them.
   */
  @Test
  void theCollectorAndTheApiRunWithoutSpark() throws Exception {
    List<String> withoutSpark =
        Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
            .filter(entry -> !entry.matches(".*/(org/apache/spark|org/scala-lang|io/delta)/.*"))
            .toList();
    assertThat(withoutSpark).hasSizeLessThan(classPath().size());
    Case collector =
        commandsWithoutPreflight()
            .filter(entry -> entry.command().equals("collector"))
            .findFirst()
            .orElseThrow();
    Case api = cases().filter(entry -> entry.command().equals("api")).findFirst().orElseThrow();

    Result badPort = main(CollectorCommand.class, collector.badArguments(), withoutSpark);
    assertFailed(badPort, collector, 2, collector.badArgumentMessage(), "INVALID_ARGUMENT");
    Result collectorHelp = main(CollectorCommand.class, List.of("--help"), withoutSpark);
    assertThat(collectorHelp.exitCode()).as(collectorHelp.err()).isZero();
    assertThat(collectorHelp.out()).contains("Usage: collector");
    Result noTrino = main(ApiCommand.class, api.arguments(), withoutSpark);
    assertFailed(
        noTrino,
        api,
        75,
        "Trino at 127.0.0.1:1 does not answer within 1 s: ",
        "SERVER_NOT_AVAILABLE");
  }

  @Test
  void everyCommandAnswersHelpWithZero() {
    List<String> commands = new ArrayList<>();
    collect(new CommandLine(new LakeCommand()), commands);
    assertThat(commands).hasSizeGreaterThan(25).contains("lake match", "lake cdc resync");

    for (String command : commands) {
      List<String> names = Arrays.asList(command.split(" "));
      List<String> arguments = new ArrayList<>(names.subList(1, names.size()));
      for (String help : List.of("--help", "-h")) {
        List<String> withHelp = new ArrayList<>(arguments);
        withHelp.add(help);
        Result result = lake(withHelp);
        assertThat(result.exitCode()).as("%s %s: %s", command, help, result.err()).isZero();
        assertThat(result.out()).as("%s %s", command, help).contains("Usage: " + command);
      }
    }
    Result helpCommand = lake(List.of("help", "match"));
    assertThat(helpCommand.exitCode()).isZero();
    assertThat(helpCommand.out()).contains("Usage: lake match");
  }

  @Test
  void lakeAloneAsksForACommand() {
    Result result = lake(List.of());

    assertThat(result.exitCode()).isEqualTo(2);
    assertThat(result.err()).startsWith("lake: choose a command: stack, sql, config,");
    assertThat(result.err().lines()).hasSize(1);
  }

  private static void collect(CommandLine commandLine, List<String> commands) {
    if (commandLine.getCommandSpec().userObject() instanceof CommandLine.HelpCommand) {
      return;
    }
    commands.add(commandLine.getCommandSpec().qualifiedName());
    commandLine.getSubcommands().values().forEach(sub -> collect(sub, commands));
  }

  private record Result(int exitCode, String out, String err, Path runs) {}

  private void assertFailed(
      Result result, Case entry, int exitCode, String message, String errorCode)
      throws IOException {
    String prefix = "lake " + entry.command() + ": ";
    assertThat(result.exitCode()).as("%s%s", result.err(), result.out()).isEqualTo(exitCode);
    assertThat(result.err().lines()).as(result.err()).singleElement().asString().startsWith(prefix);
    assertThat(result.err()).contains(message);
    String record =
        Files.readString(result.runs().resolve(entry.jobName()).resolve("latest.json"), UTF_8);
    assertThat(record)
        .contains(
            "\"job\": \"" + entry.jobName() + "\"",
            "\"status\": \"failed\"",
            "\"exit_code\": " + exitCode,
            "\"error_code\": \"" + errorCode + "\"",
            "\"message\": ",
            "\"java\": ")
        .doesNotContain("s3cret");
  }

  private Result lake(List<String> arguments) {
    Path directory = runs.resolve("lake-" + System.nanoTime());
    Map<String, String> overrides = new LinkedHashMap<>(UNREACHABLE);
    overrides.put("lake.runs.directory", directory.toString());
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int exitCode =
        new Launcher(
                Map.of(),
                overrides,
                new PrintWriter(out, true),
                new PrintWriter(err, true),
                Clock.systemUTC())
            .execute(new LakeCommand(), arguments.toArray(String[]::new));
    return new Result(exitCode, out.toString(), err.toString(), directory);
  }

  private static List<String> classPath() {
    return List.of(System.getProperty("java.class.path").split(File.pathSeparator));
  }

  /** Runs a job's main in its own JVM, as spark-submit does, so that System.exit is real. */
  private Result main(Class<?> main, List<String> arguments) throws Exception {
    return main(main, arguments, classPath());
  }

  private Result main(Class<?> main, List<String> arguments, List<String> classPath)
      throws Exception {
    Path directory = runs.resolve("main-" + System.nanoTime());
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-XX:TieredStopAtLevel=1");
    command.add("-Xshare:auto");
    command.add("-cp");
    command.add(String.join(File.pathSeparator, classPath));
    UNREACHABLE.forEach((key, value) -> command.add("-D" + key + "=" + value));
    command.add("-Dlake.runs.directory=" + directory);
    command.add(main.getName());
    command.addAll(arguments);
    ProcessBuilder builder = new ProcessBuilder(command);
    builder.environment().keySet().removeIf(name -> name.startsWith("LAKE_"));
    Path out = Files.createTempFile(runs, "out", ".txt");
    Path err = Files.createTempFile(runs, "err", ".txt");
    Process process = builder.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError(main.getName() + " " + arguments + " did not exit within 60 s");
    }
    return new Result(
        process.exitValue(), Files.readString(out, UTF_8), Files.readString(err, UTF_8), directory);
  }
}
