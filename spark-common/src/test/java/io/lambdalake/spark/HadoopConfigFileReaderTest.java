package io.lambdalake.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lambdalake.common.config.ConfigFileReader;
import io.lambdalake.common.config.ConfigFileSources;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkConf;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HadoopConfigFileReaderTest {
  @Test
  void isInstalledForS3Urls() {
    ConfigFileSources installed = ConfigFileSources.installed();

    assertThat(installed.readerFor("s3a")).get().isInstanceOf(HadoopConfigFileReader.class);
    assertThat(installed.readerFor("s3")).get().isInstanceOf(HadoopConfigFileReader.class);
    assertThat(installed.readerFor("hdfs")).isEmpty();
  }

  @Test
  void readsWithTheSparkHadoopValuesSparkSubmitPasses() {
    SparkConf spark =
        new SparkConf(false)
            .set("spark.hadoop.fs.s3a.endpoint", "http://s3.internal:9000")
            .set("spark.hadoop.fs.s3a.path.style.access", "true")
            .set("spark.sql.shuffle.partitions", "8");

    Configuration configuration = HadoopConfigFileReader.configuration(spark);

    assertThat(configuration.get("fs.s3a.endpoint")).isEqualTo("http://s3.internal:9000");
    assertThat(configuration.get("fs.s3a.path.style.access")).isEqualTo("true");
    assertThat(configuration.get("spark.sql.shuffle.partitions")).isNull();
    assertThat(configuration.get("fs.s3.impl")).isEqualTo("org.apache.hadoop.fs.s3a.S3AFileSystem");
  }

  @Test
  void leavesS3ToTheClustersFileSystemWhenItMapsOne() {
    SparkConf spark =
        new SparkConf(false)
            .set("spark.hadoop.fs.s3.impl", "com.amazon.ws.emr.hadoop.fs.EmrFileSystem");

    assertThat(HadoopConfigFileReader.configuration(spark).get("fs.s3.impl"))
        .isEqualTo("com.amazon.ws.emr.hadoop.fs.EmrFileSystem");
  }

  /** Through Hadoop's local file system: the same FileSystem calls S3A answers. */
  @Test
  void readsTheFileThroughHadoop(@TempDir Path directory) throws IOException {
    Path file = directory.resolve("lake.conf");
    Files.writeString(file, "lake.s3.bucket = \"from-hadoop\"\n");
    ConfigFileReader reader = new HadoopConfigFileReader();

    assertThat(reader.read(file.toUri())).isEqualTo("lake.s3.bucket = \"from-hadoop\"\n");
    assertThatThrownBy(() -> reader.read(directory.resolve("missing.conf").toUri()))
        .isInstanceOf(FileNotFoundException.class)
        .hasMessageContaining(directory.resolve("missing.conf").toString());
  }
}
