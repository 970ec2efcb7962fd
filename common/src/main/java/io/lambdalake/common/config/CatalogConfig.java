package io.lambdalake.common.config;

import static io.lambdalake.common.config.Checks.checkNotBlank;
import static java.util.Objects.requireNonNull;

import java.util.Locale;

/**
 * Where the names of the lake's tables live. {@link Type#THRIFT}: a Hive Metastore at {@code
 * metastoreUri}, which Spark jobs register their tables in and Trino's Delta catalog reads, so a
 * table a job writes is {@code schema.table} in both. {@link Type#FILE}: Trino's own file metastore
 * in the lake's bucket; Spark knows tables by path only and {@code lake serving init} registers
 * them in Trino (docs/design.md, "A shared catalog").
 */
public record CatalogConfig(Type type, String metastoreUri) {
  /** The kinds of catalog, by their name in {@code lake.catalog.type}. */
  public enum Type {
    FILE("file"),
    THRIFT("thrift");

    private final String configName;

    Type(String configName) {
      this.configName = configName;
    }

    public String configName() {
      return configName;
    }

    static Type parse(String value) {
      String name = checkNotBlank(value, "lake.catalog.type").strip().toLowerCase(Locale.ROOT);
      for (Type type : values()) {
        if (type.configName.equals(name)) {
          return type;
        }
      }
      throw Checks.invalid("lake.catalog.type", value, "file or thrift");
    }
  }

  public CatalogConfig {
    requireNonNull(type, "type is null");
    checkNotBlank(metastoreUri, "lake.catalog.metastore-uri");
    if (!metastoreUri.startsWith("thrift://")) {
      throw Checks.invalid(
          "lake.catalog.metastore-uri", metastoreUri, "a URI starting with thrift://");
    }
  }

  static CatalogConfig of(String type, String metastoreUri) {
    return new CatalogConfig(Type.parse(type), metastoreUri);
  }

  /** Whether Spark and Trino share the names of the tables through the Hive Metastore. */
  public boolean isShared() {
    return type == Type.THRIFT;
  }
}
