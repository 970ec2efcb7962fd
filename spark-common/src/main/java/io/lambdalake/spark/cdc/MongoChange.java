package io.lambdalake.spark.cdc;

import static java.util.Objects.requireNonNull;

import io.lambdalake.common.cdc.ChangeEnvelope;
import io.lambdalake.common.cdc.ChangeEnvelope.Image;
import io.lambdalake.common.cdc.ChangeEnvelope.SourceName;
import io.lambdalake.common.cdc.ChangeOperation;
import io.lambdalake.common.cdc.SourcePosition.ClusterTime;
import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.bson.BsonDocument;
import org.bson.BsonInvalidOperationException;
import org.bson.BsonValue;
import org.bson.json.JsonMode;
import org.bson.json.JsonParseException;
import org.bson.json.JsonWriterSettings;

/**
 * One change event as MongoDB's Kafka source connector writes it (the change stream event as
 * Extended JSON: operationType, ns, documentKey, fullDocument, updateDescription, clusterTime, the
 * resume token as {@code _id}), read with MongoDB's own BSON library so that ObjectIds, dates,
 * NumberLong and Decimal128 keep their meaning.
 *
 * @param envelope the change, for insert, update, replace and delete; empty for the stream's other
 *     events (drop, rename, dropDatabase, invalidate), which only the raw log keeps
 * @param documentKey the document's {@code _id} as relaxed Extended JSON, e.g. {@code {"$oid":
 *     "..."}} or {@code "sku-1"}
 * @param promoted the configured top-level fields of the full document, as text
 */
