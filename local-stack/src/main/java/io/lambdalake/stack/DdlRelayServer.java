package io.lambdalake.stack;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.ingestion.cdc.relay.DdlRelay;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The DDL relay beside Maxwell ({@link DdlRelay}): the binlog's TRUNCATE, DROP, RENAME, ALTER and
 * CREATE TABLE into each table's Maxwell topic, for every database of the local MariaDB. It runs on
 * this JVM's class path, which holds the relay, and remembers its position in its folder.
 */
public final class DdlRelayServer extends ManagedServer {
  public static final String NAME = "ddl-relay";
  private final LakeConfig config;
  private final StackLayout layout;

  public DdlRelayServer(LakeConfig config, StackLayout layout) {
    super(NAME, layout);
    this.config = config;
    this.layout = layout;
  }

  @Override
  public String address() {
    return "binlog of 127.0.0.1:"
        + config.mariaDb().port()
        + " (DDL) -> "
        + config.topics().cdcMaxwellPrefix()
        + "*";
  }

  @Override
  protected void prepare() {}

  @Override
  protected List<Integer> ports() {
    return List.of();
  }

  @Override
  protected List<String> command() {
    return List.of(
        javaExecutable(),
        "-Xmx128m",
        "-cp",
        System.getProperty("java.class.path"),
        DdlRelay.class.getName(),
        "--position-file",
        positionFile().toString());
  }

  @Override
  protected Map<String, String> environment() {
    return Map.of("LAKE_CONF_DIR", layout.confDirectory().toString());
  }

  /** The relay writes its position as soon as it follows the binlog. */
  @Override
  public void probe() {
    if (!Files.exists(positionFile())) {
      throw new IllegalStateException("the relay has not connected to the binlog yet");
    }
  }

  private Path positionFile() {
    return home().resolve("position");
  }
}
