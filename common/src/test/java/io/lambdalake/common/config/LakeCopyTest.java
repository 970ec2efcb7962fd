package io.lambdalake.common.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class LakeCopyTest {
  @Test
  void aCopyHasItsOwnRootCheckpointsAndSchemaNames() {
    Map<String, String> overrides = LakeCopy.overrides("lake", "chaos-Kill-1");

    LakeConfig config = LakeConfigLoader.load(Map.of(), overrides);

    assertThat(config.storage().root()).isEqualTo("s3a://lake/chaos-Kill-1/warehouse");
    assertThat(config.storage().checkpoints()).isEqualTo("s3a://lake/chaos-Kill-1/checkpoints");
    assertThat(config.trino().schema("raw")).isEqualTo("chaos_kill_1_raw");
  }
}
