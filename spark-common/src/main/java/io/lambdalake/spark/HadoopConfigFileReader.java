package io.lambdalake.spark;

import io.lambdalake.common.config.ConfigFileReader;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.SparkConf;
import scala.Tuple2;

/**
 * Reads the configuration file {@code LAKE_CONFIG_FILE} names by an {@code s3a://} or {@code s3://}
 * URL through Hadoop's file systems, before any SparkSession exists (found by {@link
 * java.util.ServiceLoader}). The lake's own S3 settings are what the file holds, so the file is
 * read with what the cluster gives: Hadoop's site files, the {@code spark.hadoop.*} values
 * spark-submit passes (its {@code --conf}), and the AWS default credential chain.
 */
public final class HadoopConfigFileReader implements ConfigFileReader {
  private static final String SPARK_HADOOP_PREFIX = "spark.hadoop.";

  @Override
  public Set<String> schemes() {
    return Set.of("s3a", "s3");
  }

  @Override
  public String read(URI location) throws IOException {
    try (FileSystem fileSystem = FileSystem.newInstance(location, configuration(new SparkConf()));
        FSDataInputStream input = fileSystem.open(new Path(location))) {
      return new String(input.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  /**
   * Hadoop's configuration with the {@code spark.hadoop.*} values of this Spark configuration, as
   * Spark builds its own; {@code s3://} is read through S3A unless the cluster maps it (EMRFS).
   */
  static Configuration configuration(SparkConf spark) {
    Configuration configuration = new Configuration();
    for (Tuple2<String, String> entry : spark.getAll()) {
      if (entry._1().startsWith(SPARK_HADOOP_PREFIX)) {
        configuration.set(entry._1().substring(SPARK_HADOOP_PREFIX.length()), entry._2());
      }
    }
    for (Map.Entry<String, String> mapping :
        Map.of(
                "fs.s3.impl", "org.apache.hadoop.fs.s3a.S3AFileSystem",
                "fs.AbstractFileSystem.s3.impl", "org.apache.hadoop.fs.s3a.S3A")
            .entrySet()) {
      configuration.setIfUnset(mapping.getKey(), mapping.getValue());
    }
    return configuration;
  }
}
