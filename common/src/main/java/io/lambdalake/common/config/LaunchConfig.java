package io.lambdalake.common.config;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.time.Duration;

/**
 * How every job is launched ({@code lake.runs}, {@code lake.preflight}).
 *
 * @param runsDirectory where each run writes its run record, {@code <job>/<run-id>.json} and {@code
 *     <job>/latest.json}
 * @param preflightTimeout how long a server may take to accept a connection before a job fails with
 *     "does not answer" instead of starting
 */
public record LaunchConfig(Path runsDirectory, Duration preflightTimeout) {
  public LaunchConfig {
    requireNonNull(runsDirectory, "runsDirectory is null");
    requireNonNull(preflightTimeout, "preflightTimeout is null");
    if (preflightTimeout.isNegative() || preflightTimeout.isZero()) {
      throw Checks.invalid("lake.preflight.timeout", preflightTimeout, "a positive duration");
    }
  }
}
