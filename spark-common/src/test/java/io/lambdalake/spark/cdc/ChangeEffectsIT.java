package io.lambdalake.spark.cdc;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat_ws;
import static org.assertj.core.api.Assertions.assertThat;

import io.lambdalake.common.cdc.ChangeEnvelope.SourceName;
import io.lambdalake.spark.cdc.SourceSchemas.SourceColumn;
import io.lambdalake.spark.cdc.SourceSchemas.TableSchema;
import io.lambdalake.stack.testing.TestSpark;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.TreeMap;
import java.util.function.IntFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/**
 * Applying changes day after day gives the same rows as applying all of them at once, and both
 * equal applying them one at a time in binlog order: random inserts, updates, key updates (of a
 * composite key) and deletes over a small key space, so keys collide often.
 */
class ChangeEffectsIT {
  private static final SourceName TABLE = new SourceName("shop", "lines");
  private static final TableSchema SCHEMA =
      new TableSchema(
          TABLE,
          List.of(
              new SourceColumn("a", "int", "int", 10, 0, Optional.empty()),
              new SourceColumn("b", "int", "int", 10, 0, Optional.empty()),
              new SourceColumn("v", "varchar", "varchar(20)", 0, 0, Optional.empty())),
          List.of("a", "b"));
  private static final StructType COLUMNS =
      ChangeEffects.addMetadataColumns(
          new StructType()
              .add("a", DataTypes.IntegerType)
              .add("b", DataTypes.IntegerType)
              .add("v", DataTypes.StringType));

  @Test
  void dayAfterDayEqualsAllAtOnceEqualsOneAtATime() throws Exception {
    dayAfterDay(day -> "mariadb-bin.000001");
  }

  /**
   * The binlog rolls over past {@code .999999} to {@code .1000000} between the days: the later file
   * sorts after the earlier one by its number, not by its name as a string.
   */
  @Test
  void binlogRolloverPastSixDigitsKeepsBinlogOrder() throws Exception {
    dayAfterDay(day -> "mariadb-bin." + (999_998 + day));
  }

  private static void dayAfterDay(IntFunction<String> fileOfDay) throws Exception {
    SparkSession spark = TestSpark.session();
    Random random = new Random(11);
    Map<List<Integer>, String> state = new TreeMap<>(ChangeEffectsIT::compare);
    List<List<Row>> days = new ArrayList<>();
    List<List<String>> expected = new ArrayList<>();
    long position = 4;
    for (int day = 0; day < 4; day++) {
      List<Row> changes = new ArrayList<>();
      for (int change = 0; change < 60; change++) {
        List<Integer> key = List.of(random.nextInt(4), random.nextInt(4));
        String value = "v" + day + "-" + change;
        String json;
        if (!state.containsKey(key)) {
          json = maxwell("insert", key, value, Optional.empty(), day, fileOfDay, position);
          state.put(key, value);
        } else if (random.nextInt(4) == 0) {
          json = maxwell("delete", key, state.get(key), Optional.empty(), day, fileOfDay, position);
          state.remove(key);
        } else {
          List<Integer> moved = List.of(random.nextInt(4), random.nextInt(4));
          if (random.nextBoolean() && !state.containsKey(moved)) {
            json = maxwell("update", moved, value, Optional.of(key), day, fileOfDay, position);
            state.remove(key);
            state.put(moved, value);
          } else {
            json = maxwell("update", key, value, Optional.of(key), day, fileOfDay, position);
            state.put(key, value);
          }
        }
        changes.add(
            ParsedChanges.parse(
                null,
                json.getBytes(UTF_8),
                "cdc.maxwell.shop.lines",
                0,
                position,
                Timestamp.from(Instant.EPOCH)));
        position += 10;
      }
      days.add(changes);
      List<String> rows = new ArrayList<>();
      state.forEach((key, value) -> rows.add(key.get(0) + "|" + key.get(1) + "|" + value));
      rows.sort(null);
      expected.add(rows);
    }

    Dataset<Row> rows = spark.createDataFrame(List.of(), COLUMNS);
    List<Row> all = new ArrayList<>();
    for (int day = 0; day < days.size(); day++) {
      rows = apply(spark, rows, days.get(day)).localCheckpoint();
      all.addAll(days.get(day));
      Dataset<Row> atOnce = apply(spark, spark.createDataFrame(List.of(), COLUMNS), all);
      assertThat(texts(rows)).as("day %d, day after day", day).isEqualTo(expected.get(day));
      assertThat(texts(atOnce)).as("day %d, all at once", day).isEqualTo(expected.get(day));
    }
  }

  private static Dataset<Row> apply(SparkSession spark, Dataset<Row> rows, List<Row> changes) {
    Dataset<Row> typed =
        ChangeEffects.typed(spark.createDataFrame(changes, ParsedChanges.SCHEMA), SCHEMA, COLUMNS);
    return ChangeEffects.applied(
        rows, ChangeEffects.effects(typed, SCHEMA, COLUMNS), SCHEMA.primaryKey(), COLUMNS);
  }

  private static List<String> texts(Dataset<Row> rows) {
    return rows.select(concat_ws("|", col("a"), col("b"), col("v"))).collectAsList().stream()
        .map(row -> row.getString(0))
        .sorted()
        .toList();
  }

  private static String maxwell(
      String type,
      List<Integer> key,
      String value,
      Optional<List<Integer>> oldKey,
      int day,
      IntFunction<String> fileOfDay,
      long position) {
    String old =
        oldKey
            .map(k -> ",\"old\":{\"a\":" + k.get(0) + ",\"b\":" + k.get(1) + ",\"v\":\"x\"}")
            .orElse("");
    return "{\"database\":\"shop\",\"table\":\"lines\",\"type\":\""
        + type
        + "\",\"ts\":"
        + (1_790_000_000L + day * 86_400L)
        + ",\"commit\":true,\"position\":\""
        + fileOfDay.apply(day)
        + ":"
        + position
        + "\",\"data\":{\"a\":"
        + key.get(0)
        + ",\"b\":"
        + key.get(1)
        + ",\"v\":\""
        + value
        + "\"}"
        + old
        + "}";
  }

  private static int compare(List<Integer> one, List<Integer> other) {
    return one.toString().compareTo(other.toString());
  }
}
