package io.lambdalake.spark;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.launch.RunRecordWriter;
import io.lambdalake.common.spark.SparkSettings;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.SparkConf;

/**
 * Writes {@code --run-record s3a://...} through Hadoop's file systems (found by {@link
 * java.util.ServiceLoader}), with the same settings as {@link HadoopConfigFileReader}: the record
 * of a driver that a cluster started on a host of its choice lands where the submitter reads it.
 * S3A uploads the object when the stream closes, so a reader sees the whole record or none.
 */
public final class HadoopRunRecordWriter implements RunRecordWriter {
  private static final String SPARK_HADOOP_PREFIX = "spark.hadoop.";

  @Override
  public Set<String> schemes() {
    return Set.of("s3a", "s3");
  }

  @Override
  public void write(URI location, String text, Optional<LakeConfig> config) throws IOException {
    try (FileSystem fileSystem =
            FileSystem.newInstance(location, configuration(new SparkConf(), config));
        FSDataOutputStream output = fileSystem.create(new Path(location), true)) {
      output.write(text.getBytes(StandardCharsets.UTF_8));
    }
  }

  /**
   * Hadoop's configuration as the job's session had it: what spark-submit gave ({@code
   * spark.hadoop.*}) and, for the keys it left out, the lake's own S3A settings ({@code lake.s3}).
   * Without the latter a job run from the CLI or Airflow in local mode, whose S3 settings are the
   * lake's, could not write its record (found by ImportDagIT: NoAuthWithAWSException).
   */
  static Configuration configuration(SparkConf spark, Optional<LakeConfig> config) {
    Configuration configuration = HadoopConfigFileReader.configuration(spark);
    config.ifPresent(
        lake ->
            SparkSettings.forJob(lake)
                .forEach(
                    (key, value) -> {
                      if (key.startsWith(SPARK_HADOOP_PREFIX) && !spark.contains(key)) {
                        configuration.set(key.substring(SPARK_HADOOP_PREFIX.length()), value);
                      }
                    }));
    return configuration;
  }
}
