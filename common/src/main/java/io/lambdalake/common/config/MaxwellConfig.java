package io.lambdalake.common.config;

import static io.lambdalake.common.config.Checks.checkNotBlank;
import static io.lambdalake.common.config.Checks.checkPositive;

/**
 * Maxwell's Daemon: its replication account, replica id, client id and schema store; and the DDL
 * relay beside it (same account, its own replica id), which publishes the DDL Maxwell does not.
 */
public record MaxwellConfig(
    String user,
    String password,
    int replicaServerId,
    String clientId,
    String schemaDatabase,
    int ddlRelayServerId) {
  public MaxwellConfig {
    checkNotBlank(user, "lake.maxwell.user");
    checkNotBlank(password, "lake.maxwell.password");
    checkPositive(replicaServerId, "lake.maxwell.replica-server-id");
    checkNotBlank(clientId, "lake.maxwell.client-id");
    checkNotBlank(schemaDatabase, "lake.maxwell.schema-database");
    checkPositive(ddlRelayServerId, "lake.maxwell.ddl-relay-server-id");
    if (ddlRelayServerId == replicaServerId) {
      throw new IllegalArgumentException(
          "lake.maxwell.ddl-relay-server-id must differ from lake.maxwell.replica-server-id ("
              + replicaServerId
              + "): a source drops one of two replicas with the same id");
    }
  }

  @Override
  public String toString() {
    return ("MaxwellConfig[user=%s, replicaServerId=%d, clientId=%s, schemaDatabase=%s,"
            + " ddlRelayServerId=%d]")
        .formatted(user, replicaServerId, clientId, schemaDatabase, ddlRelayServerId);
  }
}
