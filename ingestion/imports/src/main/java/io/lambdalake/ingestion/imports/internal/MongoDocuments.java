package io.lambdalake.ingestion.imports.internal;

import static java.util.Objects.requireNonNull;

import java.io.Serializable;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.sql.Date;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.DecimalType;
import org.apache.spark.sql.types.StructType;
import org.bson.BsonDocument;
import org.bson.BsonInvalidOperationException;
import org.bson.BsonValue;
import org.bson.json.JsonMode;
import org.bson.json.JsonParseException;
import org.bson.json.JsonWriterSettings;

/**
 * mongoexport records (relaxed or canonical Extended JSON, one document each) parsed with MongoDB's
 * own BSON library: the document is kept as canonical Extended JSON, so ObjectId, dates, NumberLong
 * and Decimal128 keep their types, and the configured top-level fields become typed columns.
 */
public final class MongoDocuments {
  private static final JsonWriterSettings CANONICAL =
      JsonWriterSettings.builder().outputMode(JsonMode.EXTENDED).build();
  private static final JsonWriterSettings RELAXED =
      JsonWriterSettings.builder().outputMode(JsonMode.RELAXED).build();

  private MongoDocuments() {}

  /** A top-level field promoted to a column of the given Spark type. */
  public record Promoted(String field, DataType type) implements Serializable {
    public Promoted {
      requireNonNull(field, "field is null");
      requireNonNull(type, "type is null");
    }

    /** The column: the field's name, with characters Delta refuses in names replaced. */
    public String column() {
      return field.replaceAll("[ ,;{}()\\n\\t=.$]", "_");
    }
  }

  /**
   * The rows: document_id, document, the promoted columns, then file, line, text, reason, field,
   * message.
   */
  public static StructType schema(List<Promoted> promoted) {
    StructType schema =
        new StructType()
            .add("document_id", DataTypes.StringType, true)
            .add("document", DataTypes.StringType, true);
    for (Promoted field : promoted) {
      schema = schema.add(field.column(), field.type(), true);
    }
    return schema
        .add("file", DataTypes.StringType, false)
        .add("line", DataTypes.LongType, false)
        .add("text", DataTypes.StringType, false)
        .add("reason", DataTypes.StringType, true)
        .add("field", DataTypes.StringType, true)
        .add("message", DataTypes.StringType, true);
  }

  /** Parses records (file, line, text) into rows of {@link #schema}; blank lines carry nothing. */
  public static MapPartitionsFunction<Row, Row> parser(List<Promoted> promoted) {
    List<Promoted> fields = List.copyOf(promoted);
    return records ->
        new Iterator<>() {
          private Row next;

          @Override
          public boolean hasNext() {
            while (next == null && records.hasNext()) {
              Row record = records.next();
              String text = record.getString(2);
              if (!text.isBlank()) {
                next = parse(record.getString(0), record.getLong(1), text, fields);
              }
            }
            return next != null;
          }

          @Override
          public Row next() {
            if (!hasNext()) {
              throw new NoSuchElementException();
            }
            Row row = next;
            next = null;
            return row;
          }
        };
  }

  static Row parse(String file, long line, String text, List<Promoted> promoted) {
    int width = 2 + promoted.size() + 6;
    Object[] values = new Object[width];
    int base = 2 + promoted.size();
    values[base] = file;
    values[base + 1] = line;
    values[base + 2] = text;
    BsonDocument document;
    try {
      document = BsonDocument.parse(text);
    } catch (JsonParseException | BsonInvalidOperationException | IllegalArgumentException e) {
      values[base + 3] = "malformed_json";
      values[base + 5] = "line " + line + ": not an Extended JSON document: " + e.getMessage();
      return RowFactory.create(values);
    }
    values[0] = document.containsKey("_id") ? documentId(document.get("_id")) : null;
    values[1] = document.toJson(CANONICAL);
    for (int index = 0; index < promoted.size(); index++) {
      Promoted field = promoted.get(index);
      BsonValue value = document.get(field.field());
      try {
        values[2 + index] = value == null || value.isNull() ? null : convert(value, field.type());
      } catch (IllegalArgumentException | ArithmeticException e) {
        values[0] = null;
        values[1] = null;
        for (int other = 0; other < promoted.size(); other++) {
          values[2 + other] = null;
        }
        values[base + 3] = "invalid_field";
        values[base + 4] = field.field();
        values[base + 5] =
            "line "
                + line
                + ": field "
                + field.field()
                + " is not "
                + field.type().sql()
                + ": "
                + e.getMessage();
        return RowFactory.create(values);
      }
    }
    return RowFactory.create(values);
  }

