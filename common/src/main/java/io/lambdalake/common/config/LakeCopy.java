package io.lambdalake.common.config;

import static io.lambdalake.common.config.Checks.checkNotBlank;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The settings of a copy of the lake beside another on the same servers (a test's lake, a chaos
 * scenario's, a benchmark's, a staging copy): its storage root and checkpoints under {@code
 * s3a://bucket/name/}, and its own schema names ({@code lake.trino.schema-prefix}) in the catalog
 * both copies share. Without the prefix a copy's {@code raw.events} would take the name another
 * copy's table has in the Hive Metastore, and the jobs refuse that (docs/design.md, "A shared
 * catalog").
 */
public final class LakeCopy {
  private LakeCopy() {}

  /**
   * Overrides (keys like {@code lake.storage.root}) for the copy {@code name} in {@code bucket}.
   */
  public static Map<String, String> overrides(String bucket, String name) {
    checkNotBlank(bucket, "bucket");
    checkNotBlank(name, "name");
    Map<String, String> overrides = new LinkedHashMap<>();
    overrides.put("lake.storage.root", "s3a://" + bucket + "/" + name + "/warehouse");
    overrides.put("lake.storage.checkpoints", "s3a://" + bucket + "/" + name + "/checkpoints");
    overrides.put("lake.trino.schema-prefix", schemaPrefix(name));
    return overrides;
  }

  /**
   * {@code name} in the letters a schema prefix allows, and an underscore: {@code a-b} is {@code
   * a_b_}.
   */
  static String schemaPrefix(String name) {
    return name.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_]", "_") + "_";
  }
}
