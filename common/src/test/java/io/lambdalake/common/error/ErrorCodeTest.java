package io.lambdalake.common.error;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class ErrorCodeTest {
  /** Codes appear in run records and logs: two errors must never share one. */
  @Test
  void everyCodeIsDistinct() {
    assertThat(Arrays.stream(ErrorCode.values()).mapToInt(ErrorCode::code)).doesNotHaveDuplicates();
  }
}
