package io.lambdalake.stack.testing;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.spark.SparkSettings;
import org.apache.spark.sql.SparkSession;

/**
 * The one SparkSession of a test JVM: local[2], UI off, bound to 127.0.0.1, Delta and S3A pointed
 * at the local stack, stopped when the JVM exits.
 */
public final class TestSpark {
  private static SparkSession session;

  private TestSpark() {}

  public static synchronized SparkSession session() {
    if (session == null) {
      LakeConfig config = SharedStack.config();
      SparkSession.Builder builder = SparkSession.builder().appName("lambda-lake-tests");
      SparkSettings.forLocalSession(config).forEach(builder::config);
      builder.config("spark.sql.shuffle.partitions", "2");
      builder.config("spark.databricks.delta.snapshotPartitions", "2");
      session = builder.getOrCreate();
      SparkSession created = session;
      Runtime.getRuntime().addShutdownHook(new Thread(created::stop, "spark-shutdown"));
    }
    return session;
  }
}
