package io.lambdalake.common.config;

import static io.lambdalake.common.config.Checks.checkNotBlank;
import static java.util.Objects.requireNonNull;

import java.util.regex.Pattern;

/**
 * How to reach Trino, and the name of the lake's Delta Lake catalog there. The schemas of the
 * catalog are the lake's zones ({@code raw}, {@code batch}, {@code speed}, {@code serving}, ...),
 * each prefixed with {@code schemaPrefix} (empty by default): a second copy of the lake, such as a
 * staging copy or a test's, can then share the catalog.
 */
public record TrinoConfig(String url, String user, String catalog, String schemaPrefix) {
  private static final Pattern SCHEMA_PREFIX = Pattern.compile("[a-z0-9_]*");

  public TrinoConfig {
    checkNotBlank(url, "lake.trino.url");
    if (!url.startsWith("jdbc:trino://")) {
      throw Checks.invalid("lake.trino.url", url, "a JDBC URL starting with jdbc:trino://");
    }
    checkNotBlank(user, "lake.trino.user");
    checkNotBlank(catalog, "lake.trino.catalog");
    requireNonNull(schemaPrefix, "schemaPrefix is null");
    if (!SCHEMA_PREFIX.matcher(schemaPrefix).matches()) {
      throw Checks.invalid(
          "lake.trino.schema-prefix",
          schemaPrefix,
          "empty or made of lower-case letters, digits and underscores");
    }
  }

  /** Without a schema prefix: the zones are the schema names. */
  public TrinoConfig(String url, String user, String catalog) {
    this(url, user, catalog, "");
  }

  /** The Trino schema of a zone, e.g. {@code schema("raw")} is {@code raw} without a prefix. */
  public String schema(String zone) {
    return schemaPrefix + checkNotBlank(zone, "zone");
  }
}
