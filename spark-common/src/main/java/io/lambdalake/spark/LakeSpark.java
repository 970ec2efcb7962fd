package io.lambdalake.spark;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.spark.SparkSettings;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds the SparkSession of a job's {@code main}: the one place a session is built outside tests.
 * Under spark-submit the master and resources come from spark-submit; run from {@code lake} on this
 * machine, from {@code lake.spark.*} in conf/. Either way a setting already given to Spark ({@code
 * spark-submit --conf}, spark-defaults.conf) wins over the lake's default for it.
 */
public final class LakeSpark {
  private static final Logger LOG = LoggerFactory.getLogger(LakeSpark.class);

  private LakeSpark() {}

  public static SparkSession session(LakeConfig config, String applicationName) {
    DriverJvm.requireSparkModuleOptions();
    Settings settings = settings(config, new SparkConf());
    if (!settings.leftOut().isEmpty()) {
      LOG.warn(
          "Spark settings given to spark-submit (--conf, spark-defaults.conf) win over the lake's"
              + " defaults for them; left out: {}",
          String.join(", ", settings.leftOut()));
    }
    SparkSession.Builder builder = SparkSession.builder().appName(applicationName);
    settings.applied().forEach(builder::config);
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

  /**
   * The lake's settings for a session started with this Spark configuration: a job's when
   * spark-submit set the master, a local session's otherwise; those the configuration already has
   * are left out, so that its values stay.
   */
  static Settings settings(LakeConfig config, SparkConf given) {
    Map<String, String> defaults =
        given.contains("spark.master")
            ? SparkSettings.forJob(config)
            : SparkSettings.forLocalSession(config);
    Map<String, String> applied = new LinkedHashMap<>();
    defaults.forEach(
        (key, value) -> {
          if (!given.contains(key)) {
            applied.put(key, value);
          }
        });
    return new Settings(
        applied, defaults.keySet().stream().filter(given::contains).sorted().toList());
  }

  /** The settings a session is built with, and the keys of the defaults left out for the given. */
  record Settings(Map<String, String> applied, List<String> leftOut) {
    Settings {
      applied = Map.copyOf(applied);
      leftOut = List.copyOf(leftOut);
    }
  }
}
