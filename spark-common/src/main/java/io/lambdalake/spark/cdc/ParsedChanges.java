package io.lambdalake.spark.cdc;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.lambdalake.common.cdc.ChangeEnvelope;
import io.lambdalake.common.cdc.SourcePosition.BinlogPosition;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Kafka records of Maxwell's topics, each read into one row: its lineage, its payload as received,
 * and either the change (envelope columns) or why it cannot be read ({@code reason}).
 */
public final class ParsedChanges {
  private ParsedChanges() {}

  public static final StructType SCHEMA =
      new StructType()
          .add("source_topic", DataTypes.StringType, false)
          .add("source_partition", DataTypes.IntegerType, false)
          .add("source_offset", DataTypes.LongType, false)
          .add("received_at", DataTypes.TimestampType)
          .add("payload", DataTypes.StringType)
          .add("payload_encoding", DataTypes.StringType)
          .add("payload_size", DataTypes.LongType)
          .add("primary_key", DataTypes.StringType)
          .add("reason", DataTypes.StringType)
          .add("message", DataTypes.StringType)
          .add("source_database", DataTypes.StringType)
          .add("source_table", DataTypes.StringType)
          .add("type", DataTypes.StringType)
          .add("op", DataTypes.StringType)
          .add("binlog_file", DataTypes.StringType)
          .add("binlog_position", DataTypes.LongType)
          .add("xoffset", DataTypes.LongType)
          .add("order_xoffset", DataTypes.LongType)
          .add("xid", DataTypes.LongType)
          .add("commit", DataTypes.BooleanType)
          .add("server_id", DataTypes.LongType)
          .add("committed_at", DataTypes.TimestampType)
          .add("data", DataTypes.StringType)
          .add("old", DataTypes.StringType)
          .add("before_json", DataTypes.StringType)
          .add("after_json", DataTypes.StringType)
          // The after image's column names, and those of them that are null: what a micro-batch
          // needs to find added columns and values that do not fit, without reading the JSON again.
          .add("after_columns", DataTypes.createArrayType(DataTypes.StringType))
          .add("after_null_columns", DataTypes.createArrayType(DataTypes.StringType));

  /** Reads rows with Kafka's columns (key, value, topic, partition, offset, timestamp). */
  public static MapPartitionsFunction<Row, Row> fromKafka() {
    return rows -> {
      List<Row> parsed = new ArrayList<>();
      while (rows.hasNext()) {
        Row record = rows.next();
        parsed.add(
            parse(
                record.getAs("key"),
                record.getAs("value"),
                record.getAs("topic"),
                record.<Integer>getAs("partition"),
                record.<Long>getAs("offset"),
                record.getAs("timestamp")));
      }
      return parsed.iterator();
    };
  }

  /** Reads rows of raw.mysql_changes back into changes, for a resync. */
  public static MapPartitionsFunction<Row, Row> fromRawLog() {
    return rows -> {
      List<Row> parsed = new ArrayList<>();
      while (rows.hasNext()) {
        Row raw = rows.next();
        ObjectNode json = MaxwellChange.JSON.createObjectNode();
        json.put("database", raw.<String>getAs("source_database"));
        json.put("table", raw.<String>getAs("source_table"));
        json.put("type", raw.<String>getAs("type"));
        Timestamp committed = raw.getAs("committed_at");
        if (committed != null) {
          json.put("ts", committed.getTime() / 1000);
        }
        putLong(json, "xid", raw.getAs("xid"));
        putLong(json, "xoffset", raw.getAs("xoffset"));
        if (raw.getAs("binlog_file") != null) {
          json.put(
              "position",
              raw.<String>getAs("binlog_file") + ":" + raw.<Long>getAs("binlog_position"));
        }
        putObject(json, "data", raw.getAs("data"));
        putObject(json, "old", raw.getAs("old"));
        String key = raw.getAs("primary_key");
        parsed.add(
            parse(
                key == null ? null : key.getBytes(StandardCharsets.UTF_8),
                MaxwellChange.write(json).getBytes(StandardCharsets.UTF_8),
                raw.getAs("source_topic"),
                raw.<Integer>getAs("source_partition"),
                raw.<Long>getAs("source_offset"),
                raw.getAs("received_at")));
      }
      return parsed.iterator();
    };
  }

  private static void putLong(ObjectNode json, String field, Long value) {
    if (value != null) {
      json.put(field, value);
    }
  }

  private static void putObject(ObjectNode json, String field, String value)
      throws JsonProcessingException {
    if (value != null) {
      json.set(field, MaxwellChange.JSON.readTree(value));
    }
  }

  static Row parse(
      byte[] key, byte[] value, String topic, int partition, long offset, Timestamp timestamp) {
    Optional<String> text = value == null ? Optional.empty() : utf8(value);
    String payload =
        value == null ? null : text.orElseGet(() -> Base64.getEncoder().encodeToString(value));
    String encoding = value == null ? null : text.isPresent() ? "utf-8" : "base64";
    Long size = value == null ? null : (long) value.length;
    String keyText = key == null ? null : utf8(key).orElse(null);
    if (text.isEmpty()) {
      return RowFactory.create(
          topic,
          partition,
          offset,
          timestamp,
          payload,
          encoding,
          size,
          keyText,
          MaxwellChange.MALFORMED_JSON,
          value == null ? "the record has no value" : "the record is not UTF-8 text",
          null,
          null,
          null,
          null,
          null,
          null,
          null,
          null,
          null,
          null,
          null,
          null,
          null,
          null,
          null,
          null,
          null,
          null);
    }
    MaxwellChange change;
    try {
      change = MaxwellChange.parse(text.get());
    } catch (MaxwellChange.Unreadable e) {
      return RowFactory.create(
          topic,
          partition,
          offset,
          timestamp,
          payload,
          encoding,
          size,
          keyText,
          e.reason(),
          e.getMessage(),
          null,
          null,
          null,
          null,
          null,
          null,
          null,
          null,
          null,
          null,
          null,
          null,
          null,
          null,
          null,
          null,
          null,
          null);
    }
    Optional<BinlogPosition> position = change.position();
    Optional<ChangeEnvelope> envelope = change.envelope();
    boolean afterImage = envelope.flatMap(ChangeEnvelope::after).isPresent();
    return RowFactory.create(
        topic,
        partition,
        offset,
        timestamp,
        payload,
        encoding,
        size,
        keyText,
        null,
        null,
        change.source().database(),
        change.source().table(),
        change.type(),
        envelope.map(e -> e.operation().code()).orElse(null),
        position.map(BinlogPosition::file).orElse(null),
        position.map(BinlogPosition::position).orElse(null),
        change.xoffset().orElse(null),
        position.map(BinlogPosition::xoffset).orElse(null),
        change.xid().orElse(null),
        change.commit(),
        change.serverId().orElse(null),
        change.committedAt().map(Timestamp::from).orElse(null),
        change.data().orElse(null),
        change.old().orElse(null),
        envelope.flatMap(ChangeEnvelope::before).map(ChangeEnvelope.Image::json).orElse(null),
        envelope.flatMap(ChangeEnvelope::after).map(ChangeEnvelope.Image::json).orElse(null),
        afterImage ? change.dataColumns().toArray(String[]::new) : null,
        afterImage ? change.nullDataColumns().toArray(String[]::new) : null);
  }

  public static Optional<String> utf8(byte[] bytes) {
    try {
      return Optional.of(
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(bytes))
              .toString());
    } catch (CharacterCodingException e) {
      return Optional.empty();
    }
  }
}
