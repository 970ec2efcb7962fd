package io.lambdalake.spark.cdc;

import io.lambdalake.common.cdc.SourcePosition.ClusterTime;
import java.nio.charset.StandardCharsets;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import scala.jdk.javaapi.CollectionConverters;

/** Kafka records of the MongoDB connector's topics, each read into one row (or a reason). */
public final class MongoParsedChanges {
  private MongoParsedChanges() {}

  public static final StructType SCHEMA =
      new StructType()
          .add("source_topic", DataTypes.StringType, false)
          .add("source_partition", DataTypes.IntegerType, false)
          .add("source_offset", DataTypes.LongType, false)
          .add("received_at", DataTypes.TimestampType)
          .add("payload", DataTypes.StringType)
          .add("payload_encoding", DataTypes.StringType)
          .add("payload_size", DataTypes.LongType)
          .add("reason", DataTypes.StringType)
          .add("message", DataTypes.StringType)
          .add("source_database", DataTypes.StringType)
          .add("source_collection", DataTypes.StringType)
          .add("operation_type", DataTypes.StringType)
          .add("op", DataTypes.StringType)
          .add("cluster_time_seconds", DataTypes.LongType)
          .add("cluster_time_increment", DataTypes.LongType)
          .add("resume_token", DataTypes.StringType)
          .add("document_key", DataTypes.StringType)
          .add("full_document", DataTypes.StringType)
          .add("update_description", DataTypes.StringType)
          .add("committed_at", DataTypes.TimestampType)
          .add("event", DataTypes.StringType)
          .add("promoted", DataTypes.createMapType(DataTypes.StringType, DataTypes.StringType));

  /**
   * @param promote per collection ({@code <database>.<collection>}), the fields to promote
   */
  public static MapPartitionsFunction<Row, Row> fromKafka(
      String topicPrefix, Map<String, List<String>> promote) {
    return rows -> {
      List<Row> parsed = new ArrayList<>();
      while (rows.hasNext()) {
        Row record = rows.next();
        byte[] value = record.getAs("value");
        byte[] key = record.getAs("key");
        String topic = record.getAs("topic");
        int partition = record.<Integer>getAs("partition");
        long offset = record.<Long>getAs("offset");
        Timestamp timestamp = record.getAs("timestamp");
        Optional<String> text = value == null ? Optional.empty() : ParsedChanges.utf8(value);
        String payload =
            value == null ? null : text.orElseGet(() -> Base64.getEncoder().encodeToString(value));
        String encoding = value == null ? null : text.isPresent() ? "utf-8" : "base64";
        Long size = value == null ? null : (long) value.length;
        if (text.isEmpty()) {
          parsed.add(
              failed(
                  topic,
                  partition,
                  offset,
                  timestamp,
                  payload,
                  encoding,
                  size,
                  MaxwellChange.MALFORMED_JSON,
                  "the record is not UTF-8 text"));
          continue;
        }
        MongoChange change;
        try {
          Optional<String> keyText = key == null ? Optional.empty() : ParsedChanges.utf8(key);
          change = MongoChange.parse(text.get(), keyText, topic, topicPrefix, promote);
        } catch (MaxwellChange.Unreadable e) {
          parsed.add(
              failed(
                  topic,
                  partition,
                  offset,
                  timestamp,
                  payload,
                  encoding,
                  size,
                  e.reason(),
                  e.getMessage()));
          continue;
        }
        Optional<ClusterTime> time = change.clusterTime();
        parsed.add(
            RowFactory.create(
                topic,
                partition,
                offset,
                timestamp,
                payload,
                encoding,
                size,
                null,
                null,
                change.source().database(),
                change.source().table(),
                change.operationType(),
                change.envelope().map(e -> e.operation().code()).orElse(null),
                time.map(ClusterTime::seconds).orElse(null),
                time.map(ClusterTime::increment).orElse(null),
                time.map(ClusterTime::resumeToken).orElse(null),
                change.documentKey().orElse(null),
                change.fullDocument().orElse(null),
                change.updateDescription().orElse(null),
                change.committedAt().map(Timestamp::from).orElse(null),
                change.event(),
                CollectionConverters.asScala(new HashMap<>(change.promoted()))));
      }
      return parsed.iterator();
    };
  }

  private static Row failed(
      String topic,
      int partition,
      long offset,
      Timestamp timestamp,
      String payload,
      String encoding,
      Long size,
      String reason,
      String message) {
    return RowFactory.create(
        topic, partition, offset, timestamp, payload, encoding, size, reason, message, null, null,
        null, null, null, null, null, null, null, null, null, null, null);
  }

  static String decode(byte[] bytes) {
    return new String(bytes, StandardCharsets.UTF_8);
  }
}
