package io.lambdalake.ingestion.collector.internal;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.config.LakeConfigLoader;
import java.util.HashMap;
import java.util.Map;

/** The configuration of conf/ with tracking IDs for tests laid over it. */
final class TestConfigs {
  static final String TRACKING_ID = "LL-TEST-0001";
  static final String SLOW_TRACKING_ID = "LL-TEST-SLOW";

  private TestConfigs() {}

  static LakeConfig lake() {
    return lake(Map.of());
  }

  static LakeConfig lake(Map<String, String> overrides) {
    Map<String, String> all = new HashMap<>();
    all.put("lake.collector.tracking-ids." + TRACKING_ID + ".merchant", "test-merchant");
    all.put("lake.collector.tracking-ids." + SLOW_TRACKING_ID + ".merchant", "slow-merchant");
    all.put(
        "lake.collector.tracking-ids." + SLOW_TRACKING_ID + ".rate-limit.events-per-second", "1");
    all.put("lake.collector.tracking-ids." + SLOW_TRACKING_ID + ".rate-limit.burst", "3");
    all.putAll(overrides);
    return LakeConfigLoader.load(Map.of(), all);
  }
}
