package io.lambdalake.spark.sketch;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.udaf;
import static org.assertj.core.api.Assertions.assertThat;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.stack.testing.SharedStack;
import io.lambdalake.stack.testing.TestSpark;
import io.lambdalake.stack.testing.TrinoSql;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.assertj.core.data.Percentage;
import org.junit.jupiter.api.Test;

/**
 * The unique-user sketches Spark writes are Trino's HyperLogLog: byte for byte what Trino's
 * approx_set makes of the same ids, and mergeable by Trino across rows.
 */
class SketchFormatIT {
  private static final String SCHEMA = "stack_checks";

  @Test
  void sparkSketchesAreTrinoHyperLogLogs() {
    LakeConfig config = SharedStack.config();
    SparkSession spark = TestSpark.session();
    TrinoSql trino = new TrinoSql(config);
    trino.createSchema(SCHEMA);
    String suffix = UUID.randomUUID().toString().replace("-", "");
    String idsTable = "sketch_ids_" + suffix;
    String sketchesTable = "sketch_rows_" + suffix;

    // 24 groups from 3 ids (sparse sketches) to 20,000 ids (dense ones); ids overlap across groups.
    Dataset<Row> ids =
        spark.sql(
            "SELECT CAST(g AS INT) AS grp, concat('user-', CAST(id AS STRING)) AS user_id"
                + " FROM range(0, 24) AS groups(g)"
                + " LATERAL VIEW explode(sequence(0, CAST(3 * power(1.5, g) AS INT))) AS id");
    ids.write().format("delta").save(config.storage().tableLocation(SCHEMA, idsTable));
    Dataset<Row> sketches =
        ids.groupBy(col("grp"))
            .agg(
                udaf(UniqueUsers.sketch(), Encoders.STRING())
                    .apply(col("user_id"))
                    .as("users_sketch"));
    sketches.write().format("delta").save(config.storage().tableLocation(SCHEMA, sketchesTable));
    trino.register(SCHEMA, idsTable, config.storage().tableLocation(SCHEMA, idsTable));
    trino.register(SCHEMA, sketchesTable, config.storage().tableLocation(SCHEMA, sketchesTable));
    try {
      Map<Integer, String> fromTrino =
          rowsByGroup(
              trino.query(
                  "SELECT grp, to_hex(CAST(approx_set(user_id) AS varbinary)) FROM "
                      + SCHEMA
                      + "."
                      + idsTable
                      + " GROUP BY grp"));
      Map<Integer, String> fromSpark =
          rowsByGroup(
              trino.query("SELECT grp, to_hex(users_sketch) FROM " + SCHEMA + "." + sketchesTable));
      assertThat(fromSpark).hasSize(24).isEqualTo(fromTrino);

      long exact = ids.select("user_id").distinct().count();
      long mergedInTrino =
          ((Number)
                  trino.scalar(
                      "SELECT cardinality(merge(CAST(users_sketch AS HyperLogLog))) FROM "
                          + SCHEMA
                          + "."
                          + sketchesTable))
              .longValue();
      byte[] mergedInSpark =
          (byte[])
              sketches
                  .agg(udaf(UniqueUsers.merge(), Encoders.BINARY()).apply(col("users_sketch")))
                  .first()
                  .get(0);
      assertThat((double) mergedInTrino).isCloseTo(exact, Percentage.withPercentage(3));
      assertThat(UniqueUsers.cardinality(mergedInSpark)).isEqualTo(mergedInTrino);
    } finally {
      trino.unregister(SCHEMA, idsTable);
      trino.unregister(SCHEMA, sketchesTable);
    }
  }

  private static Map<Integer, String> rowsByGroup(List<List<Object>> rows) {
    return rows.stream()
        .collect(
            Collectors.toMap(
                row -> ((Number) row.get(0)).intValue(),
                row ->
                    row.get(1) instanceof byte[] bytes
                        ? HexFormat.of().withUpperCase().formatHex(bytes)
                        : row.get(1).toString().toUpperCase()));
  }
}
