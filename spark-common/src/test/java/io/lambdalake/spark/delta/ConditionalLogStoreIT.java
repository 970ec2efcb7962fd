package io.lambdalake.spark.delta;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.max;
import static org.assertj.core.api.Assertions.assertThat;

import io.delta.tables.DeltaTable;
import io.lambdalake.stack.testing.JobProcesses;
import io.lambdalake.stack.testing.SharedStack;
import io.lambdalake.stack.testing.TestSpark;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Two writer processes commit to one Delta table on s3proxy at the same moment, round after round,
 * released together by a barrier: with the conditional-create log store every commit lands exactly
 * once, one table version each; with Delta's own S3 log store a commit vanishes although its writer
 * was told it succeeded.
 */
@Tag("fault")
class ConditionalLogStoreIT {
  private static final int ROUNDS = 50;
  private static final List<String> WRITERS = List.of("writer-a", "writer-b");
  private static final Duration STEP_TIMEOUT = Duration.ofMinutes(3);

  @Test
  void withConditionalCommitsEveryCommitLandsExactlyOnce() throws Exception {
    Outcome outcome = race(true);

    assertThat(outcome.missing()).as("commits missing from the table").isEmpty();
    assertThat(outcome.miscounted()).as("commits with other than their rows").isEmpty();
    assertThat(outcome.latestVersion())
        .as("one table version per commit after the table's creation")
        .isEqualTo((long) WRITERS.size() * ROUNDS);
  }

  @Test
  void withDeltasOwnS3LogStoreACommitIsLostWithoutAnError() throws Exception {
    Outcome outcome = race(false);

    // Both writers were told every commit succeeded, yet a commit overwrote another.
    assertThat(outcome.missing()).as("commits missing from the table").isNotEmpty();
    assertThat(outcome.latestVersion()).isLessThan((long) WRITERS.size() * ROUNDS);
  }

  /** What the table holds after the race. */
  private record Outcome(Set<String> missing, Set<String> miscounted, long latestVersion) {}

  private static Outcome race(boolean conditionalCommits) throws Exception {
    SparkSession spark = TestSpark.session();
    String run = UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    String table = SharedStack.config().storage().root() + "/commit-race-" + run + "/rows";
    spark.createDataFrame(List.of(), RacingWriter.SCHEMA).write().format("delta").save(table);

    Path logs = Files.createTempDirectory("commit-race-" + run + "-");
    List<Process> writers = new ArrayList<>();
    try (ServerSocket barrier = new ServerSocket(0, 2, InetAddress.getLoopbackAddress())) {
      barrier.setSoTimeout((int) STEP_TIMEOUT.toMillis());
      for (String writer : WRITERS) {
        writers.add(
            JobProcesses.start(
                RacingWriter.class,
                Map.of(
                    "lake.delta.conditional-commits",
                    Boolean.toString(conditionalCommits),
                    "lake.spark.master",
                    "local[1]"),
                List.of(
                    table,
                    writer,
                    Integer.toString(ROUNDS),
                    Integer.toString(barrier.getLocalPort())),
                logs.resolve(writer + ".log")));
      }
      List<Connection> connections = new ArrayList<>();
      for (int index = 0; index < WRITERS.size(); index++) {
        connections.add(Connection.accept(barrier, logs));
      }
      for (int round = 1; round <= ROUNDS; round++) {
        for (Connection connection : connections) {
          connection.expect("ready " + round);
        }
        // Released within microseconds of each other: both commit the same next version.
        for (Connection connection : connections) {
          connection.send("go " + round);
        }
        for (Connection connection : connections) {
          connection.expect("committed " + round);
        }
      }
      for (Connection connection : connections) {
        connection.close();
      }
      for (Process writer : writers) {
        assertThat(writer.waitFor(STEP_TIMEOUT.toSeconds(), TimeUnit.SECONDS))
            .as("writer exited; logs in %s", logs)
            .isTrue();
        assertThat(writer.exitValue()).as("writer's exit code; logs in %s", logs).isZero();
      }
    } finally {
      writers.forEach(Process::destroyForcibly);
    }
    return outcome(spark, table);
  }

  private static Outcome outcome(SparkSession spark, String table) {
    Map<String, Long> rowsPerCommit = new HashMap<>();
    for (Row commit :
        spark
            .read()
            .format("delta")
            .load(table)
            .groupBy("writer", "round")
            .agg(count("*").as("rows"))
            .collectAsList()) {
      rowsPerCommit.put(commit.getString(0) + "#" + commit.getInt(1), commit.getLong(2));
    }
    Set<String> missing = new TreeSet<>();
    for (String writer : WRITERS) {
      for (int round = 1; round <= ROUNDS; round++) {
        if (!rowsPerCommit.containsKey(writer + "#" + round)) {
          missing.add(writer + "#" + round);
        }
      }
    }
    Set<String> miscounted = new TreeSet<>();
    rowsPerCommit.forEach(
        (commit, rows) -> {
          if (rows != RacingWriter.ROWS_PER_COMMIT) {
            miscounted.add(commit + "=" + rows);
          }
        });
    long latestVersion =
        DeltaTable.forPath(spark, table).history().agg(max(col("version"))).first().getLong(0);
    return new Outcome(missing, miscounted, latestVersion);
  }

  /** The barrier's line to one writer. */
  private record Connection(Socket socket, BufferedReader in, PrintWriter out, Path logs) {
    static Connection accept(ServerSocket barrier, Path logs) throws IOException {
      Socket socket = barrier.accept();
      socket.setSoTimeout((int) STEP_TIMEOUT.toMillis());
      return new Connection(
          socket,
          new BufferedReader(new InputStreamReader(socket.getInputStream(), UTF_8)),
          new PrintWriter(socket.getOutputStream(), true, UTF_8),
          logs);
    }

    void expect(String line) throws IOException {
      assertThat(in.readLine()).as("from a writer; logs in %s", logs).isEqualTo(line);
    }

    void send(String line) {
      out.println(line);
    }

    void close() throws IOException {
      socket.close();
    }
  }
}
