package io.lambdalake.ingestion.imports;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.spark.Lease;
import java.time.Duration;
import java.util.UUID;
import org.apache.spark.sql.SparkSession;

/**
 * The tables every import shares ({@code state.import_progress}, {@code state.snapshot_positions},
 * {@code raw.import_quarantine}) are written under one lease, so that two imports at once (the
 * import DAG runs them side by side) take turns for these short commits instead of racing for the
 * same Delta log version on S3. An import waits for its turn; it fails with the holder's name only
 * if the other holds the lease longer than {@link #WAIT}.
 */
final class ImportStateLease {
  static final String NAME = "import-state";
  static final Duration WAIT = Duration.ofMinutes(10);

  private ImportStateLease() {}

  /** Runs the commit while holding the lease, checking it right before. */
  static void commit(SparkSession spark, LakeConfig config, String what, Runnable commit) {
    String runId = "import-" + UUID.randomUUID();
    try (Lease lease =
        Lease.acquireWaiting(spark, config, NAME, "import", runId, Lease.Settings.DEFAULT, WAIT)) {
      lease.checkHeld(what);
      commit.run();
    }
  }
}
