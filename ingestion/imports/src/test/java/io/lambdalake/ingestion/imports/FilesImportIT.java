package io.lambdalake.ingestion.imports;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.apache.spark.sql.functions.col;
import static org.assertj.core.api.Assertions.assertThat;

import io.lambdalake.common.table.LakeTable;
import io.lambdalake.stack.testing.TestSpark;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Date;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.avro.Conversions;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.file.DataFileWriter;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** lake import-files with files in the layouts Sqoop 1.4 writes, into Delta on s3proxy. */
class FilesImportIT {
  @Test
  void sqoopTextLoadsWithTypesAndQuarantinesBadLinesWithTheirNumbers() throws Exception {
    ImportFixture fixture = ImportFixture.create();
    Path folder = Files.createTempDirectory(fixture.name());
    // Sqoop's text layout: ',' between fields, '\n' after records, "null" for NULL, timestamps as
    // java.sql.Timestamp prints them; one file per mapper, and a _SUCCESS marker.
    Files.writeString(
        folder.resolve("part-m-00000"),
        String.join(
                "\n",
                "1,alice,12345678901234.567890,2026-01-15,2026-01-15 10:11:12.0,true",
                "2,bob,null,null,2026-01-16 00:00:00.5,false",
                "3,with,too,many,fields,here,x",
                "4,carol,0.000001,2026-02-30,2026-01-17 08:00:00.0,true",
                "5,,7.5,2026-01-18,null,null")
            + "\n",
        UTF_8);
    Files.writeString(
        folder.resolve("part-m-00001"),
        "6,dave,1.25,2026-01-19,2026-01-19 23:59:59.999999,false\nnot a record\n",
        UTF_8);
    Files.writeString(folder.resolve("_SUCCESS"), "");
    SparkSession spark = TestSpark.session();
    FilesImportJob.Options options =
        CommandLine.populateCommand(
                new FilesImportCommand(),
                "--format",
                "sqoop-text",
                "--schema",
                "id BIGINT, name STRING, amount DECIMAL(20, 6), born DATE, seen TIMESTAMP, active BOOLEAN",
                "--target",
                "raw.people",
                folder.toString())
            .options();

    FilesImportJob.Result result = FilesImportJob.run(spark, fixture.config(), options, l -> {});

    assertThat(result.files()).isEqualTo(2);
    assertThat(result.rows()).isEqualTo(4);
    assertThat(result.quarantined()).isEqualTo(3);
    Dataset<Row> people = table(spark, fixture, "raw", "people");
    assertThat(people.schema().apply("amount").dataType())
        .isEqualTo(DataTypes.createDecimalType(20, 6));
    Row alice = people.filter(col("id").equalTo(1)).first();
    assertThat(alice.<BigDecimal>getAs("amount"))
        .isEqualTo(new BigDecimal("12345678901234.567890"));
    assertThat(alice.<Date>getAs("born").toLocalDate()).isEqualTo(LocalDate.of(2026, 1, 15));
    assertThat(alice.<Timestamp>getAs("seen").toInstant())
        .isEqualTo(Instant.parse("2026-01-15T10:11:12Z"));
    assertThat(alice.<Boolean>getAs("active")).isTrue();
    Row bob = people.filter(col("id").equalTo(2)).first();
    assertThat(bob.isNullAt(bob.fieldIndex("amount"))).isTrue();
    assertThat(bob.isNullAt(bob.fieldIndex("born"))).isTrue();
    Row empty = people.filter(col("id").equalTo(5)).first();
    assertThat(empty.<String>getAs("name")).as("an empty string is not NULL").isEmpty();
    assertThat(empty.isNullAt(empty.fieldIndex("seen"))).isTrue();
    assertThat(people.filter(col("id").equalTo(6)).first().<Timestamp>getAs("seen").toInstant())
        .isEqualTo(Instant.parse("2026-01-19T23:59:59.999999Z"));

    List<Row> quarantined = quarantine(spark, fixture, FilesImportJob.QUARANTINE_SOURCE);
    assertThat(
            quarantined.stream()
                .map(
                    row ->
                        fileName(row.getAs("endpoint"))
                            + ":"
                            + row.getAs("source_offset")
                            + ":"
                            + row.getAs("reason")
                            + ":"
                            + row.getAs("field"))
                .collect(Collectors.toSet()))
        .containsExactlyInAnyOrder(
            "part-m-00000:3:wrong_field_count:null",
            "part-m-00000:4:invalid_value:born",
            "part-m-00001:2:wrong_field_count:null");
    assertThat(quarantined.stream().map(row -> row.<String>getAs("payload")))
        .contains("4,carol,0.000001,2026-02-30,2026-01-17 08:00:00.0,true", "not a record");

    // The same files again: nothing is written twice.
    FilesImportJob.run(spark, fixture.config(), options, l -> {});
    assertThat(table(spark, fixture, "raw", "people").count()).isEqualTo(4);
    assertThat(quarantine(spark, fixture, FilesImportJob.QUARANTINE_SOURCE)).hasSize(3);
  }

