package io.lambdalake.serving;

import static org.assertj.core.api.Assertions.assertThat;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.stack.testing.SharedStack;
import io.lambdalake.stack.testing.TestSpark;
import io.lambdalake.stack.testing.TrinoSql;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** What Spark writes to the lake on S3 as Delta, Trino reads back row for row. */
class SparkToTrinoIT {
  private static final String SCHEMA = "stack_checks";
  private static LakeConfig config;
  private static SparkSession spark;
  private static TrinoSql trino;
  private static final List<String> registeredTables = new ArrayList<>();

  @BeforeAll
  static void start() {
    config = SharedStack.config();
    spark = TestSpark.session();
    trino = new TrinoSql(config);
    trino.createSchema(SCHEMA);
  }

  @AfterAll
  static void unregister() {
    for (String table : registeredTables) {
      trino.unregister(SCHEMA, table);
    }
  }

  @Test
  void trinoReadsEveryRowAndTypeSparkWrote() throws SQLException {
    String table = "spark_rows_" + UUID.randomUUID().toString().replace("-", "");
    String location = config.storage().tableLocation(SCHEMA, table);
    Dataset<Row> rows =
        spark.sql(
            """
            SELECT id,
                   concat('event-', id) AS name,
                   CAST(id * 1.25 AS DECIMAL(12, 2)) AS amount,
                   map('source', concat('s', id % 3)) AS params,
                   CASE WHEN id % 5 = 0 THEN NULL ELSE concat('user-', id % 7) END AS user_id,
                   timestamp_seconds(1795000000 + id * 3600) AS event_time,
                   date_add(DATE '2026-11-01', CAST(id % 4 AS INT)) AS event_date
            FROM range(0, 500)
            """);
    rows.write()
        .format("delta")
        .mode(SaveMode.ErrorIfExists)
        .partitionBy("event_date")
        .save(location);
    register(table, location);

    List<String> fromSpark =
        rows.orderBy("id").collectAsList().stream().map(SparkToTrinoIT::sparkRow).toList();
    List<String> fromTrino = new ArrayList<>();
    try (Connection connection = trino.connection();
        Statement statement = connection.createStatement();
        ResultSet result =
            statement.executeQuery(
                "SELECT id, name, amount, params['source'], user_id, "
                    + "to_unixtime(event_time), event_date FROM "
                    + SCHEMA
                    + "."
                    + table
                    + " ORDER BY id")) {
      while (result.next()) {
        fromTrino.add(
            String.join(
                "|",
                Long.toString(result.getLong(1)),
                result.getString(2),
                result.getBigDecimal(3).toPlainString(),
                result.getString(4),
                String.valueOf(result.getString(5)),
                Long.toString((long) result.getDouble(6)),
                result.getObject(7, LocalDate.class).toString()));
      }
    }

    assertThat(fromTrino).hasSize(500).containsExactlyElementsOf(fromSpark);
  }

  @Test
  void trinoSeesLaterSparkAppendsWithoutRegisteringAgain() {
    String table = "spark_appends_" + UUID.randomUUID().toString().replace("-", "");
    String location = config.storage().tableLocation(SCHEMA, table);
    spark.range(0, 100).toDF("id").write().format("delta").save(location);
    register(table, location);
    assertThat(count(table)).isEqualTo(100);

    spark.range(100, 250).toDF("id").write().format("delta").mode(SaveMode.Append).save(location);

    assertThat(count(table)).isEqualTo(250);
    assertThat(scalar("SELECT max(version) FROM " + SCHEMA + ".\"" + table + "$history\""))
        .isEqualTo(1);
  }

  private static String sparkRow(Row row) {
    Map<String, String> params = row.getJavaMap(3);
    Instant eventTime = row.getTimestamp(5).toInstant();
    return String.join(
        "|",
        Long.toString(row.getLong(0)),
        row.getString(1),
        ((BigDecimal) row.get(2)).toPlainString(),
        params.get("source"),
        String.valueOf(row.getString(4)),
        Long.toString(eventTime.getEpochSecond()),
        row.getDate(6).toLocalDate().toString());
  }

  private static void register(String table, String location) {
    trino.register(SCHEMA, table, location);
    registeredTables.add(table);
  }

  private static long count(String table) {
    return scalar("SELECT count(*) FROM " + SCHEMA + "." + table);
  }

  private static long scalar(String sql) {
    return ((Number) trino.scalar(sql)).longValue();
  }
}
