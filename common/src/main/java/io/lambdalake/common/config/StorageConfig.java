package io.lambdalake.common.config;

import static io.lambdalake.common.config.Checks.checkNotBlank;

/** Where the Delta tables and the streaming checkpoints live (s3a:// URIs for Spark). */
public record StorageConfig(String root, String checkpoints) {
  public StorageConfig {
    root = stripTrailingSlash(checkNotBlank(root, "lake.storage.root"));
    checkpoints = stripTrailingSlash(checkNotBlank(checkpoints, "lake.storage.checkpoints"));
  }

  /**
   * The location of a table, e.g. {@code tableLocation("raw", "events")}, as Spark addresses it.
   */
  public String tableLocation(String zone, String table) {
    return root + "/" + checkNotBlank(zone, "zone") + "/" + checkNotBlank(table, "table");
  }

  /** The folder of a zone (a Trino schema), e.g. {@code zoneLocation("raw")}. */
  public String zoneLocation(String zone) {
    return root + "/" + checkNotBlank(zone, "zone");
  }

  /** The checkpoint folder of one streaming query. */
  public String checkpointLocation(String queryName) {
    return checkpoints + "/" + checkNotBlank(queryName, "queryName");
  }

  /** The same location as Trino addresses it: Trino's native S3 file system uses s3://. */
  public static String trinoLocation(String sparkLocation) {
    return sparkLocation.replaceFirst("^s3a://", "s3://");
  }

  private static String stripTrailingSlash(String value) {
    return value.endsWith("/") ? value.substring(0, value.length() - 1) : value;
  }
}
