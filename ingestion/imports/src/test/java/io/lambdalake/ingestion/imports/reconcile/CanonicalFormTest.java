package io.lambdalake.ingestion.imports.reconcile;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.lambdalake.spark.cdc.SourceSchemas.SourceColumn;
import java.math.BigDecimal;
import java.sql.Date;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.zip.CRC32;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The canonical text of each type reconcile checksums, as Spark computes it: the documented form,
 * and the CRC32 of its UTF-8 bytes (MariaDB's side is checked against a real server in
 * CdcReconcileIT, where every range of a table of these types must agree).
 */
class CanonicalFormTest {
  private static SparkSession spark;

  @BeforeAll
  static void startSpark() {
    spark =
        SparkSession.builder()
            .appName("canonical-form-test")
            .master("local[1]")
            .config("spark.ui.enabled", "false")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.sql.session.timeZone", "UTC")
            .getOrCreate();
  }

  @AfterAll
  static void stopSpark() {
    spark.stop();
  }

  private record Case(SourceColumn source, DataType mirror, Object value, String text) {}

  private static final List<Case> CASES =
      List.of(
          new Case(column("id", "bigint", "bigint(20)", 0), DataTypes.LongType, 42L, "42"),
          new Case(
              column("small", "tinyint", "tinyint(4)", 0), DataTypes.ByteType, (byte) -3, "-3"),
          new Case(
              column("huge", "bigint", "bigint(20) unsigned", 0),
              DataTypes.createDecimalType(20, 0),
              new BigDecimal("18446744073709551615"),
              "18446744073709551615"),
          new Case(
              column("amount", "decimal", "decimal(12,2)", 2),
              DataTypes.createDecimalType(12, 2),
              new BigDecimal("10.50"),
              "10.50"),
          new Case(
              column("rate", "decimal", "decimal(20,10)", 10),
              DataTypes.createDecimalType(20, 10),
              new BigDecimal("0E-10"),
              "0.0000000000"),
          new Case(
              column("name", "varchar", "varchar(64)", 0),
              DataTypes.StringType,
              "Zoë ✓ | 1:x",
              "Zoë ✓ | 1:x"),
          new Case(
              column("born", "date", "date", 0),
              DataTypes.DateType,
              Date.valueOf("2026-01-05"),
              "2026-01-05"),
          new Case(
              column("updated_at", "datetime", "datetime(6)", 0),
              DataTypes.TimestampNTZType,
              LocalDateTime.parse("2026-11-01T10:00:00.000123"),
              "2026-11-01 10:00:00.000123"),
          new Case(
              column("seen_at", "timestamp", "timestamp(3)", 0),
              DataTypes.TimestampType,
              Timestamp.from(Instant.parse("2026-12-01T03:00:00.250Z")),
              "2026-12-01 03:00:00.250000"),
          new Case(
              column("payload", "varbinary", "varbinary(16)", 0),
              DataTypes.BinaryType,
              new byte[] {1, 0, (byte) 0xFF},
              "0100FF"),
          new Case(column("flag", "bit", "bit(1)", 0), DataTypes.BooleanType, Boolean.TRUE, "1"),
          new Case(
              column("active", "tinyint", "tinyint(1)", 0),
              DataTypes.BooleanType,
              Boolean.FALSE,
              "0"));

  @Test
  void sparkWritesEveryTypeInItsCanonicalText() {
    for (Case each : CASES) {
      CanonicalForm form = CanonicalForm.of(each.source(), each.mirror()).form().orElseThrow();
      Row row = evaluate(List.of(each), List.of(form), "CAST(" + form.spark() + " AS STRING)");
      assertThat(row.getString(0)).as(each.source().columnType()).isEqualTo(each.text());
    }
  }

  @Test
  void theRowLineHasLengthPrefixesAndMarksNullsAndItsChecksumIsTheCrc32OfItsUtf8() {
    List<CanonicalForm> forms = new ArrayList<>();
    for (Case each : CASES) {
      forms.add(CanonicalForm.of(each.source(), each.mirror()).form().orElseThrow());
    }
    List<String> fields = new ArrayList<>();
    for (Case each : CASES) {
      fields.add(each.text().codePointCount(0, each.text().length()) + ":" + each.text());
    }
    String line = String.join("|", fields);

    Row row =
        evaluate(CASES, forms, CanonicalForm.sparkLine(forms), CanonicalForm.sparkChecksum(forms));

    assertThat(row.getString(0)).isEqualTo(line);
    assertThat(row.getLong(1)).isEqualTo(crc32(line));
    assertThat(line)
        .startsWith("2:42|2:-3|20:18446744073709551615|5:10.50|")
        .contains("|11:Zoë ✓ | 1:x|");
  }

