package io.lambdalake.spark.bench;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.config.LakeConfigLoader;
import io.lambdalake.spark.LakeSpark;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.sql.SparkSession;

/**
 * {@code scripts/bench delta-commits}: the cost of a small Delta commit and the read after it, as
 * every micro-batch, MERGE and day of the lake pays it. The project's setting of {@code
 * spark.databricks.delta.snapshotPartitions} (as many tasks as a shuffle) against Delta's default
 * of 50, on tables of their own, in alternating rounds of the same run.
 */
public final class DeltaCommitBenchmark {
  private static final String SNAPSHOT_PARTITIONS = "spark.databricks.delta.snapshotPartitions";
  private static final String DELTA_DEFAULT = "50";

  private DeltaCommitBenchmark() {}

  public static void main(String[] arguments) {
    int commits = arguments.length > 0 ? Integer.parseInt(arguments[0]) : 20;
    int rounds = arguments.length > 1 ? Integer.parseInt(arguments[1]) : 2;
    LakeConfig config = LakeConfigLoader.load(System.getenv(), Map.of());
    SparkSession spark = LakeSpark.session(config, "lambda-lake-bench-delta-commits");
    String project = spark.conf().get(SNAPSHOT_PARTITIONS);
    double projectSeconds = 0;
    double defaultSeconds = 0;
    for (int round = 1; round <= rounds; round++) {
      projectSeconds += timeCommits(spark, config, project, commits, round);
      defaultSeconds += timeCommits(spark, config, DELTA_DEFAULT, commits, round);
    }
    spark.conf().set(SNAPSHOT_PARTITIONS, project);
    System.out.printf(
        Locale.ROOT,
        "delta-commits: commits=%d snapshot_partitions=%s seconds=%.1f default_seconds=%.1f"
            + " ratio=%.2f%n",
        commits * rounds,
        project,
        projectSeconds,
        defaultSeconds,
        projectSeconds / defaultSeconds);
    spark.stop();
  }

  private static double timeCommits(
      SparkSession spark, LakeConfig config, String partitions, int commits, int round) {
    spark.conf().set(SNAPSHOT_PARTITIONS, partitions);
    String location =
        config.storage().tableLocation("bench", "delta_commits_p" + partitions + "_r" + round);
    long started = System.nanoTime();
    for (int commit = 0; commit < commits; commit++) {
      spark
          .range(commit * 100L, commit * 100L + 100)
          .toDF("id")
          .write()
          .format("delta")
          .mode("append")
          .save(location);
      long rows = spark.read().format("delta").load(location).count();
      if (rows != (commit + 1) * 100L) {
        throw new IllegalStateException(location + " has " + rows + " rows after commit " + commit);
      }
    }
    double seconds = (System.nanoTime() - started) / 1e9;
    System.out.printf(
        Locale.ROOT,
        "round %d, snapshotPartitions=%s: %d commits, each read back, in %.1f s%n",
        round,
        partitions,
        commits,
        seconds);
    return seconds;
  }
}
