package io.lambdalake.ingestion.landing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lambdalake.common.error.LakeException;
import org.junit.jupiter.api.Test;

class ResetFromTest {
  @Test
  void anOperatorNamesTheResetInEitherCase() {
    assertThat(LandingStream.ResetFrom.parse("table")).isEqualTo(LandingStream.ResetFrom.TABLE);
    assertThat(LandingStream.ResetFrom.parse("EARLIEST"))
        .isEqualTo(LandingStream.ResetFrom.EARLIEST);
  }

  @Test
  void anythingElseIsAClearError() {
    assertThatThrownBy(() -> LandingStream.ResetFrom.parse("latest"))
        .isInstanceOf(LakeException.class)
        .hasMessage("--reset-from must be table or earliest, not 'latest'");
  }
}
