package io.lambdalake.common.config;

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
}
