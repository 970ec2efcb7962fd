package io.lambdalake.ingestion.landing.internal;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.kafka.common.TopicPartition;

/**
 * What one micro-batch of a landing stream landed, as recorded in the {@code userMetadata} of each
 * Delta commit it makes: the stream, the query's persistent id, the batch id and, per Kafka
 * partition, the next offset to read after the batch (the batch's end offsets from the checkpoint's
 * offset log). A table holds every record of its stream below these offsets.
 */
public record LandedBatch(
    String stream, String queryId, long batchId, Map<TopicPartition, Long> offsets) {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern COMMIT_FILE = Pattern.compile("([0-9]{20})\\.json");

  public LandedBatch {
    requireNonNull(stream, "stream is null");
    requireNonNull(queryId, "queryId is null");
    if (batchId < 0) {
      throw new IllegalArgumentException("batchId is negative: " + batchId);
    }
    offsets = Map.copyOf(offsets);
  }

  /** The JSON of the commit's userMetadata. */
  public String toJson() {
    ObjectNode root = JSON.createObjectNode();
    root.put("stream", stream);
    root.put("query_id", queryId);
    root.put("batch_id", batchId);
    ObjectNode topics = root.putObject("offsets");
    offsets.entrySet().stream()
        .sorted(
            Comparator.comparing((Map.Entry<TopicPartition, Long> e) -> e.getKey().topic())
                .thenComparingInt(e -> e.getKey().partition()))
        .forEach(
            e -> {
              JsonNode topic = topics.get(e.getKey().topic());
              ObjectNode partitions =
                  topic == null ? topics.putObject(e.getKey().topic()) : (ObjectNode) topic;
              partitions.put(Integer.toString(e.getKey().partition()), e.getValue());
            });
    try {
      return JSON.writeValueAsString(root);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a JSON tree cannot be written", e);
    }
  }

  /** The landed batch a commit's userMetadata describes, if it is one. */
  public static Optional<LandedBatch> fromJson(String userMetadata) {
    try {
      JsonNode root = JSON.readTree(userMetadata);
      if (root == null
          || !root.path("stream").isTextual()
          || !root.path("query_id").isTextual()
          || !root.path("batch_id").canConvertToLong()
          || !root.path("offsets").isObject()) {
        return Optional.empty();
      }
      Map<TopicPartition, Long> offsets = new LinkedHashMap<>();
      Iterator<Map.Entry<String, JsonNode>> topics = root.get("offsets").fields();
      while (topics.hasNext()) {
        Map.Entry<String, JsonNode> topic = topics.next();
        Iterator<Map.Entry<String, JsonNode>> partitions = topic.getValue().fields();
        while (partitions.hasNext()) {
          Map.Entry<String, JsonNode> partition = partitions.next();
          offsets.put(
              new TopicPartition(topic.getKey(), Integer.parseInt(partition.getKey())),
              partition.getValue().asLong());
        }
      }
      return Optional.of(
          new LandedBatch(
              root.get("stream").asText(),
              root.get("query_id").asText(),
              root.get("batch_id").asLong(),
              offsets));
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }

  /**
   * The newest batch of the named stream that the Delta table at the location committed, read
   * newest commit first from its {@code _delta_log} (upkeep commits in between carry none).
   */
  public static Optional<LandedBatch> newest(Configuration hadoop, String location, String stream) {
    Path log = new Path(location, "_delta_log");
    try {
      FileSystem fileSystem = log.getFileSystem(hadoop);
      if (!fileSystem.exists(log)) {
        return Optional.empty();
      }
      for (long version : commitVersionsNewestFirst(fileSystem, log)) {
        Optional<LandedBatch> landed =
            committed(fileSystem, new Path(log, String.format("%020d.json", version)))
                .filter(batch -> batch.stream().equals(stream));
        if (landed.isPresent()) {
          return landed;
        }
      }
      return Optional.empty();
    } catch (IOException e) {
      throw new LakeException(
          ErrorCode.SERVER_NOT_AVAILABLE,
          "Cannot read the Delta log at " + log + ": " + e.getMessage(),
          e);
    }
  }

  /**
   * The newest offsets the named stream's batches recorded in the table for each wanted partition,
   * read newest commit first until every wanted partition has one (or the log ends): for partitions
   * the newest batch does not name, such as the topics of a database `lake cdc --databases`
   * followed before, stopped following, and follows again.
   */
  public static Map<TopicPartition, Long> recorded(
      Configuration hadoop, String location, String stream, Set<TopicPartition> wanted) {
    Map<TopicPartition, Long> found = new HashMap<>();
    if (wanted.isEmpty()) {
      return found;
    }
    Path log = new Path(location, "_delta_log");
    try {
      FileSystem fileSystem = log.getFileSystem(hadoop);
      if (!fileSystem.exists(log)) {
        return found;
      }
      for (long version : commitVersionsNewestFirst(fileSystem, log)) {
        Optional<LandedBatch> landed =
            committed(fileSystem, new Path(log, String.format("%020d.json", version)))
                .filter(batch -> batch.stream().equals(stream));
        landed.ifPresent(
            batch ->
                batch
                    .offsets()
                    .forEach(
                        (partition, offset) -> {
                          if (wanted.contains(partition)) {
                            found.putIfAbsent(partition, offset);
                          }
                        }));
        if (found.keySet().containsAll(wanted)) {
          break;
        }
      }
      return found;
    } catch (IOException e) {
      throw new LakeException(
          ErrorCode.SERVER_NOT_AVAILABLE,
          "Cannot read the Delta log at " + log + ": " + e.getMessage(),
          e);
    }
  }

  /**
   * Whether the Delta table at the location has a commit after the one that created it (commit 0,
   * {@code DeltaTables.ensure}): it may hold rows.
   */
  public static boolean hasWrites(Configuration hadoop, String location) {
    Path log = new Path(location, "_delta_log");
    try {
      FileSystem fileSystem = log.getFileSystem(hadoop);
      if (!fileSystem.exists(log)) {
        return false;
      }
      for (FileStatus file : fileSystem.listStatus(log)) {
        Matcher commit = COMMIT_FILE.matcher(file.getPath().getName());
        if (commit.matches() && Long.parseLong(commit.group(1)) > 0) {
          return true;
        }
      }
      return false;
    } catch (IOException e) {
      throw new LakeException(
          ErrorCode.SERVER_NOT_AVAILABLE,
          "Cannot read the Delta log at " + log + ": " + e.getMessage(),
          e);
    }
  }

  /** The versions of the commit files in a Delta log, newest first. */
  private static List<Long> commitVersionsNewestFirst(FileSystem fileSystem, Path log)
      throws IOException {
    List<Long> versions = new ArrayList<>();
    for (FileStatus file : fileSystem.listStatus(log)) {
      Matcher commit = COMMIT_FILE.matcher(file.getPath().getName());
      if (commit.matches()) {
        versions.add(Long.parseLong(commit.group(1)));
      }
    }
    versions.sort(Comparator.reverseOrder());
    return versions;
  }

  /**
   * The Delta application id of every write of the batch's stream and query, the {@code txnAppId}
   * of its appends and MERGEs.
   */
  public String applicationId() {
    return applicationIdPrefix(stream) + queryId;
  }

  /** Whether a Delta application id is one of the stream's, of whichever query. */
  public static boolean isApplicationIdOf(String stream, String applicationId) {
    return applicationId.startsWith(applicationIdPrefix(stream));
  }

  private static String applicationIdPrefix(String stream) {
    return "lambda-lake-" + stream + ":";
  }

  /**
   * The batch a commit landed: its userMetadata names one, and the commit carries that batch's
   * Delta transaction (application id and batch id). A commit with the metadata but without the
   * transaction landed nothing: the CREATE TABLE of a table made inside a batch takes the session's
   * userMetadata too, and a kill between it and the append must not make the batch look held.
   */
  private static Optional<LandedBatch> committed(FileSystem fileSystem, Path commit)
      throws IOException {
    Optional<LandedBatch> described = Optional.empty();
    Map<String, Long> transactions = new HashMap<>();
    try (BufferedReader reader =
        new BufferedReader(new InputStreamReader(fileSystem.open(commit), UTF_8))) {
      String line;
      while ((line = reader.readLine()) != null) {
        if (line.startsWith("{\"commitInfo\"")) {
          JsonNode metadata = JSON.readTree(line).path("commitInfo").path("userMetadata");
          if (metadata.isTextual()) {
            described = fromJson(metadata.asText());
          }
        } else if (line.startsWith("{\"txn\"")) {
          JsonNode transaction = JSON.readTree(line).path("txn");
          transactions.put(
              transaction.path("appId").asText(), transaction.path("version").asLong());
        }
      }
    }
    return described.filter(
        batch -> Long.valueOf(batch.batchId()).equals(transactions.get(batch.applicationId())));
  }
}
