package io.lambdalake.ingestion.imports;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.apache.spark.sql.functions.col;
import static org.assertj.core.api.Assertions.assertThat;

import io.lambdalake.common.table.LakeTable;
import io.lambdalake.stack.testing.TestSpark;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.bson.BsonDocument;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** lake import-mongoexport with files as mongoexport writes them, from a local folder and S3. */
class MongoExportIT {
  /** mongoexport's default output: relaxed Extended JSON, one document per line. */
  private static final String RELAXED =
      String.join(
              "\n",
              "{\"_id\":{\"$oid\":\"65a1f0c2e4b0a1b2c3d4e5f1\"},\"status\":\"paid\",\"qty\":{\"$numberLong\":\"9007199254740993\"},"
                  + "\"total\":{\"$numberDecimal\":\"1234567890.12\"},\"created\":{\"$date\":\"2026-01-02T03:04:05.678Z\"},"
                  + "\"customer\":{\"name\":\"Ana\",\"tags\":[\"vip\",1]}}",
              "{\"_id\":{\"$oid\":\"65a1f0c2e4b0a1b2c3d4e5f2\"},\"status\":\"new\",\"qty\":3,\"total\":{\"$numberDecimal\":\"0.10\"},"
                  + "\"created\":{\"$date\":\"2026-01-03T00:00:00Z\"}}",
              "{\"_id\": {\"$oid\": \"65a1f0c2e4b0a1b2c3d4e5f3\"}, \"status\": ",
              "",
              "{\"_id\":{\"$oid\":\"65a1f0c2e4b0a1b2c3d4e5f4\"},\"status\":\"paid\",\"qty\":\"lots\"}",
              "{\"_id\":{\"$oid\":\"65a1f0c2e4b0a1b2c3d4e5f5\"},\"status\":null}")
          + "\n";

  /** mongoexport --jsonFormat=canonical --jsonArray. */
  private static final String CANONICAL_ARRAY =
      "[{\"_id\":{\"$oid\":\"65a1f0c2e4b0a1b2c3d4e5f6\"},\"status\":\"shipped\","
          + "\"qty\":{\"$numberLong\":\"7\"},\"total\":{\"$numberDecimal\":\"99.99\"},"
          + "\"created\":{\"$date\":{\"$numberLong\":\"1767225600000\"}},\"weight\":{\"$numberDouble\":\"1.5\"}},\n"
          + "{\"_id\":{\"$oid\":\"65a1f0c2e4b0a1b2c3d4e5f7\"},\"status\":{\"$bad\":},\n"
          + "\"qty\":{\"$numberInt\":\"1\"}},\n"
          + "{\"_id\":\"string-id\",\"status\":\"new\",\"qty\":{\"$numberInt\":\"2\"}}]\n";

