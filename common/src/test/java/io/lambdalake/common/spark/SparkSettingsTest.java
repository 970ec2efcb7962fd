package io.lambdalake.common.spark;

import static org.assertj.core.api.Assertions.assertThat;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.config.LakeConfigLoader;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SparkSettingsTest {
  private static final Map<String, String> ENVIRONMENT =
      Map.of(LakeConfigLoader.CONF_DIRECTORY_VARIABLE, Path.of("..", "conf").toString());

  @Test
  void conditionalCommitsPickTheLogStoreForS3Paths() {
    LakeConfig on =
        LakeConfigLoader.load(ENVIRONMENT, Map.of("lake.delta.conditional-commits", "true"));

    assertThat(SparkSettings.forJob(on))
        .containsEntry("spark.delta.logStore.s3a.impl", SparkSettings.CONDITIONAL_LOG_STORE)
        .containsEntry("spark.delta.logStore.s3.impl", SparkSettings.CONDITIONAL_LOG_STORE);
    assertThat(SparkSettings.forLocalSession(on))
        .containsEntry("spark.delta.logStore.s3a.impl", SparkSettings.CONDITIONAL_LOG_STORE);
  }

  @Test
  void withoutConditionalCommitsDeltaKeepsItsOwnLogStore() {
    LakeConfig off =
        LakeConfigLoader.load(ENVIRONMENT, Map.of("lake.delta.conditional-commits", "false"));

    assertThat(SparkSettings.forJob(off).keySet())
        .noneMatch(key -> key.startsWith("spark.delta.logStore."));
  }

  @Test
  void aLocalMasterBindsTheDriverToLoopbackAClusterMasterWhereSparkPicks() {
    LakeConfig local = LakeConfigLoader.load(ENVIRONMENT, Map.of("lake.spark.master", "local[2]"));
    LakeConfig standalone =
        LakeConfigLoader.load(ENVIRONMENT, Map.of("lake.spark.master", "spark://10.0.0.5:7077"));
    LakeConfig yarn = LakeConfigLoader.load(ENVIRONMENT, Map.of("lake.spark.master", "yarn"));

    assertThat(SparkSettings.forLocalSession(local))
        .containsEntry("spark.master", "local[2]")
        .containsEntry("spark.driver.host", "127.0.0.1")
        .containsEntry("spark.driver.bindAddress", "127.0.0.1");
    assertThat(SparkSettings.forLocalSession(standalone))
        .containsEntry("spark.master", "spark://10.0.0.5:7077")
        .doesNotContainKeys("spark.driver.host", "spark.driver.bindAddress");
    assertThat(SparkSettings.forLocalSession(yarn))
        .doesNotContainKeys("spark.driver.host", "spark.driver.bindAddress");
    assertThat(SparkSettings.forJob(local))
        .doesNotContainKeys("spark.driver.host", "spark.driver.bindAddress");
  }

  @Test
  void localMastersAreTheOnesThatRunInThisMachine() {
    assertThat(List.of("local", "local[2]", "local[*]", "local[4,3]", "local-cluster[2,1,1024]"))
        .allMatch(SparkSettings::isLocalMaster);
    assertThat(List.of("yarn", "spark://127.0.0.1:7077", "k8s://https://k8s:6443", "localhost"))
        .noneMatch(SparkSettings::isLocalMaster);
  }
}
