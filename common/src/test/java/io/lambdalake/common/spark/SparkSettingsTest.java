package io.lambdalake.common.spark;

import static org.assertj.core.api.Assertions.assertThat;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.config.LakeConfigLoader;
import java.nio.file.Path;
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
}
