package io.lambdalake.ingestion.imports.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import org.bson.BsonDocument;
import org.junit.jupiter.api.Test;

class MongoDocumentsTest {
  private static final List<MongoDocuments.Promoted> PROMOTED =
      List.of(
          new MongoDocuments.Promoted("qty", DataTypes.LongType),
          new MongoDocuments.Promoted("total", DataTypes.createDecimalType(18, 2)),
          new MongoDocuments.Promoted("created", DataTypes.TimestampType),
          new MongoDocuments.Promoted("address", DataTypes.StringType));

  @Test
  void relaxedAndCanonicalExtendedJsonMeanTheSame() {
    String canonical =
        "{\"_id\":{\"$oid\":\"5f1d7e3a9b1e8a3c4d5e6f70\"},\"qty\":{\"$numberLong\":\"9007199254740993\"},"
            + "\"total\":{\"$numberDecimal\":\"12.50\"},"
            + "\"created\":{\"$date\":{\"$numberLong\":\"1767225600123\"}},"
            + "\"address\":{\"city\":\"Lyon\",\"zip\":{\"$numberInt\":\"69001\"}}}";
    String relaxed =
        "{\"_id\":{\"$oid\":\"5f1d7e3a9b1e8a3c4d5e6f70\"},\"qty\":{\"$numberLong\":\"9007199254740993\"},"
            + "\"total\":{\"$numberDecimal\":\"12.50\"},\"created\":{\"$date\":\"2026-01-01T00:00:00.123Z\"},"
            + "\"address\":{\"city\":\"Lyon\",\"zip\":69001}}";

    Row fromCanonical = MongoDocuments.parse("f", 1, canonical, PROMOTED);
    Row fromRelaxed = MongoDocuments.parse("f", 2, relaxed, PROMOTED);

    for (Row row : List.of(fromCanonical, fromRelaxed)) {
      assertThat(row.getString(0)).isEqualTo("5f1d7e3a9b1e8a3c4d5e6f70");
      assertThat(row.getLong(2)).isEqualTo(9007199254740993L);
      assertThat(row.getDecimal(3)).isEqualTo(new BigDecimal("12.50"));
      assertThat(row.getTimestamp(4))
          .isEqualTo(Timestamp.from(Instant.parse("2026-01-01T00:00:00.123Z")));
      assertThat(row.getString(5)).isEqualTo("{\"city\": \"Lyon\", \"zip\": 69001}");
      assertThat(row.isNullAt(9)).as("no reason").isTrue();
    }
    // The kept document is canonical: the same whichever form came in, types spelled out.
    assertThat(fromRelaxed.getString(1)).isEqualTo(fromCanonical.getString(1));
    BsonDocument kept = BsonDocument.parse(fromCanonical.getString(1));
    assertThat(kept.get("qty").isInt64()).isTrue();
    assertThat(kept.get("total").isDecimal128()).isTrue();
    assertThat(kept.get("created").isDateTime()).isTrue();
    assertThat(kept.getDocument("address").get("zip").isInt32()).isTrue();
  }

  @Test
  void badLinesAndBadFieldsAreRejectedWithLineAndReason() {
    Row malformed = MongoDocuments.parse("f", 7, "{\"a\": ", PROMOTED);
    Row notADocument = MongoDocuments.parse("f", 8, "[1, 2]", PROMOTED);
    Row wrongType = MongoDocuments.parse("f", 9, "{\"qty\": \"many\"}", PROMOTED);
    Row tooPrecise =
        MongoDocuments.parse("f", 10, "{\"total\": {\"$numberDecimal\": \"1.005\"}}", PROMOTED);

    assertThat(malformed.getString(9)).isEqualTo("malformed_json");
    assertThat(malformed.getString(11)).startsWith("line 7: ");
    assertThat(notADocument.getString(9)).isEqualTo("malformed_json");
    assertThat(wrongType.getString(9)).isEqualTo("invalid_field");
    assertThat(wrongType.getString(10)).isEqualTo("qty");
    assertThat(wrongType.getString(11)).contains("line 9").contains("BIGINT");
    assertThat(tooPrecise.getString(10)).isEqualTo("total");
    assertThat(wrongType.isNullAt(1)).as("no document for a rejected line").isTrue();
  }
}
