package io.lambdalake.spark;

import static org.assertj.core.api.Assertions.assertThat;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.config.LakeConfigLoader;
import io.lambdalake.common.launch.RunRecordWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkConf;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HadoopRunRecordWriterTest {
  private static final LakeConfig CONFIG =
      LakeConfigLoader.load(
          Map.of(LakeConfigLoader.CONF_DIRECTORY_VARIABLE, Path.of("..", "conf").toString()),
          Map.of());

  /**
   * A job run from the CLI or Airflow in local mode has the lake's S3 settings, not spark-submit's:
   * the record goes with them, and a value spark-submit gave still wins.
   */
  @Test
  void writesWithTheLakesS3SettingsWhereSparkSubmitGaveNone() {
    SparkConf submitted =
        new SparkConf(false)
            .set("spark.hadoop.fs.s3a.endpoint", "https://s3.eu-west-1.amazonaws.com");

    Configuration configuration =
        HadoopRunRecordWriter.configuration(submitted, Optional.of(CONFIG));

    assertThat(configuration.get("fs.s3a.endpoint"))
        .isEqualTo("https://s3.eu-west-1.amazonaws.com");
    assertThat(configuration.get("fs.s3a.access.key"))
        .isEqualTo(CONFIG.s3().accessKey().orElseThrow());
    assertThat(configuration.get("fs.s3a.path.style.access")).isEqualTo("true");
    assertThat(configuration.get("fs.s3a.aws.credentials.provider"))
        .isEqualTo("org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider");
    assertThat(
            HadoopRunRecordWriter.configuration(submitted, Optional.empty())
                .get("fs.s3a.access.key"))
        .isNull();
  }

  @Test
  void isInstalledForS3Urls() {
    assertThat(ServiceLoader.load(RunRecordWriter.class).stream().map(ServiceLoader.Provider::get))
        .anySatisfy(
            writer ->
                assertThat(writer)
                    .isInstanceOf(HadoopRunRecordWriter.class)
                    .extracting(RunRecordWriter::schemes)
                    .asInstanceOf(org.assertj.core.api.InstanceOfAssertFactories.ITERABLE)
                    .containsExactlyInAnyOrder("s3a", "s3"));
  }

  /** Through Hadoop's local file system: the same FileSystem calls S3A answers. */
  @Test
  void replacesTheRecordThroughHadoop(@TempDir Path directory) throws IOException {
    Path file = directory.resolve("runs").resolve("batch.json");
    RunRecordWriter writer = new HadoopRunRecordWriter();

    writer.write(file.toUri(), "{\"exit_code\": 75}\n", Optional.empty());
    writer.write(file.toUri(), "{\"exit_code\": 0}\n", Optional.of(CONFIG));

    assertThat(Files.readString(file, StandardCharsets.UTF_8)).isEqualTo("{\"exit_code\": 0}\n");
  }
}
