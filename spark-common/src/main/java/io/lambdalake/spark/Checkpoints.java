package io.lambdalake.spark;

import static java.util.Objects.requireNonNull;

import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import java.io.IOException;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;

/** Structured Streaming checkpoints on the lake's storage. */
public final class Checkpoints {
  private Checkpoints() {}

  /**
   * Deletes a query's checkpoint, so that its next start begins afresh; nothing if it is absent.
   */
  public static void delete(SparkSession spark, String location) {
    requireNonNull(spark, "spark is null");
    requireNonNull(location, "location is null");
    Path path = new Path(location);
    try {
      path.getFileSystem(spark.sessionState().newHadoopConf()).delete(path, true);
    } catch (IOException e) {
      throw new LakeException(
          ErrorCode.SERVER_NOT_AVAILABLE,
          "Cannot delete the checkpoint " + location + ": " + e.getMessage(),
          e);
    }
  }
}
