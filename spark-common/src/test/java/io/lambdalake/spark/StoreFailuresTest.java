package io.lambdalake.spark;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ConnectException;
import org.junit.jupiter.api.Test;

class StoreFailuresTest {
  /** The chain of a landing batch with s3proxy stopped, as the chaos run's log had it. */
  @Test
  void namesS3AndTheObjectWhenTheConnectionWasRefused() {
    ConnectException refused = new ConnectException("Connection refused");
    IOException http =
        new IOException("Connect to 127.0.0.1:29000 [/127.0.0.1] failed: Connection refused");
    http.initCause(refused);
    ConnectException s3a =
        new ConnectException(
            "getFileStatus on s3a://chaos/run/warehouse/raw/quarantine/_delta_log/"
                + "00000000000000000001.json: software.amazon.awssdk.core.exception."
                + "SdkClientException: Unable to execute HTTP request: Connect to 127.0.0.1:29000"
                + " [/127.0.0.1] failed: Connection refused (SDK Attempt Count: 6)");
    s3a.initCause(http);
    RuntimeException spark =
        new RuntimeException("[FOREACH_BATCH_USER_FUNCTION_ERROR] An error occurred", s3a);

    assertThat(StoreFailures.s3NotAnswering(spark))
        .contains(
            "S3 did not answer (Connection refused) for getFileStatus on"
                + " s3a://chaos/run/warehouse/raw/quarantine/_delta_log/00000000000000000001.json");
  }

  @Test
  void saysNothingOfOtherFailures() {
    assertThat(StoreFailures.s3NotAnswering(new IllegalStateException("boom"))).isEmpty();
    // An S3 path in a failure that is no connection failure (e.g. a schema mismatch) is not S3's.
    assertThat(
            StoreFailures.s3NotAnswering(
                new IllegalArgumentException("Cannot write to s3a://b/t: schema mismatch")))
        .isEmpty();
    // A refused connection elsewhere (Kafka) is not S3's.
    assertThat(
            StoreFailures.s3NotAnswering(
                new RuntimeException("kafka", new ConnectException("Connection refused"))))
        .isEmpty();
  }
}
