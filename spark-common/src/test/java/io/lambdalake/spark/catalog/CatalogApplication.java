package io.lambdalake.spark.catalog;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.config.LakeConfigLoader;
import io.lambdalake.spark.CatalogNames;
import io.lambdalake.spark.LakeSpark;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * A Spark application of its own for {@link SharedCatalogIT}, with the lake's session ({@link
 * LakeSpark}): {@code write ZONE TABLE LOCATION} writes three orders to a Delta table by path and
 * registers its name; {@code write-by-path-only ZONE TABLE LOCATION} only writes them; {@code read
 * ZONE TABLE OUTPUT} reads the table by name only and writes its rows, one per line, to OUTPUT.
 */
public final class CatalogApplication {
  private CatalogApplication() {}

  public static void main(String[] arguments) throws Exception {
    LakeConfig config = LakeConfigLoader.load();
    String mode = arguments[0];
    String zone = arguments[1];
    String table = arguments[2];
    SparkSession spark = LakeSpark.session(config, "shared-catalog-" + mode);
    try {
      switch (mode) {
        case "write" -> {
          String location = arguments[3];
          writeOrders(spark, location);
          CatalogNames.register(spark, config, zone, table, location);
        }
        case "write-by-path-only" -> writeOrders(spark, arguments[3]);
        case "read" -> {
          Path output = Path.of(arguments[3]);
          List<Row> rows =
              spark
                  .sql(
                      "SELECT id, customer, CAST(total AS STRING) FROM "
                          + config.trino().schema(zone)
                          + "."
                          + table
                          + " ORDER BY id")
                  .collectAsList();
          Files.write(
              output,
              rows.stream()
                  .map(row -> row.getInt(0) + "," + row.getString(1) + "," + row.getString(2))
                  .toList(),
              UTF_8);
        }
        default -> throw new IllegalArgumentException("unknown mode " + mode);
      }
    } finally {
      spark.stop();
    }
  }

  private static void writeOrders(SparkSession spark, String location) {
    spark
        .sql(
            "SELECT * FROM VALUES (1, 'alice', 10.50), (2, 'bob', 7.25), (3, 'carol', 99.00)"
                + " AS orders(id, customer, total)")
        .write()
        .format("delta")
        .save(location);
  }
}
