package io.lambdalake.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import io.lambdalake.batch.BatchJob;
import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.config.LakeConfigLoader;
import io.lambdalake.stack.LocalStack;
import io.lambdalake.stack.S3ProxyServer;
import io.lambdalake.stack.SparkStandaloneServer;
import io.lambdalake.stack.testing.ClusterSubmit;
import io.lambdalake.stack.testing.SharedStack;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * The jobs jar in cluster deploy mode on the local stack's Spark standalone cluster (started here
 * if it does not run): the batch job ends FINISHED with a run record of exit code 0, and a job
 * given a bad argument is judged failed from the master and its run record although spark-submit
 * exits 0.
 */
@Tag("cluster")
class ClusterDeployModeIT {
  private static final Duration DRIVER_TIMEOUT = Duration.ofMinutes(10);

  private static LakeConfig config;
  private static ClusterSubmit cluster;
  private static String configurationUrl;
  private static String run;

  @BeforeAll
  static void startTheCluster() {
    LocalStack stack = SharedStack.get();
    stack.start(SparkStandaloneServer.names(), report -> {});
    config = stack.config();
    Path checkout = LakeConfigLoader.confDirectory(System.getenv()).getParent();
    run = "cluster-it-" + UUID.randomUUID().toString().substring(0, 8);
    cluster =
        new ClusterSubmit(
            config, ClusterSubmit.jobsJar(checkout), Path.of("target", "cluster-it", run));
    configurationUrl = cluster.uploadConfiguration(run + "/lake.conf", SharedStack.ownLake(run));
  }

  @Test
  void theBatchJobFinishesInClusterDeployModeWithItsRunRecord() throws Exception {
    ClusterSubmit.Submitted submitted =
        cluster.submit(
            new ClusterSubmit.Submission(
                "batch",
                BatchJob.class.getName(),
                "lambda-lake-batch",
                List.of("--from", "2026-11-30", "--to", "2026-12-01"),
                configurationUrl,
                false,
                Map.of()));

    ClusterSubmit.Outcome outcome = cluster.awaitOutcome(submitted, DRIVER_TIMEOUT);

    assertThat(outcome.succeeded()).as(outcome.describe()).isTrue();
    assertThat(outcome.driverState()).isEqualTo("FINISHED");
    assertThat(outcome.recordExitCode()).contains(0);
    // The driver read the configuration from S3: the batch layer's tables are under the run's root.
    try (S3Client s3 = S3ProxyServer.client(config.s3())) {
      assertThat(
              s3.listObjectsV2(
                      request ->
                          request.bucket(config.s3().bucket()).prefix(run + "/warehouse/batch/"))
                  .keyCount())
          .isPositive();
    }
  }

  @Test
  void aJobThatFailsIsJudgedFailedAlthoughSparkSubmitExitedZero() throws Exception {
    ClusterSubmit.Submitted submitted =
        cluster.submit(
            new ClusterSubmit.Submission(
                "batch-bad-argument",
                BatchJob.class.getName(),
                "lambda-lake-batch",
                List.of("--from", "2026-12-02", "--to", "2026-12-01"),
                configurationUrl,
                false,
                Map.of()));

    ClusterSubmit.Outcome outcome = cluster.awaitOutcome(submitted, DRIVER_TIMEOUT);

    assertThat(submitted.submitExitCode()).isZero();
    assertThat(outcome.succeeded()).as(outcome.describe()).isFalse();
    assertThat(outcome.driverState()).isEqualTo("FAILED");
    assertThat(outcome.recordExitCode()).contains(2);
    assertThat(outcome.recordMessage())
        .hasValueSatisfying(
            message -> assertThat(message).contains("--to 2026-12-01 is before --from 2026-12-02"));
  }
}