  @Test
  void nullDiffersFromTheEmptyString() {
    Case name = CASES.get(5);
    List<CanonicalForm> forms =
        List.of(CanonicalForm.of(name.source(), name.mirror()).form().orElseThrow());
    Row nullRow =
        evaluate(
            List.of(new Case(name.source(), name.mirror(), null, "")),
            forms,
            CanonicalForm.sparkLine(forms));
    Row emptyRow =
        evaluate(
            List.of(new Case(name.source(), name.mirror(), "", "")),
            forms,
            CanonicalForm.sparkLine(forms));

    assertThat(nullRow.getString(0)).isEqualTo("~");
    assertThat(emptyRow.getString(0)).isEqualTo("0:");
  }

  @Test
  void mariaDbSideFormatsTheSameWay() {
    assertThat(form("amount", "decimal", "decimal(12,2)", 2, DataTypes.createDecimalType(12, 2)))
        .isEqualTo("CAST(`amount` AS CHAR)");
    assertThat(form("updated_at", "datetime", "datetime(6)", 0, DataTypes.TimestampNTZType))
        .isEqualTo("DATE_FORMAT(`updated_at`, '%Y-%m-%d %H:%i:%s.%f')");
    assertThat(form("payload", "blob", "blob", 0, DataTypes.BinaryType))
        .isEqualTo("HEX(`payload`)");
    assertThat(
            CanonicalForm.mariaDbChecksum(
                List.of(
                    CanonicalForm.of(column("id", "int", "int(11)", 0), DataTypes.IntegerType)
                        .form()
                        .orElseThrow())))
        .isEqualTo(
            "CRC32(CONCAT_WS('|', CONVERT(COALESCE(CONCAT(CHAR_LENGTH(CONVERT(CAST(`id` AS CHAR)"
                + " USING utf8mb4)), ':', CONVERT(CAST(`id` AS CHAR) USING utf8mb4)), '~') USING"
                + " utf8mb4)))");
  }

  @Test
  void aTypeWithoutACommonFormSaysWhy() {
    assertThat(
            CanonicalForm.of(column("level", "double", "double", 0), DataTypes.DoubleType)
                .unsupported())
        .hasValueSatisfying(reason -> assertThat(reason).contains("level", "double", "floating"));
    assertThat(
            CanonicalForm.of(column("at", "time", "time", 0), DataTypes.StringType).unsupported())
        .hasValueSatisfying(reason -> assertThat(reason).contains("at is time"));
    assertThat(
            CanonicalForm.of(column("id", "int", "int(11)", 0), DataTypes.StringType).unsupported())
        .hasValueSatisfying(
            reason ->
                assertThat(reason).contains("int(11) in the source but STRING in the mirror"));
  }

  private static String form(
      String name, String dataType, String columnType, long scale, DataType mirror) {
    return CanonicalForm.of(column(name, dataType, columnType, scale), mirror)
        .form()
        .orElseThrow()
        .mariaDb();
  }

  private static Row evaluate(List<Case> cases, List<CanonicalForm> forms, String... expressions) {
    StructType schema = new StructType();
    Object[] values = new Object[cases.size()];
    for (int index = 0; index < cases.size(); index++) {
      schema = schema.add(forms.get(index).column(), cases.get(index).mirror());
      values[index] = cases.get(index).value();
    }
    return spark
        .createDataFrame(List.of(RowFactory.create(values)), schema)
        .selectExpr(Arrays.copyOf(expressions, expressions.length))
        .first();
  }

  private static long crc32(String text) {
    CRC32 crc = new CRC32();
    crc.update(text.getBytes(UTF_8));
    return crc.getValue();
  }

  private static SourceColumn column(String name, String dataType, String columnType, long scale) {
    return new SourceColumn(name, dataType, columnType, 20, scale, Optional.empty());
  }
}
