package io.lambdalake.spark;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.spark.SparkSettings;
import java.util.function.Function;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/**
 * Builds the SparkSession of a job's {@code main}: the one place a session is built outside tests.
 * Under spark-submit the master and resources come from spark-submit; run from {@code lake} on this
 * machine, from {@code lake.spark.*} in conf/.
 */
public final class LakeSpark {
  private LakeSpark() {}

  public static SparkSession session(LakeConfig config, String applicationName) {
    SparkConf existing = new SparkConf();
    boolean submitted = existing.contains("spark.master");
    SparkSession.Builder builder = SparkSession.builder().appName(applicationName);
    (submitted ? SparkSettings.forJob(config) : SparkSettings.forLocalSession(config))
        .forEach(builder::config);
    return builder.getOrCreate();
  }

  /** Runs a batch job in a session of its own, stopped when the job returns or fails. */
  public static <T> T runInOwnSession(
      LakeConfig config, String applicationName, Function<SparkSession, T> job) {
    SparkSession spark = session(config, applicationName);
    try {
      return job.apply(spark);
    } finally {
      spark.stop();
    }
  }
}
