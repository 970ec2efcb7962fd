package io.lambdalake.consumers;

import static java.util.Objects.requireNonNull;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.spark.DeltaTables;
import org.apache.spark.sql.SparkSession;

/** Where the CDC mirrors of the sample database's tables live. */
public record SampleMirrors(LakeConfig config, String database) {
  public static final String ZONE = "mirror";

  public SampleMirrors {
    requireNonNull(config, "config is null");
    requireNonNull(database, "database is null");
  }

  public static SampleMirrors of(LakeConfig config) {
    return new SampleMirrors(config, config.consumers().sampleDatabase());
  }

  /** The mirror's table name, e.g. {@code matrimony__profiles}. */
  public String tableName(String table) {
    return database + "__" + table;
  }

  public String location(String table) {
    return config.storage().tableLocation(ZONE, tableName(table));
  }

  /** The mirror's location; a clear error when CDC has not written it yet. */
  public String require(SparkSession spark, String table) {
    String location = location(table);
    if (!DeltaTables.exists(spark, location)) {
      throw new LakeException(
          ErrorCode.INVALID_ARGUMENT,
          "The mirror "
              + ZONE
              + "."
              + tableName(table)
              + " does not exist yet at "
              + location
              + ": create the sample database (lake generate-sample-db) and run lake cdc first");
    }
    return location;
  }
}
