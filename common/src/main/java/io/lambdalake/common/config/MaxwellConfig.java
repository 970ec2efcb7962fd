package io.lambdalake.common.config;

import static io.lambdalake.common.config.Checks.checkNotBlank;
import static io.lambdalake.common.config.Checks.checkPositive;

/** Maxwell's Daemon: its replication account, replica id, client id and schema store. */
public record MaxwellConfig(
    String user, String password, int replicaServerId, String clientId, String schemaDatabase) {
  public MaxwellConfig {
    checkNotBlank(user, "lake.maxwell.user");
    checkNotBlank(password, "lake.maxwell.password");
    checkPositive(replicaServerId, "lake.maxwell.replica-server-id");
    checkNotBlank(clientId, "lake.maxwell.client-id");
    checkNotBlank(schemaDatabase, "lake.maxwell.schema-database");
  }

  @Override
  public String toString() {
    return "MaxwellConfig[user=%s, replicaServerId=%d, clientId=%s, schemaDatabase=%s]"
        .formatted(user, replicaServerId, clientId, schemaDatabase);
  }
}
