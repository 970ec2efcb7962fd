package io.lambdalake.spark;

import static java.util.Objects.requireNonNull;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.config.StorageConfig;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.common.table.LakeTable;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gives the Delta tables a job writes by path their names in the shared catalog (a Hive Metastore,
 * {@code lake.catalog.type = thrift}): {@code CREATE DATABASE IF NOT EXISTS zone LOCATION ...} and
 * {@code CREATE TABLE IF NOT EXISTS zone.table USING delta LOCATION ...}, so that Trino and other
 * Spark applications read them as {@code zone.table}. The names are Trino's schema names ({@code
 * lake.trino.schema-prefix} and the zone). Registering writes nothing to the table's Delta log.
 * With Trino's file metastore ({@code file}) it does nothing: {@code lake serving init} registers
 * the tables in Trino.
 */
public final class CatalogNames {
  private static final Logger LOG = LoggerFactory.getLogger(CatalogNames.class);
  private static final Set<String> REGISTERED = ConcurrentHashMap.newKeySet();
  private static final AtomicBoolean WARNED = new AtomicBoolean();

  private CatalogNames() {}

  /** Registers one of the lake's fixed tables at its location. */
  public static void register(SparkSession spark, LakeConfig config, LakeTable table) {
    register(spark, config, table.zone(), table.table(), table.location(config.storage()));
  }

  /**
   * Registers the Delta table at {@code location} as {@code zone.table} unless the catalog has that
   * name already.
   *
   * @throws LakeException {@link ErrorCode#CATALOG_NAME_TAKEN} when the name is the table at
   *     another location (another copy of the lake without a schema prefix of its own)
   */
  public static void register(
      SparkSession spark, LakeConfig config, String zone, String table, String location) {
    requireNonNull(spark, "spark is null");
    requireNonNull(config, "config is null");
    requireNonNull(location, "location is null");
    if (!config.catalog().isShared()) {
      return;
    }
    if (!isHiveSession(spark)) {
      if (WARNED.compareAndSet(false, true)) {
        LOG.warn(
            "lake.catalog.type is thrift, but this Spark session's catalog is {}: the tables it"
                + " writes get no names in the metastore (set"
                + " spark.sql.catalogImplementation=hive, or leave it to the lake's defaults)",
            spark.conf().get("spark.sql.catalogImplementation", "in-memory"));
      }
      return;
    }
    String schema = config.trino().schema(zone);
    String name = schema + "." + table;
    if (REGISTERED.contains(name + " " + location)) {
      return;
    }
    try {
      spark.sql(
          "CREATE DATABASE IF NOT EXISTS "
              + quoted(schema)
              + " LOCATION "
              + literal(config.storage().zoneLocation(zone)));
      spark.sql(
          "CREATE TABLE IF NOT EXISTS "
              + quoted(schema)
              + "."
              + quoted(table)
              + " USING delta LOCATION "
              + literal(location));
    } catch (RuntimeException e) {
      throw new LakeException(
          ErrorCode.SERVER_NOT_AVAILABLE,
          "Cannot register "
              + name
              + " in the metastore at "
              + config.catalog().metastoreUri()
              + ": "
              + e.getMessage(),
          e);
    }
    String registered = registeredLocation(spark, schema, table);
    if (!sameLocation(registered, location)) {
      // A name is one table: Trino and every Spark application would read the other one.
      throw new LakeException(
          ErrorCode.CATALOG_NAME_TAKEN,
          name
              + " names the Delta table at "
              + registered
              + " in the metastore at "
              + config.catalog().metastoreUri()
              + ", not the one this job writes at "
              + location
              + ": give this copy of the lake its own lake.trino.schema-prefix, or, if the lake"
              + " moved, drop the old name first (Trino: CALL "
              + config.trino().catalog()
              + ".system.unregister_table('"
              + schema
              + "', '"
              + table
              + "'))");
    }
    LOG.info("{} is registered in the metastore ({})", name, location);
    REGISTERED.add(name + " " + location);
  }

  private static String registeredLocation(SparkSession spark, String schema, String table) {
    return spark
        .sql("DESCRIBE DETAIL " + quoted(schema) + "." + quoted(table))
        .select("location")
        .first()
        .getString(0);
  }

  /** Spark's s3a:// and Trino's s3:// name the same objects; a trailing slash changes nothing. */
  static boolean sameLocation(String one, String other) {
    return normalized(one).equals(normalized(other));
  }

  private static String normalized(String location) {
    String trinoLocation = StorageConfig.trinoLocation(location);
    return trinoLocation.endsWith("/")
        ? trinoLocation.substring(0, trinoLocation.length() - 1)
        : trinoLocation;
  }

  /**
   * As {@link #register(SparkSession, LakeConfig, String, String, String)} once a Delta table
   * exists at {@code location}; nothing before (a name needs the table's schema, which only its log
   * has). For writers of tables named after their source (mirrors, histories, import targets),
   * called after a write.
   */
  public static void registerWritten(
      SparkSession spark, LakeConfig config, String zone, String table, String location) {
    if (!config.catalog().isShared()
        || REGISTERED.contains(config.trino().schema(zone) + "." + table + " " + location)
        || !DeltaTables.exists(spark, location)) {
      return;
    }
    register(spark, config, zone, table, location);
  }

  /** Whether the session's catalog is a Hive Metastore ({@code enableHiveSupport}). */
  public static boolean isHiveSession(SparkSession spark) {
    return "hive".equals(spark.conf().get("spark.sql.catalogImplementation", "in-memory"));
  }

  private static String quoted(String identifier) {
    return "`" + identifier.replace("`", "``") + "`";
  }

  private static String literal(String value) {
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'";
  }
}
