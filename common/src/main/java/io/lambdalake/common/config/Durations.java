package io.lambdalake.common.config;

import static java.util.Objects.requireNonNull;

import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import java.time.Duration;

/** Durations as people write them on a command line: {@code 500ms}, {@code 5s}, {@code 2h}. */
public final class Durations {
  private Durations() {}

  public static Duration parse(String text, String optionName) {
    try {
      return ConfigFactory.empty()
          .withValue("d", ConfigValueFactory.fromAnyRef(text.strip()))
          .getDuration("d");
    } catch (ConfigException e) {
      throw new LakeException(
          ErrorCode.INVALID_ARGUMENT,
          optionName + " is '" + text + "', which is not a duration (e.g. 500ms, 5s, 10m, 2h)");
    }
  }

  /** Fails with {@link ErrorCode#INVALID_ARGUMENT}, naming the value, unless it is above zero. */
  public static Duration requirePositive(Duration duration, String name) {
    requireNonNull(duration, name + " is null");
    if (duration.isNegative() || duration.isZero()) {
      throw new LakeException(
          ErrorCode.INVALID_ARGUMENT, name + " must be positive, but is " + duration);
    }
    return duration;
  }
}
