package io.lambdalake.spark;

import static org.assertj.core.api.Assertions.assertThat;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.config.LakeConfigLoader;
import io.lambdalake.common.spark.SparkSettings;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.SparkConf;
import org.junit.jupiter.api.Test;

class LakeSparkTest {
  private static final LakeConfig CONFIG =
      LakeConfigLoader.load(
          Map.of(LakeConfigLoader.CONF_DIRECTORY_VARIABLE, Path.of("..", "conf").toString()),
          Map.of());

  /** What spark-submit --master yarn --conf ... puts in the driver's SparkConf. */
  @Test
  void submittedValuesWinOverTheJobsDefaults() {
    SparkConf submitted =
        new SparkConf(false)
            .set("spark.master", "yarn")
            .set("spark.sql.shuffle.partitions", "400")
            .set("spark.hadoop.fs.s3a.endpoint", "https://s3.eu-west-1.amazonaws.com")
            .set("spark.executor.memory", "8g");

    LakeSpark.Settings settings = LakeSpark.settings(CONFIG, submitted);

    assertThat(settings.leftOut())
        .containsExactly("spark.hadoop.fs.s3a.endpoint", "spark.sql.shuffle.partitions");
    Map<String, String> expected = new HashMap<>(SparkSettings.forJob(CONFIG));
    expected.remove("spark.sql.shuffle.partitions");
    expected.remove("spark.hadoop.fs.s3a.endpoint");
    assertThat(settings.applied()).isEqualTo(expected);
    assertThat(SparkSettings.forJob(CONFIG))
        .containsKeys("spark.sql.shuffle.partitions", "spark.hadoop.fs.s3a.endpoint");
  }

  @Test
  void aSubmittedJobGetsTheJobsSettingsOnly() {
    LakeSpark.Settings settings =
        LakeSpark.settings(CONFIG, new SparkConf(false).set("spark.master", "spark://m:7077"));

    assertThat(settings.applied()).isEqualTo(SparkSettings.forJob(CONFIG));
    assertThat(settings.applied()).doesNotContainKeys("spark.master", "spark.driver.host");
    assertThat(settings.leftOut()).isEmpty();
  }

  @Test
  void outsideSparkSubmitTheSessionIsLocal() {
    LakeSpark.Settings settings = LakeSpark.settings(CONFIG, new SparkConf(false));

    assertThat(settings.applied()).isEqualTo(SparkSettings.forLocalSession(CONFIG));
    assertThat(settings.leftOut()).isEqualTo(List.of());
  }
}