  @Test
  void avroAndParquetKeepTheirSchemas() throws Exception {
    ImportFixture fixture = ImportFixture.create();
    Path folder = Files.createTempDirectory(fixture.name());
    // The record schema Sqoop's AvroSchemaGenerator writes: nullable unions per column, decimals as
    // the decimal logical type (sqoop.avro.logical_types.decimal.enable), dates as long millis.
    Schema amount = LogicalTypes.decimal(20, 6).addToSchema(Schema.create(Schema.Type.BYTES));
    Schema schema =
        SchemaBuilder.record("orders")
            .doc("Sqoop import of orders")
            .fields()
            .name("id")
            .type()
            .unionOf()
            .nullType()
            .and()
            .longType()
            .endUnion()
            .nullDefault()
            .name("customer")
            .type()
            .unionOf()
            .nullType()
            .and()
            .stringType()
            .endUnion()
            .nullDefault()
            .name("amount")
            .type(Schema.createUnion(Schema.create(Schema.Type.NULL), amount))
            .withDefault(null)
            .name("ordered_on")
            .type()
            .unionOf()
            .nullType()
            .and()
            .longType()
            .endUnion()
            .nullDefault()
            .endRecord();
    Conversions.DecimalConversion decimals = new Conversions.DecimalConversion();
    try (DataFileWriter<GenericRecord> writer =
        new DataFileWriter<>(new GenericDatumWriter<>(schema))) {
      writer.create(schema, folder.resolve("part-m-00000.avro").toFile());
      for (int id = 1; id <= 50; id++) {
        GenericRecord record = new GenericData.Record(schema);
        record.put("id", (long) id);
        record.put("customer", id % 10 == 0 ? null : "customer-" + id);
        BigDecimal value = new BigDecimal(id).divide(new BigDecimal(7), 6, RoundingMode.HALF_UP);
        ByteBuffer bytes = decimals.toBytes(value, amount, LogicalTypes.decimal(20, 6));
        record.put("amount", id % 10 == 0 ? null : bytes);
        record.put("ordered_on", 1_767_225_600_000L + id * 86_400_000L);
        writer.append(record);
      }
    }
    SparkSession spark = TestSpark.session();

    FilesImportJob.Result avro =
        FilesImportJob.run(
            spark,
            fixture.config(),
            CommandLine.populateCommand(
                    new FilesImportCommand(),
                    "--format",
                    "avro",
                    "--target",
                    "raw.orders_avro",
                    folder.toString())
                .options(),
            l -> {});

    assertThat(avro.rows()).isEqualTo(50);
    assertThat(avro.quarantined()).isZero();
    Dataset<Row> orders = table(spark, fixture, "raw", "orders_avro");
    assertThat(orders.schema().apply("amount").dataType())
        .isEqualTo(DataTypes.createDecimalType(20, 6));
    assertThat(orders.filter(col("id").equalTo(3)).first().<BigDecimal>getAs("amount"))
        .isEqualTo(new BigDecimal("0.428571"));
    assertThat(orders.filter(col("amount").isNull()).count()).isEqualTo(5);
    assertThat(orders.filter(col("_source_line").equalTo(50)).first().<Long>getAs("id"))
        .isEqualTo(50L);

    // Parquet as Spark writes it (Sqoop's --as-parquetfile writes the same Parquet types).
    Path parquet = folder.resolve("parquet");
    orders.select("id", "customer", "amount").write().parquet(parquet.toString());
    FilesImportJob.Result fromParquet =
        FilesImportJob.run(
            spark,
            fixture.config(),
            CommandLine.populateCommand(
                    new FilesImportCommand(),
                    "--format",
                    "parquet",
                    "--target",
                    "raw.orders_parquet",
                    parquet.toString())
                .options(),
            l -> {});
    assertThat(fromParquet.rows()).isEqualTo(50);
    Dataset<Row> reloaded = table(spark, fixture, "raw", "orders_parquet");
    assertThat(
            reloaded
                .select("id", "customer", "amount")
                .exceptAll(orders.select("id", "customer", "amount"))
                .count())
        .isZero();
  }

  static Dataset<Row> table(SparkSession spark, ImportFixture fixture, String zone, String name) {
    return spark.read().format("delta").load(fixture.config().storage().tableLocation(zone, name));
  }

  static List<Row> quarantine(SparkSession spark, ImportFixture fixture, String source) {
    return spark
        .read()
        .format("delta")
        .load(LakeTable.RAW_IMPORT_QUARANTINE.location(fixture.config().storage()))
        .filter(col("source").equalTo(source))
        .collectAsList();
  }

  static String fileName(String path) {
    return path.substring(path.lastIndexOf('/') + 1);
  }
}
