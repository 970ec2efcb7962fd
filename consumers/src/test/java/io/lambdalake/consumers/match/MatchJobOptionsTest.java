package io.lambdalake.consumers.match;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class MatchJobOptionsTest {
  @Test
  void versionAndTimeExcludeEachOther() {
    assertThatThrownBy(
            () ->
                new MatchJob.Options(
                    Optional.of(3L), Optional.of(Instant.EPOCH), MatchJob.Recompute.FULL, 10))
        .hasMessage("Give either --version or --as-of, not both");
  }

  @Test
  void badValuesAreNamed() {
    assertThatThrownBy(
            () ->
                new MatchJob.Options(
                    Optional.of(-1L), Optional.empty(), MatchJob.Recompute.FULL, 10))
        .hasMessage("--version must not be negative, but is -1");
    assertThatThrownBy(
            () ->
                new MatchJob.Options(
                    Optional.empty(), Optional.empty(), MatchJob.Recompute.INCREMENTAL, 0))
        .hasMessage("--top-k must be positive, but is 0");
  }
}
