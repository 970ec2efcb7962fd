package io.lambdalake.common.launch;

import static java.util.Objects.requireNonNull;

import io.lambdalake.common.error.ErrorCode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * What one run of a job did, written as JSON for schedulers and status tools: a cluster's
 * spark-submit does not relay its driver's exit code, so Airflow reads this file instead.
 *
 * @param job the command, e.g. {@code cdc} or {@code cdc-resync}
 * @param runId unique per run, sortable by start time
 * @param arguments the command line, secrets masked
 * @param errorCode and {@code message}: why it failed, absent when it succeeded
 * @param counts what the job reported, e.g. {@code rows}
 * @param versions lambda-lake, Java, and Spark and Delta when on the class path
 */
public record RunRecord(
    String job,
    String runId,
    List<String> arguments,
    Instant startedAt,
    Instant endedAt,
    ExitCode exitCode,
    Optional<ErrorCode> errorCode,
    Optional<String> message,
    SortedMap<String, Long> counts,
    SortedMap<String, String> versions) {
  /** How many run records of a job its directory keeps (run IDs sort by start time). */
  public static final int KEPT_PER_JOB = 100;

  private static final String LATEST = "latest.json";

  public RunRecord {
    requireNonNull(job, "job is null");
    requireNonNull(runId, "runId is null");
    arguments = List.copyOf(arguments);
    requireNonNull(startedAt, "startedAt is null");
    requireNonNull(endedAt, "endedAt is null");
    requireNonNull(exitCode, "exitCode is null");
    requireNonNull(errorCode, "errorCode is null");
    requireNonNull(message, "message is null");
    counts = Collections.unmodifiableSortedMap(new TreeMap<>(counts));
    versions = Collections.unmodifiableSortedMap(new TreeMap<>(versions));
  }

  /** {@code succeeded} or {@code failed}. */
  public String status() {
    return exitCode == ExitCode.SUCCESS ? "succeeded" : "failed";
  }

  /** The record as one JSON object. */
  public String toJson() {
    return "{\n"
        + field("job", string(job))
        + field("run_id", string(runId))
        + field(
            "arguments",
            arguments.stream().map(RunRecord::string).collect(Collectors.joining(", ", "[", "]")))
        + field("started_at", string(startedAt.toString()))
        + field("ended_at", string(endedAt.toString()))
        + field("status", string(status()))
        + field("exit_code", Integer.toString(exitCode.code()))
        + field("retryable", Boolean.toString(exitCode.isRetryable()))
        + field("error_code", errorCode.map(code -> string(code.name())).orElse("null"))
        + field("message", message.map(RunRecord::string).orElse("null"))
        + field("counts", object(counts))
        + "  \"versions\": "
        + object(versions)
        + "\n}\n";
  }

  /**
   * Writes the record to {@code <directory>/<job>/<run-id>.json} and {@code latest.json} beside it,
   * each replaced atomically so that a reader never sees half a file, and deletes the job's oldest
   * records beyond the newest {@value #KEPT_PER_JOB}.
   */
  public void writeTo(Path runsDirectory) throws IOException {
    Path directory = runsDirectory.resolve(job);
    writeFile(directory.resolve(runId + ".json"));
    writeFile(directory.resolve(LATEST));
    pruneOldest(directory);
  }

  private static void pruneOldest(Path directory) throws IOException {
    List<Path> records;
    try (Stream<Path> files = Files.list(directory)) {
      records =
          files
              .filter(file -> file.getFileName().toString().endsWith(".json"))
              .filter(file -> !file.getFileName().toString().equals(LATEST))
              .sorted(Comparator.comparing(Path::getFileName).reversed())
              .toList();
    }
    for (Path old : records.subList(Math.min(KEPT_PER_JOB, records.size()), records.size())) {
      Files.deleteIfExists(old);
    }
  }

  /** Writes the record to this one file, replacing it atomically. */
  public void writeFile(Path file) throws IOException {
    Path absolute = file.toAbsolutePath();
    Files.createDirectories(absolute.getParent());
    Path temporary =
        Files.createTempFile(absolute.getParent(), "." + absolute.getFileName(), ".tmp");
    try {
      Files.writeString(temporary, toJson(), StandardCharsets.UTF_8);
      try {
        Files.move(
            temporary,
            absolute,
            StandardCopyOption.ATOMIC_MOVE,
            StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(temporary, absolute, StandardCopyOption.REPLACE_EXISTING);
      }
    } finally {
      Files.deleteIfExists(temporary);
    }
  }

  private static String field(String name, String json) {
    return "  " + string(name) + ": " + json + ",\n";
  }

  private static String object(Map<String, ?> values) {
    return values.entrySet().stream()
        .map(
            entry ->
                string(entry.getKey())
                    + ": "
                    + (entry.getValue() instanceof Long number
                        ? number.toString()
                        : string(String.valueOf(entry.getValue()))))
        .collect(Collectors.joining(", ", "{", "}"));
  }

  private static String string(String value) {
    StringBuilder json = new StringBuilder("\"");
    for (char character : value.toCharArray()) {
      switch (character) {
        case '"' -> json.append("\\\"");
        case '\\' -> json.append("\\\\");
        case '\n' -> json.append("\\n");
        case '\r' -> json.append("\\r");
        case '\t' -> json.append("\\t");
        default -> {
          if (character < 0x20) {
            json.append(String.format("\\u%04x", (int) character));
          } else {
            json.append(character);
          }
        }
      }
    }
    return json.append('"').toString();
  }
}
