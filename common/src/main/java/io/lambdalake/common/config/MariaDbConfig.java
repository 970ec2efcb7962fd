package io.lambdalake.common.config;

import static io.lambdalake.common.config.Checks.checkNotBlank;
import static io.lambdalake.common.config.Checks.checkPort;
import static io.lambdalake.common.config.Checks.checkPositive;

/** The MariaDB/MySQL source database and the account the lake reads it with. */
public record MariaDbConfig(String host, int port, String user, String password, int serverId) {
  public MariaDbConfig {
    checkNotBlank(host, "lake.mariadb.host");
    checkPort(port, "lake.mariadb.port");
    checkNotBlank(user, "lake.mariadb.user");
    checkNotBlank(password, "lake.mariadb.password");
    checkPositive(serverId, "lake.mariadb.server-id");
  }

  /** A JDBC URL for one database of the source, e.g. {@code jdbcUrl("shop")}. */
  public String jdbcUrl(String database) {
    return "jdbc:mariadb://" + host + ":" + port + "/" + database;
  }

  @Override
  public String toString() {
    return "MariaDbConfig[host=%s, port=%d, user=%s, serverId=%d]"
        .formatted(host, port, user, serverId);
  }
}