public record MongoChange(
    SourceName source,
    String operationType,
    Optional<ChangeEnvelope> envelope,
    Optional<String> documentKey,
    Optional<String> fullDocument,
    Optional<String> updateDescription,
    Optional<ClusterTime> clusterTime,
    Optional<Instant> committedAt,
    String event,
    Map<String, String> promoted) {

  static final JsonWriterSettings RELAXED =
      JsonWriterSettings.builder().outputMode(JsonMode.RELAXED).build();

  public static final String NO_FULL_DOCUMENT = "no_full_document";

  public MongoChange {
    requireNonNull(source, "source is null");
    requireNonNull(operationType, "operationType is null");
    requireNonNull(envelope, "envelope is null");
    requireNonNull(documentKey, "documentKey is null");
    requireNonNull(fullDocument, "fullDocument is null");
    requireNonNull(updateDescription, "updateDescription is null");
    requireNonNull(clusterTime, "clusterTime is null");
    requireNonNull(committedAt, "committedAt is null");
    requireNonNull(event, "event is null");
    promoted = Collections.unmodifiableMap(new LinkedHashMap<>(promoted));
  }

  /**
   * Reads one Kafka record: its value (the event; also accepted double-encoded as a JSON string, or
   * inside a JsonConverter {@code payload}), its key (the resume token, when the value has none)
   * and its topic ({@code <prefix><database>.<collection>}, when the event has no ns).
   */
  public static MongoChange parse(
      String value,
      Optional<String> key,
      String topic,
      String topicPrefix,
      Map<String, List<String>> promote)
      throws MaxwellChange.Unreadable {
    BsonDocument event = document(value);
    if (event.containsKey("payload") && event.containsKey("schema")) {
      BsonValue payload = event.get("payload");
      event = payload.isString() ? document(payload.asString().getValue()) : payload.asDocument();
    }
    String operationType = string(event, "operationType");
    SourceName source = source(event, topic, topicPrefix);
    Optional<String> resumeToken = resumeToken(event.get("_id"));
    if (resumeToken.isEmpty() && key.isPresent()) {
      try {
        resumeToken = resumeToken(BsonDocument.parse(key.get()).get("_id"));
      } catch (RuntimeException e) {
        resumeToken = Optional.empty();
      }
    }
    Optional<ClusterTime> clusterTime = Optional.empty();
    BsonValue time = event.get("clusterTime");
    if (time != null && time.isTimestamp()) {
      clusterTime =
          Optional.of(
              new ClusterTime(
                  Integer.toUnsignedLong(time.asTimestamp().getTime()),
                  Integer.toUnsignedLong(time.asTimestamp().getInc()),
                  resumeToken.orElse("")));
    }
    Optional<Instant> committedAt =
        event.isDateTime("wallTime")
            ? Optional.of(Instant.ofEpochMilli(event.getDateTime("wallTime").getValue()))
            : clusterTime.map(t -> Instant.ofEpochSecond(t.seconds()));
    Optional<BsonValue> id =
        event.isDocument("documentKey")
            ? Optional.ofNullable(event.getDocument("documentKey").get("_id"))
            : Optional.empty();
    Optional<String> documentKey = id.map(MongoChange::relaxed);
    Optional<BsonDocument> full =
        event.isDocument("fullDocument")
            ? Optional.of(event.getDocument("fullDocument"))
            : Optional.empty();
    Optional<String> fullDocument = full.map(d -> d.toJson(RELAXED));
    Optional<String> updateDescription =
        event.isDocument("updateDescription")
            ? Optional.of(event.getDocument("updateDescription").toJson(RELAXED))
            : Optional.empty();
    Optional<ChangeOperation> operation =
        switch (operationType) {
          case "insert" -> Optional.of(ChangeOperation.CREATE);
          case "update", "replace" -> Optional.of(ChangeOperation.UPDATE);
          case "delete" -> Optional.of(ChangeOperation.DELETE);
          default -> Optional.empty();
        };
    Optional<ChangeEnvelope> envelope = Optional.empty();
    if (operation.isPresent()) {
      if (documentKey.isEmpty()) {
        throw new MaxwellChange.Unreadable(
            MaxwellChange.MISSING_FIELD, "documentKey._id is missing");
      }
      if (clusterTime.isEmpty()) {
        throw new MaxwellChange.Unreadable(MaxwellChange.MISSING_FIELD, "clusterTime is missing");
      }
      if (operation.get() != ChangeOperation.DELETE && fullDocument.isEmpty()) {
        throw new MaxwellChange.Unreadable(
            NO_FULL_DOCUMENT,
            operationType
                + " without fullDocument: run the connector with"
                + " change.stream.full.document=updateLookup (a document deleted right after its"
                + " update also has none; its delete follows)");
      }
      Image keyImage = new Image(new BsonDocument("_id", id.get()).toJson(RELAXED));
      envelope =
          Optional.of(
              new ChangeEnvelope(
                  operation.get(),
                  source,
                  operation.get() == ChangeOperation.CREATE
                      ? Optional.empty()
                      : Optional.of(keyImage),
                  fullDocument.map(Image::new),
                  clusterTime.get(),
                  committedAt.orElse(Instant.EPOCH)));
    }
    Map<String, String> promoted = new LinkedHashMap<>();
    if (full.isPresent()) {
      for (String field : promote.getOrDefault(source.qualifiedName(), List.of())) {
        BsonValue fieldValue = full.get().get(field);
        if (fieldValue != null && !fieldValue.isNull()) {
          promoted.put(field, text(fieldValue));
        }
      }
    }
    return new MongoChange(
        source,
        operationType,
        envelope,
        documentKey,
        fullDocument,
        updateDescription,
        clusterTime,
        committedAt,
        event.toJson(RELAXED),
        promoted);
  }

  private static BsonDocument document(String json) throws MaxwellChange.Unreadable {
    String text = json.strip();
    try {
      if (text.startsWith("\"")) {
        // A JSON string holding the event (StringConverter over a JSON-formatted value).
        text = BsonDocument.parse("{\"v\": " + text + "}").getString("v").getValue();
      }
      return BsonDocument.parse(text);
    } catch (JsonParseException | BsonInvalidOperationException e) {
      throw new MaxwellChange.Unreadable(
          MaxwellChange.MALFORMED_JSON, "not an Extended JSON document: " + e.getMessage());
    } catch (RuntimeException e) {
      throw new MaxwellChange.Unreadable(
          MaxwellChange.MALFORMED_JSON, "not an Extended JSON document: " + e);
    }
  }

  private static String string(BsonDocument event, String field) throws MaxwellChange.Unreadable {
    BsonValue value = event.get(field);
    if (value == null || value.isNull()) {
      throw new MaxwellChange.Unreadable(MaxwellChange.MISSING_FIELD, field + " is missing");
    }
    if (!value.isString() || value.asString().getValue().isBlank()) {
      throw new MaxwellChange.Unreadable(
          MaxwellChange.INVALID_FIELD, field + " is not a non-empty string");
    }
    return value.asString().getValue();
  }

  private static SourceName source(BsonDocument event, String topic, String topicPrefix)
      throws MaxwellChange.Unreadable {
    if (event.isDocument("ns")) {
      BsonDocument ns = event.getDocument("ns");
      if (ns.isString("db") && ns.isString("coll")) {
        return new SourceName(ns.getString("db").getValue(), ns.getString("coll").getValue());
      }
    }
    if (topic.startsWith(topicPrefix)) {
      String rest = topic.substring(topicPrefix.length());
      int dot = rest.indexOf('.');
      if (dot > 0 && dot < rest.length() - 1) {
        return new SourceName(rest.substring(0, dot), rest.substring(dot + 1));
      }
    }
    throw new MaxwellChange.Unreadable(
        MaxwellChange.MISSING_FIELD, "ns is missing and the topic names no collection");
  }

  private static Optional<String> resumeToken(BsonValue id) {
    if (id == null) {
      return Optional.empty();
    }
    if (id.isDocument() && id.asDocument().isString("_data")) {
      return Optional.of(id.asDocument().getString("_data").getValue());
    }
    return Optional.of(relaxed(id));
  }

  /** A single value as relaxed Extended JSON. */
  static String relaxed(BsonValue value) {
    String wrapped = new BsonDocument("v", value).toJson(RELAXED);
    // {"v": <value>}
    return wrapped.substring(wrapped.indexOf(':') + 1, wrapped.length() - 1).strip();
  }

  /** A promoted field's value as text a Spark cast reads: numbers plain, dates ISO-8601 UTC. */
  static String text(BsonValue value) {
    return switch (value.getBsonType()) {
      case STRING -> value.asString().getValue();
      case INT32 -> Integer.toString(value.asInt32().getValue());
      case INT64 -> Long.toString(value.asInt64().getValue());
      case DOUBLE -> Double.toString(value.asDouble().getValue());
      case DECIMAL128 -> value.asDecimal128().getValue().bigDecimalValue().toPlainString();
      case DATE_TIME -> Instant.ofEpochMilli(value.asDateTime().getValue()).toString();
      case BOOLEAN -> Boolean.toString(value.asBoolean().getValue());
      case OBJECT_ID -> value.asObjectId().getValue().toHexString();
      default -> relaxed(value);
    };
  }
}
