package io.lambdalake.common.config;

import static io.lambdalake.common.config.Checks.checkNotBlank;

/** How to reach Trino, and the name of the lake's Delta Lake catalog there. */
public record TrinoConfig(String url, String user, String catalog) {
  public TrinoConfig {
    checkNotBlank(url, "lake.trino.url");
    if (!url.startsWith("jdbc:trino://")) {
      throw Checks.invalid("lake.trino.url", url, "a JDBC URL starting with jdbc:trino://");
    }
    checkNotBlank(user, "lake.trino.user");
    checkNotBlank(catalog, "lake.trino.catalog");
  }
}