  @Test
  void extendedJsonKeepsItsTypesAndBadLinesAreQuarantinedWithTheirNumbers() throws Exception {
    ImportFixture fixture = ImportFixture.create();
    Path folder = Files.createTempDirectory(fixture.name());
    Files.writeString(folder.resolve("orders.json"), RELAXED, UTF_8);
    SparkSession spark = TestSpark.session();
    // The array file is read from S3, as exports usually are.
    String s3File =
        "s3://"
            + fixture.config().s3().bucket()
            + "/"
            + fixture.name()
            + "/exports/orders-array.json";
    Path local = folder.resolve("orders-array.json");
    Files.writeString(local, CANONICAL_ARRAY, UTF_8);
    org.apache.hadoop.fs.Path s3Path =
        new org.apache.hadoop.fs.Path(s3File.replaceFirst("^s3:", "s3a:"));
    FileSystem s3 = s3Path.getFileSystem(spark.sessionState().newHadoopConf());
    s3.copyFromLocalFile(new org.apache.hadoop.fs.Path(local.toString()), s3Path);
    Files.delete(local);

    MongoExportJob.Options options =
        CommandLine.populateCommand(
                new MongoExportCommand(),
                "--collection",
                "shop.orders",
                "--promote",
                "status:STRING,qty:BIGINT,total:DECIMAL(20,2),created:TIMESTAMP",
                folder.resolve("orders.json").toString(),
                s3File)
            .options();
    MongoExportJob.Result result = MongoExportJob.run(spark, fixture.config(), options, l -> {});

    assertThat(result.documents()).isEqualTo(5);
    assertThat(result.quarantined()).isEqualTo(3);
    Dataset<Row> snapshots =
        spark
            .read()
            .format("delta")
            .load(LakeTable.RAW_MONGO_SNAPSHOTS.location(fixture.config().storage()));
    assertThat(snapshots.schema().apply("total").dataType())
        .isEqualTo(DataTypes.createDecimalType(20, 2));
    Row first = snapshots.filter(col("document_id").equalTo("65a1f0c2e4b0a1b2c3d4e5f1")).first();
    assertThat(first.<Long>getAs("qty")).isEqualTo(9007199254740993L);
    assertThat(first.<BigDecimal>getAs("total")).isEqualTo(new BigDecimal("1234567890.12"));
    assertThat(first.<Timestamp>getAs("created").toInstant())
        .isEqualTo(Instant.parse("2026-01-02T03:04:05.678Z"));
    assertThat(first.<String>getAs("collection")).isEqualTo("shop.orders");
    assertThat(first.<Long>getAs("source_line")).isEqualTo(1L);
    BsonDocument document = BsonDocument.parse(first.getAs("document"));
    assertThat(document.get("_id").isObjectId()).isTrue();
    assertThat(document.get("qty").isInt64()).isTrue();
    assertThat(document.get("total").asDecimal128().getValue().bigDecimalValue())
        .isEqualTo(new BigDecimal("1234567890.12"));
    assertThat(document.get("created").isDateTime()).isTrue();
    assertThat(document.getDocument("customer").getArray("tags").get(1).isInt32()).isTrue();

    Row fromArray =
        snapshots.filter(col("document_id").equalTo("65a1f0c2e4b0a1b2c3d4e5f6")).first();
    assertThat(fromArray.<String>getAs("source_file")).startsWith("s3a://");
    assertThat(fromArray.<Timestamp>getAs("created").toInstant())
        .isEqualTo(Instant.parse("2026-01-01T00:00:00Z"));
    assertThat(BsonDocument.parse(fromArray.getAs("document")).get("weight").isDouble()).isTrue();
    assertThat(snapshots.filter(col("document_id").equalTo("string-id")).count()).isEqualTo(1);
    assertThat(
            snapshots
                .filter(col("document_id").equalTo("65a1f0c2e4b0a1b2c3d4e5f5"))
                .first()
                .isNullAt(snapshots.schema().fieldIndex("status")))
        .isTrue();

    List<Row> quarantined =
        FilesImportIT.quarantine(spark, fixture, MongoExportJob.QUARANTINE_SOURCE);
    assertThat(
            quarantined.stream()
                .map(
                    row ->
                        FilesImportIT.fileName(row.getAs("endpoint"))
                            + ":"
                            + row.getAs("source_offset")
                            + ":"
                            + row.getAs("reason")
                            + ":"
                            + row.getAs("field"))
                .collect(Collectors.toSet()))
        .containsExactlyInAnyOrder(
            "orders.json:3:malformed_json:null",
            "orders.json:5:invalid_field:qty",
            "orders-array.json:2:malformed_json:null");

    // The same export again writes nothing.
    MongoExportJob.run(spark, fixture.config(), options, l -> {});
    assertThat(
            spark
                .read()
                .format("delta")
                .load(LakeTable.RAW_MONGO_SNAPSHOTS.location(fixture.config().storage()))
                .count())
        .isEqualTo(5);
  }
}
