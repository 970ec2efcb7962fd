package io.lambdalake.common.config;

import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;

/** Validation of configuration values, with messages that name the key at fault. */
final class Checks {
  private Checks() {}

  static String checkNotBlank(String value, String key) {
    if (value == null || value.isBlank()) {
      throw new LakeException(
          ErrorCode.INVALID_CONFIGURATION,
          "Configuration key " + key + " is empty: set it in conf/ or its environment variable");
    }
    return value;
  }

  static int checkPositive(int value, String key) {
    if (value <= 0) {
      throw invalid(key, value, "a positive number");
    }
    return value;
  }

  static int checkPort(int value, String key) {
    if (value < 1 || value > 65535) {
      throw invalid(key, value, "a port between 1 and 65535");
    }
    return value;
  }

  static LakeException invalid(String key, Object value, String expected) {
    return new LakeException(
        ErrorCode.INVALID_CONFIGURATION,
        "Configuration key " + key + " is " + value + ", but must be " + expected);
  }
}
