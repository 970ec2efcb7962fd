package io.lambdalake.spark.delta;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.config.LakeConfigLoader;
import io.lambdalake.spark.LakeSpark;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * One of the writers of {@link ConditionalLogStoreIT}, in a JVM of its own: it builds its session
 * as every job does ({@link LakeSpark}, with the lake configuration of its system properties) and
 * appends one commit per round to the table, each released by the test's barrier.
 *
 * <p>Arguments: the table's location, the writer's name, the number of rounds, the barrier's port.
 * Protocol, one line each: the writer sends {@code ready <round>} once its rows are prepared, waits
 * for {@code go <round>}, appends, and sends {@code committed <round>}, or {@code failed <round>
 * <error>} and exits 1.
 */
public final class RacingWriter {
  static final int ROWS_PER_COMMIT = 3;
  static final StructType SCHEMA =
      new StructType()
          .add("writer", DataTypes.StringType, false)
          .add("round", DataTypes.IntegerType, false)
          .add("row", DataTypes.IntegerType, false);

  private RacingWriter() {}

  public static void main(String[] arguments) throws IOException {
    String table = arguments[0];
    String writer = arguments[1];
    int rounds = Integer.parseInt(arguments[2]);
    int port = Integer.parseInt(arguments[3]);
    LakeConfig config = LakeConfigLoader.load();
    SparkSession spark = LakeSpark.session(config, "commit-race-" + writer);
    try (Socket barrier = new Socket(InetAddress.getLoopbackAddress(), port);
        BufferedReader in =
            new BufferedReader(new InputStreamReader(barrier.getInputStream(), UTF_8));
        PrintWriter out = new PrintWriter(barrier.getOutputStream(), true, UTF_8)) {
      for (int round = 1; round <= rounds; round++) {
        Dataset<Row> rows = spark.createDataFrame(rows(writer, round), SCHEMA).coalesce(1);
        out.println("ready " + round);
        String signal = in.readLine();
        if (!("go " + round).equals(signal)) {
          throw new IllegalStateException("Expected go " + round + " from the barrier: " + signal);
        }
        try {
          rows.write().format("delta").mode("append").save(table);
        } catch (RuntimeException e) {
          out.println("failed " + round + " " + e.toString().lines().findFirst().orElse(""));
          e.printStackTrace();
          System.exit(1);
        }
        out.println("committed " + round);
      }
    } finally {
      spark.stop();
    }
  }

  private static List<Row> rows(String writer, int round) {
    List<Row> rows = new ArrayList<>();
    for (int row = 0; row < ROWS_PER_COMMIT; row++) {
      rows.add(RowFactory.create(writer, round, row));
    }
    return rows;
  }
}
