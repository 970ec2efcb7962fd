package io.lambdalake.common.launch;

import static org.assertj.core.api.Assertions.assertThat;

import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ExitCodeTest {
  @Test
  void pinsTheTable() {
    assertThat(Arrays.stream(ExitCode.values()).mapToInt(ExitCode::code))
        .containsExactly(0, 2, 3, 70, 75);
    assertThat(Arrays.stream(ExitCode.values()).filter(ExitCode::isRetryable))
        .containsExactly(ExitCode.EXTERNAL);
  }

  @Test
  void mapsEveryErrorCode() {
    Map<ErrorCode, ExitCode> table = new EnumMap<>(ErrorCode.class);
    for (ErrorCode errorCode : ErrorCode.values()) {
      table.put(errorCode, ExitCode.of(errorCode));
    }

    assertThat(table)
        .containsExactlyInAnyOrderEntriesOf(
            Map.ofEntries(
                Map.entry(ErrorCode.INVALID_CONFIGURATION, ExitCode.USER_ERROR),
                Map.entry(ErrorCode.INVALID_ARGUMENT, ExitCode.USER_ERROR),
                Map.entry(ErrorCode.INVALID_EVENT, ExitCode.USER_ERROR),
                Map.entry(ErrorCode.SERVER_DISTRIBUTION_MISSING, ExitCode.USER_ERROR),
                Map.entry(ErrorCode.CHECKPOINT_AHEAD_OF_SOURCE, ExitCode.USER_ERROR),
                Map.entry(ErrorCode.ORCHESTRATION_CONFLICT, ExitCode.USER_ERROR),
                Map.entry(ErrorCode.BINLOG_SOURCE_CHANGED, ExitCode.USER_ERROR),
                Map.entry(ErrorCode.CATALOG_NAME_TAKEN, ExitCode.USER_ERROR),
                Map.entry(ErrorCode.SERVER_NOT_AVAILABLE, ExitCode.EXTERNAL),
                Map.entry(ErrorCode.SERVER_FAILED_TO_START, ExitCode.EXTERNAL),
                Map.entry(ErrorCode.STREAMING_QUERY_FAILED, ExitCode.EXTERNAL),
                Map.entry(ErrorCode.ORCHESTRATION_RUN_FAILED, ExitCode.EXTERNAL),
                Map.entry(ErrorCode.LEASE_HELD, ExitCode.EXTERNAL),
                Map.entry(ErrorCode.LEASE_LOST, ExitCode.EXTERNAL),
                Map.entry(ErrorCode.QUALITY_CHECK_FAILED, ExitCode.QUALITY_CHECK_FAILED),
                Map.entry(ErrorCode.INTERNAL_ERROR, ExitCode.INTERNAL_ERROR)));
  }

  @Test
  void classifiesWhatAJobThrows() {
    LakeException quality = new LakeException(ErrorCode.QUALITY_CHECK_FAILED, "2 rows differ");

    // Spark wraps what a job's code throws; the lake's own error inside decides.
    assertThat(ExitCode.classify(new RuntimeException("Job aborted", quality)))
        .isEqualTo(ErrorCode.QUALITY_CHECK_FAILED);
    assertThat(
            ExitCode.classify(new UncheckedIOException(new ConnectException("Connection refused"))))
        .isEqualTo(ErrorCode.SERVER_NOT_AVAILABLE);
    assertThat(ExitCode.classify(new IllegalStateException("bug")))
        .isEqualTo(ErrorCode.INTERNAL_ERROR);
  }
}
