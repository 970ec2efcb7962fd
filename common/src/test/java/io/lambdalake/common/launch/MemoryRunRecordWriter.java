package io.lambdalake.common.launch;

import io.lambdalake.common.config.LakeConfig;
import java.io.IOException;
import java.net.URI;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** A {@link RunRecordWriter} for {@code mem://} URLs, found by the ServiceLoader in tests. */
public final class MemoryRunRecordWriter implements RunRecordWriter {
  static final Map<URI, String> WRITTEN = new ConcurrentHashMap<>();

  @Override
  public Set<String> schemes() {
    return Set.of("mem");
  }

  @Override
  public void write(URI location, String text, Optional<LakeConfig> config) throws IOException {
    if (config.isEmpty()) {
      throw new IOException("no configuration");
    }
    if (location.getHost().equals("unwritable")) {
      throw new IOException("Access Denied");
    }
    WRITTEN.put(location, text);
  }
}
