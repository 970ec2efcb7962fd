package io.lambdalake.spark.delta;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.common.spark.SparkSettings;
import io.lambdalake.spark.ConditionalCreate;
import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileAlreadyExistsException;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.s3a.AWSBadRequestException;
import org.apache.hadoop.fs.s3a.RemoteFileChangedException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.s3.model.S3Exception;

class ConditionalCreateLogStoreTest {
  @Test
  void theSessionSettingsNameThisClass() {
    assertThat(SparkSettings.CONDITIONAL_LOG_STORE)
        .isEqualTo(ConditionalCreateLogStore.class.getName());
  }

  @Test
  void aLostRaceIsTheStoresRefusalOrAFileThatIsThere() {
    // What S3A 3.5 throws for the store's 412 and 409, and for its own check before an upload.
    IOException preconditionFailed =
        new RemoteFileChangedException(
            "s3a://lake/t/_delta_log/00000000000000000007.json",
            "PUT",
            "PreconditionFailed",
            s3Error(412));
    IOException conflict = new AWSBadRequestException("PUT", s3Error(409));
    IOException there = new FileAlreadyExistsException("s3a://lake/t/_delta_log/7.json exists");

    assertThat(List.of(preconditionFailed, conflict, there))
        .allMatch(ConditionalCreate::isLostRace);
    assertThat(ConditionalCreate.isRefusedByStore(preconditionFailed)).isTrue();
    assertThat(ConditionalCreate.isRefusedByStore(conflict)).isTrue();
    // The file system's own check proves nothing about the store.
    assertThat(ConditionalCreate.isRefusedByStore(there)).isFalse();
  }

  @Test
  void otherFailuresAreNoLostRaceWhateverTheirMessage() {
    IOException unreachable =
        new IOException("Connection refused writing _delta_log/00000000000000000412.json");
    IOException forbidden = new AWSBadRequestException("PUT", s3Error(400));

    assertThat(ConditionalCreate.isLostRace(unreachable)).isFalse();
    assertThat(ConditionalCreate.isLostRace(forbidden)).isFalse();
  }

  @Test
  void refusesAFileSystemWithoutConditionalCreates(@TempDir java.nio.file.Path directory)
      throws IOException {
    Configuration configuration = new Configuration();
    ConditionalCreateLogStore store = new ConditionalCreateLogStore(configuration);
    java.nio.file.Path log = Files.createDirectories(directory.resolve("table/_delta_log"));
    Path commit = new Path(log.toUri().toString(), "00000000000000000000.json");

    assertThatThrownBy(() -> store.write(commit, List.of("{}").iterator(), false, configuration))
        .isInstanceOf(LakeException.class)
        .hasMessageStartingWith("Cannot commit to Delta tables on file:/// safely:")
        .hasMessageContaining("does not offer conditional creates")
        .hasMessageContaining("LAKE_DELTA_CONDITIONAL_COMMITS=false")
        .extracting(error -> ((LakeException) error).errorCode())
        .isEqualTo(ErrorCode.INVALID_CONFIGURATION);
    assertThat(Files.exists(log.resolve("00000000000000000000.json"))).isFalse();
  }

  private static S3Exception s3Error(int status) {
    return (S3Exception)
        S3Exception.builder().statusCode(status).message("status " + status).build();
  }
}