  private static String documentId(BsonValue id) {
    if (id.isObjectId()) {
      return id.asObjectId().getValue().toHexString();
    }
    if (id.isString()) {
      return id.asString().getValue();
    }
    return new BsonDocument("_id", id).toJson(CANONICAL);
  }

  /** One BSON value as the column type, or IllegalArgumentException saying why not. */
  static Object convert(BsonValue value, DataType type) {
    if (type.equals(DataTypes.StringType)) {
      return switch (value.getBsonType()) {
        case STRING -> value.asString().getValue();
        case OBJECT_ID -> value.asObjectId().getValue().toHexString();
        case SYMBOL -> value.asSymbol().getSymbol();
        default -> {
          // Anything else keeps its meaning as relaxed Extended JSON of the value.
          String json = new BsonDocument("v", value).toJson(RELAXED);
          yield json.substring(json.indexOf(':') + 1, json.length() - 1).strip();
        }
      };
    }
    if (type.equals(DataTypes.LongType)) {
      return exactDecimal(value).longValueExact();
    }
    if (type.equals(DataTypes.IntegerType)) {
      return exactDecimal(value).intValueExact();
    }
    if (type.equals(DataTypes.DoubleType)) {
      if (!value.isNumber() && !value.isDecimal128()) {
        throw new IllegalArgumentException("a " + value.getBsonType() + " is not a number");
      }
      return value.isDecimal128()
          ? value.asDecimal128().getValue().bigDecimalValue().doubleValue()
          : value.asNumber().doubleValue();
    }
    if (type instanceof DecimalType decimal) {
      BigDecimal exact = exactDecimal(value).setScale(decimal.scale(), RoundingMode.UNNECESSARY);
      if (exact.precision() > decimal.precision()) {
        throw new IllegalArgumentException(
            exact + " has more than " + decimal.precision() + " digits");
      }
      return exact;
    }
    if (type.equals(DataTypes.TimestampType)) {
      return Timestamp.from(instant(value));
    }
    if (type.equals(DataTypes.DateType)) {
      return Date.valueOf(instant(value).atZone(ZoneOffset.UTC).toLocalDate());
    }
    if (type.equals(DataTypes.BooleanType)) {
      if (!value.isBoolean()) {
        throw new IllegalArgumentException("a " + value.getBsonType() + " is not a boolean");
      }
      return value.asBoolean().getValue();
    }
    throw new IllegalArgumentException("promoting to " + type.sql() + " is not supported");
  }

  private static BigDecimal exactDecimal(BsonValue value) {
    return switch (value.getBsonType()) {
      case INT32 -> BigDecimal.valueOf(value.asInt32().getValue());
      case INT64 -> BigDecimal.valueOf(value.asInt64().getValue());
      case DOUBLE -> BigDecimal.valueOf(value.asDouble().getValue());
      case DECIMAL128 -> value.asDecimal128().getValue().bigDecimalValue();
      default ->
          throw new IllegalArgumentException("a " + value.getBsonType() + " is not a number");
    };
  }

  private static Instant instant(BsonValue value) {
    return switch (value.getBsonType()) {
      case DATE_TIME -> Instant.ofEpochMilli(value.asDateTime().getValue());
      case TIMESTAMP -> Instant.ofEpochSecond(value.asTimestamp().getTime());
      default -> throw new IllegalArgumentException("a " + value.getBsonType() + " is not a date");
    };
  }
}
