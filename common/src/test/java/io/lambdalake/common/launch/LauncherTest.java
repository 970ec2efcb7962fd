package io.lambdalake.common.launch;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

class LauncherTest {
  private static final Clock CLOCK =
      Clock.fixed(Instant.parse("2026-12-06T04:00:00Z"), ZoneOffset.UTC);

  @TempDir Path runs;

  /** A job whose options say how it ends. */
  @Command(name = "fake", description = "A job for tests.")
  static final class FakeJob implements Job {
    @Option(names = "--fail-with", description = "Throw a LakeException with this code.")
    ErrorCode failWith;

    @Option(names = "--bug", description = "Throw an IllegalStateException.")
    boolean bug;

    @Option(names = "--bad-value", description = "Fails validation.")
    String badValue;

    @Option(names = "--needs", description = "A server the run needs, host:port.")
    String needs;

    @Option(names = "--password", description = "A secret.")
    String password;

    @Override
    public void validate(LakeConfig config) {
      if (badValue != null) {
        throw new IllegalArgumentException("--bad-value is bad: " + badValue);
      }
    }

    @Override
    public List<Endpoint> servers(LakeConfig config) {
      return needs == null
          ? List.of()
          : List.of(
              new Endpoint("The thing", List.of(Endpoint.Address.parse(needs)), "start the thing"));
    }

    @Override
    public void run(JobContext context) {
      context.count("rows", 42);
      if (failWith != null) {
        throw new LakeException(failWith, "it failed\nsecond line of detail");
      }
      if (bug) {
        throw new IllegalStateException("a bug");
      }
    }
  }

  private record Run(int exitCode, String out, String err) {}

