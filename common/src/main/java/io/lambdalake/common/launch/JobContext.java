package io.lambdalake.common.launch;

import static java.util.Objects.requireNonNull;

import io.lambdalake.common.config.LakeConfig;
import java.util.LinkedHashMap;
import java.util.Map;

/** What the launcher hands a running {@link Job}: the configuration and where counts go. */
public final class JobContext {
  private final LakeConfig config;
  private final Map<String, Long> counts = new LinkedHashMap<>();

  JobContext(LakeConfig config) {
    this.config = requireNonNull(config, "config is null");
  }

  /** The configuration, loaded once by the launcher. */
  public LakeConfig config() {
    return config;
  }

  /** Records a count for the run record, e.g. {@code count("rows", 1200)}; the last value wins. */
  public synchronized void count(String name, long value) {
    requireNonNull(name, "name is null");
    counts.put(name, value);
  }

  synchronized Map<String, Long> counts() {
    return new LinkedHashMap<>(counts);
  }
}
