package io.lambdalake.spark.cdc;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.lambdalake.common.cdc.ChangeEnvelope;
import io.lambdalake.common.cdc.ChangeEnvelope.Image;
import io.lambdalake.common.cdc.ChangeEnvelope.SourceName;
import io.lambdalake.common.cdc.ChangeOperation;
import io.lambdalake.common.cdc.SourcePosition.BinlogPosition;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One record of Maxwell's JSON (its documented format: database, table, type, ts, xid, xoffset,
 * commit, position, server_id, data, old), read exactly: numbers keep every digit.
 *
 * @param envelope the change, for row events (insert, update, delete, bootstrap-insert); empty for
 *     Maxwell's other records (bootstrap-start, bootstrap-complete), which only the raw log keeps
 * @param dataColumns the names in {@code data}, in its order
 * @param nullDataColumns the names in {@code data} whose value is JSON null
 */
public record MaxwellChange(
    SourceName source,
    String type,
    Optional<ChangeEnvelope> envelope,
    Optional<Long> xid,
    Optional<Long> xoffset,
    boolean commit,
    Optional<Long> serverId,
    Optional<BinlogPosition> position,
    Optional<Instant> committedAt,
    Optional<String> data,
    Optional<String> old,
    List<String> dataColumns,
    List<String> nullDataColumns) {

  public static final ObjectMapper JSON =
      JsonMapper.builder()
          .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
          .enable(DeserializationFeature.USE_BIG_INTEGER_FOR_INTS)
          .enable(JsonGenerator.Feature.WRITE_BIGDECIMAL_AS_PLAIN)
          .disable(SerializationFeature.INDENT_OUTPUT)
          .build();

  public MaxwellChange {
    requireNonNull(source, "source is null");
    requireNonNull(type, "type is null");
    requireNonNull(envelope, "envelope is null");
    requireNonNull(xid, "xid is null");
    requireNonNull(xoffset, "xoffset is null");
    requireNonNull(serverId, "serverId is null");
    requireNonNull(position, "position is null");
    requireNonNull(committedAt, "committedAt is null");
    requireNonNull(data, "data is null");
    requireNonNull(old, "old is null");
    dataColumns = List.copyOf(dataColumns);
    nullDataColumns = List.copyOf(nullDataColumns);
  }

  /** Why a record cannot be read as a Maxwell change: a stable reason code and a message. */
  public static final class Unreadable extends Exception {
    private final String reason;

    public Unreadable(String reason, String message) {
      super(message);
      this.reason = reason;
    }

    public String reason() {
      return reason;
    }
  }

  public static final String MALFORMED_JSON = "malformed_json";
  public static final String MISSING_FIELD = "missing_field";
  public static final String INVALID_FIELD = "invalid_field";
  public static final String UNSUPPORTED_TYPE = "unsupported_change_type";

  /** Reads one Kafka record's value. */
  public static MaxwellChange parse(String json) throws Unreadable {
    JsonNode root;
    try {
      root = JSON.readTree(json);
    } catch (JsonProcessingException e) {
      throw new Unreadable(MALFORMED_JSON, "not JSON: " + e.getOriginalMessage());
    }
    if (root == null || !root.isObject()) {
      throw new Unreadable(MALFORMED_JSON, "the record is not a JSON object");
    }
    String database = text(root, "database");
    String table = text(root, "table");
    String type = text(root, "type");
    SourceName source = new SourceName(database, table);
    Optional<String> data = object(root, "data");
    Optional<String> old = object(root, "old");
    Optional<Long> xoffset = number(root, "xoffset");
    Optional<BinlogPosition> position = Optional.empty();
    if (root.hasNonNull("position")) {
      try {
        position =
            Optional.of(
                BinlogPosition.parse(
                    root.get("position").asText(),
                    xoffset.orElse(BinlogPosition.LAST_IN_TRANSACTION)));
      } catch (IllegalArgumentException e) {
        throw new Unreadable(INVALID_FIELD, "position: " + e.getMessage());
      }
    }
    Optional<Instant> committedAt = number(root, "ts").map(Instant::ofEpochSecond);
    Optional<ChangeOperation> operation =
        switch (type) {
          case "insert" -> Optional.of(ChangeOperation.CREATE);
          case "update" -> Optional.of(ChangeOperation.UPDATE);
          case "delete" -> Optional.of(ChangeOperation.DELETE);
          case "bootstrap-insert" -> Optional.of(ChangeOperation.READ);
          // Published by the DDL relay (lake cdc-ddl-relay) into the table's own topic.
          case "table-truncate" -> Optional.of(ChangeOperation.TRUNCATE);
          case "table-drop" -> Optional.of(ChangeOperation.DROP);
          case "bootstrap-start",
              "bootstrap-complete",
              "table-create",
              "table-alter",
              "table-rename" ->
              Optional.empty();
          default ->
              throw new Unreadable(
                  UNSUPPORTED_TYPE, "type " + type + " is not a Maxwell row event");
        };
    Optional<ChangeEnvelope> envelope = Optional.empty();
    if (operation.isPresent()) {
      if (position.isEmpty()) {
        throw new Unreadable(MISSING_FIELD, "position is missing");
      }
      Optional<Image> after = data.map(Image::new);
      Optional<Image> before =
          switch (operation.get()) {
            case CREATE, READ, TRUNCATE, DROP -> Optional.empty();
            case UPDATE ->
                after.map(a -> new Image(beforeImage(root.get("data"), root.get("old"))));
            case DELETE -> after;
          };
      boolean rowChange =
          switch (operation.get()) {
            case CREATE, READ, UPDATE, DELETE -> true;
            case TRUNCATE, DROP -> false;
          };
      if (rowChange && data.isEmpty()) {
        throw new Unreadable(MISSING_FIELD, "data is missing");
      }
      envelope =
          Optional.of(
              new ChangeEnvelope(
                  operation.get(),
                  source,
                  before,
                  rowChange && operation.get() != ChangeOperation.DELETE ? after : Optional.empty(),
                  position.get(),
                  committedAt.orElse(Instant.EPOCH)));
    }
    List<String> dataColumns = new ArrayList<>();
    List<String> nullDataColumns = new ArrayList<>();
    JsonNode dataNode = root.get("data");
    if (dataNode != null && dataNode.isObject()) {
      Iterator<Map.Entry<String, JsonNode>> fields = dataNode.fields();
      while (fields.hasNext()) {
        Map.Entry<String, JsonNode> field = fields.next();
        dataColumns.add(field.getKey());
        if (field.getValue().isNull()) {
          nullDataColumns.add(field.getKey());
        }
      }
    }
    return new MaxwellChange(
        source,
        type,
        envelope,
        number(root, "xid"),
        xoffset,
        root.path("commit").asBoolean(false),
        number(root, "server_id"),
        position,
        committedAt,
        data,
        old,
        dataColumns,
        nullDataColumns);
  }

  /** Maxwell's update: data is the row after; old holds the previous values of what changed. */
  static String beforeImage(JsonNode data, JsonNode old) {
    ObjectNode before = ((ObjectNode) data).deepCopy();
    if (old != null && old.isObject()) {
      Iterator<Map.Entry<String, JsonNode>> fields = old.fields();
      while (fields.hasNext()) {
        Map.Entry<String, JsonNode> field = fields.next();
        before.set(field.getKey(), field.getValue());
      }
    }
    return write(before);
  }

  private static String text(JsonNode root, String field) throws Unreadable {
    JsonNode node = root.get(field);
    if (node == null || node.isNull()) {
      throw new Unreadable(MISSING_FIELD, field + " is missing");
    }
    if (!node.isTextual() || node.asText().isBlank()) {
      throw new Unreadable(INVALID_FIELD, field + " is not a non-empty string");
    }
    return node.asText();
  }

  private static Optional<String> object(JsonNode root, String field) throws Unreadable {
    JsonNode node = root.get(field);
    if (node == null || node.isNull()) {
      return Optional.empty();
    }
    if (!node.isObject()) {
      throw new Unreadable(INVALID_FIELD, field + " is not a JSON object");
    }
    return Optional.of(write(node));
  }

  private static Optional<Long> number(JsonNode root, String field) throws Unreadable {
    JsonNode node = root.get(field);
    if (node == null || node.isNull()) {
      return Optional.empty();
    }
    if (!node.isIntegralNumber() || !node.canConvertToLong()) {
      throw new Unreadable(INVALID_FIELD, field + " is not an integer");
    }
    return Optional.of(node.asLong());
  }

  public static String write(JsonNode node) {
    try {
      return JSON.writeValueAsString(node);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a parsed JSON tree cannot be written back", e);
    }
  }
}