  private Run run(String... arguments) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int exitCode =
        new Launcher(
                Map.of(),
                Map.of("lake.runs.directory", runs.toString()),
                new PrintWriter(out, true),
                new PrintWriter(err, true),
                CLOCK)
            .execute(new FakeJob(), arguments);
    return new Run(exitCode, out.toString(), err.toString());
  }

  private String latest() throws IOException {
    return Files.readString(runs.resolve("fake/latest.json"), UTF_8);
  }

  @Test
  void succeedsAndRecordsTheRun() throws IOException {
    Run run = run("--password", "hunter2");

    assertThat(run.exitCode()).isZero();
    assertThat(run.err()).isEmpty();
    String record = latest();
    assertThat(record)
        .contains("\"job\": \"fake\"")
        .contains("\"status\": \"succeeded\"")
        .contains("\"exit_code\": 0")
        .contains("\"error_code\": null")
        .contains("\"counts\": {\"rows\": 42}")
        .contains("\"arguments\": [\"--password\", \"****\"]")
        .contains("\"started_at\": \"2026-12-06T04:00:00Z\"")
        .contains("\"java\": ")
        .doesNotContain("hunter2");
    try (var files = Files.list(runs.resolve("fake"))) {
      assertThat(files.map(file -> file.getFileName().toString()))
          .hasSize(2)
          .contains("latest.json")
          .anyMatch(name -> name.startsWith("20261206T040000Z-"));
    }
  }

  @Test
  void answersHelpWithZero() {
    Run run = run("--help");

    assertThat(run.exitCode()).isZero();
    assertThat(run.out()).contains("Usage: fake", "--verbose", "--run-record=FILE|URL");
    assertThat(runs.resolve("fake")).doesNotExist();
  }

  @Test
  void aBadArgumentIsOneLineAndExitCodeTwo() throws IOException {
    Run run = run("--no-such-option");

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err())
        .isEqualTo("lake fake: Unknown option: '--no-such-option' (see lake fake --help)\n");
    assertThat(latest())
        .contains(
            "\"status\": \"failed\"", "\"exit_code\": 2", "\"error_code\": \"INVALID_ARGUMENT\"");

    Run invalid = run("--bad-value", "x");
    assertThat(invalid.exitCode()).isEqualTo(2);
    assertThat(invalid.err()).isEqualTo("lake fake: --bad-value is bad: x\n");
  }

  @Test
  void mapsErrorsOntoTheTable() throws IOException {
    Run quality = run("--fail-with", "QUALITY_CHECK_FAILED");
    assertThat(quality.exitCode()).isEqualTo(3);
    assertThat(quality.err()).isEqualTo("lake fake: it failed\n");
    assertThat(latest())
        .contains(
            "\"exit_code\": 3",
            "\"retryable\": false",
            "\"error_code\": \"QUALITY_CHECK_FAILED\"",
            "\"message\": \"it failed\"",
            "\"counts\": {\"rows\": 42}");

    assertThat(run("--fail-with", "STREAMING_QUERY_FAILED").exitCode()).isEqualTo(75);
    assertThat(run("--fail-with", "INVALID_CONFIGURATION").exitCode()).isEqualTo(2);

    Run bug = run("--bug");
    assertThat(bug.exitCode()).isEqualTo(70);
    assertThat(bug.err())
        .isEqualTo(
            "lake fake: internal error, java.lang.IllegalStateException: a bug (--verbose prints"
                + " the stack trace)\n");
  }

  @Test
  void printsTheStackTraceOnlyWhenVerbose() {
    Run verbose = run("--bug", "--verbose");

    assertThat(verbose.exitCode()).isEqualTo(70);
    assertThat(verbose.err())
        .startsWith("java.lang.IllegalStateException: a bug")
        .contains("\tat ")
        .endsWith(
            "lake fake: internal error, java.lang.IllegalStateException: a bug (--verbose"
                + " prints the stack trace)\n");
  }

  @Test
  void failsInSecondsWhenAServerDoesNotAnswer() throws IOException {
    Run run = run("--needs", "127.0.0.1:" + closedPort());

    assertThat(run.exitCode()).isEqualTo(75);
    assertThat(run.err())
        .matches(
            "lake fake: The thing at 127\\.0\\.0\\.1:\\d+ does not answer within 3 s: start the thing\n");
    assertThat(latest())
        .contains("\"retryable\": true", "\"error_code\": \"SERVER_NOT_AVAILABLE\"");
  }

  @Test
  void alsoWritesTheRecordWhereAskedEvenForABadCommandLine(@TempDir Path airflow)
      throws IOException {
    Path file = airflow.resolve("task/run.json");

    Run run = run("--run-record", file.toString(), "--no-such-option");

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(Files.readString(file, UTF_8)).isEqualTo(latest());
  }

  @Test
  void aRecordThatCannotBeWrittenDoesNotHideTheOutcome() throws IOException {
    Path blocked = runs.resolve("blocked");
    Files.writeString(blocked, "a file where a directory should be");

    Run run = run("--fail-with", "SERVER_NOT_AVAILABLE", "--run-record", blocked + "/run.json");

    assertThat(run.exitCode()).isEqualTo(75);
    assertThat(run.err().lines()).first().isEqualTo("lake fake: it failed");
    assertThat(run.err().lines().skip(1))
        .singleElement()
        .asString()
        .startsWith("lake fake: could not write the run record to " + blocked + "/run.json (")
        .endsWith("); the run failed with exit code 75");
    // The runs directory still has it.
    assertThat(latest()).contains("\"exit_code\": 75");
  }

  /** A cluster-mode driver's record goes to a URL the submitter reads, through its writer. */
  @Test
  void writesTheRecordToAUrlThroughTheWriterOfItsScheme() throws IOException {
    URI location = URI.create("mem://bucket/runs/fake.json");

    Run run = run("--fail-with", "QUALITY_CHECK_FAILED", "--run-record", location.toString());

    assertThat(run.exitCode()).isEqualTo(3);
    assertThat(MemoryRunRecordWriter.WRITTEN.get(location)).isEqualTo(latest());
  }

  @Test
  void refusesAUrlNothingCanWriteBeforeTheJobRuns() throws IOException {
    Run run = run("--run-record", "gs://bucket/run.json");

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err().lines())
        .containsExactly(
            "lake fake: --run-record gs://bucket/run.json: nothing here writes gs:// URLs (the"
                + " jobs jar and the Spark jobs' class path write s3a:// and s3://); give a local"
                + " file or one of those",
            "lake fake: could not write the run record to gs://bucket/run.json (IOException: no"
                + " writer for gs:// URLs); the run failed with exit code 2");
    assertThat(latest()).contains("\"error_code\": \"INVALID_ARGUMENT\"").doesNotContain("rows");
  }

  @Test
  void aUrlThatRefusesTheRecordDoesNotHideTheOutcome() throws IOException {
    Run run = run("--run-record", "mem://unwritable/run.json");

    assertThat(run.exitCode()).isZero();
    assertThat(run.err())
        .isEqualTo(
            "lake fake: could not write the run record to mem://unwritable/run.json (IOException:"
                + " Access Denied); the run succeeded with exit code 0\n");
    assertThat(latest()).contains("\"status\": \"succeeded\"");
  }

  @Test
  void aFileUrlIsALocalFile(@TempDir Path airflow) throws IOException {
    Path file = airflow.resolve("run.json");

    Run run = run("--run-record", file.toUri().toString());

    assertThat(run.exitCode()).isZero();
    assertThat(Files.readString(file, UTF_8)).isEqualTo(latest());
  }

  @Test
  void masksSecretsInArguments() {
    assertThat(
            Launcher.masked(
                List.of(
                    "--api-key=abc",
                    "--password-file",
                    "/secrets/db",
                    "--connect",
                    "jdbc:mariadb://db:3306/shop?user=u&password=p4ss",
                    "--source",
                    "https://user:p4ss@host/path",
                    "--secret-key",
                    "k")))
        .containsExactly(
            "--api-key=****",
            "--password-file",
            "/secrets/db",
            "--connect",
            "jdbc:mariadb://db:3306/shop?user=u&password=****",
            "--source",
            "https://user:****@host/path",
            "--secret-key",
            "****");
  }

  private static int closedPort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
