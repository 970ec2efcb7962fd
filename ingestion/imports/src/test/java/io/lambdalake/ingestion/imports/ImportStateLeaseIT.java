package io.lambdalake.ingestion.imports;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.config.LakeConfigLoader;
import io.lambdalake.spark.Lease;
import io.lambdalake.stack.testing.SharedStack;
import io.lambdalake.stack.testing.TestSpark;
import java.time.Duration;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Two imports at once share state.import_progress (and state.snapshot_positions,
 * raw.import_quarantine): their commits to it take turns under the import-state lease. Two JVMs
 * that append to the same Delta table on S3 at once can both write the same log version, and the
 * later one silently replaces the earlier one's update; in one JVM Delta's log store serializes
 * them, so this test holds the lease as the other import would and checks that a run's state commit
 * waits for it and then lands, and that both imports' updates are kept.
 */
@Tag("fault")
class ImportStateLeaseIT {
  @Test
  void importsWaitForTheStateLeaseAndKeepBothUpdates() throws Exception {
    SparkSession spark = TestSpark.session();
    LakeConfig config = ownLake();
    CompletableFuture<Void> orders;
    CompletableFuture<Void> customers;
    try (Lease otherImport =
        Lease.acquire(
            spark, config, "import-state", "import", "other-import", Lease.Settings.DEFAULT)) {
      orders =
          CompletableFuture.runAsync(() -> ImportProgress.record(spark, config, run("orders")));
      customers =
          CompletableFuture.runAsync(() -> ImportProgress.record(spark, config, run("customers")));
      // While the other import holds the lease, neither run commits to the shared table.
      await()
          .during(Duration.ofSeconds(20))
          .atMost(Duration.ofSeconds(40))
          .until(() -> latest(spark, config, "orders").isEmpty() && !orders.isDone());
      assertThat(customers).isNotDone();
      otherImport.checkHeld("the other import's commit");
    }
    orders.get(10, TimeUnit.MINUTES);
    customers.get(10, TimeUnit.MINUTES);

    assertThat(latest(spark, config, "orders")).map(ImportProgress.Run::rows).contains(10L);
    assertThat(latest(spark, config, "customers")).map(ImportProgress.Run::rows).contains(10L);
  }

  private static Optional<ImportProgress.Run> latest(
      SparkSession spark, LakeConfig config, String table) {
    return ImportProgress.latest(spark, config, "shop." + table);
  }

  private static ImportProgress.Run run(String table) {
    return new ImportProgress.Run(
        "shop." + table,
        "raw.shop__" + table,
        "jdbc:mariadb://127.0.0.1/shop",
        "append",
        Optional.of("id"),
        1,
        Optional.of("10"),
        10,
        UUID.randomUUID().toString());
  }

  private static LakeConfig ownLake() {
    String name = "leases" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    return LakeConfigLoader.load(System.getenv(), SharedStack.ownLake(name));
  }
}
