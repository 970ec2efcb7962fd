package io.lambdalake.common.launch;

import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.util.Optional;
import picocli.CommandLine.ParameterException;

/**
 * The one table of exit codes, the same from {@code lake} and from a job's main under spark-submit,
 * and written into every run record. Schedulers retry only {@link #EXTERNAL}.
 */
public enum ExitCode {
  /** The run did what it was asked. */
  SUCCESS(0),
  /** A bad argument, configuration or input: fix it, do not retry. */
  USER_ERROR(2),
  /** The output failed a data-quality check and nothing was published: do not retry. */
  QUALITY_CHECK_FAILED(3),
  /** A bug in lambda-lake (EX_SOFTWARE): do not retry, report it. */
  INTERNAL_ERROR(70),
  /** A server the run needs is unavailable or failed (EX_TEMPFAIL): retry later. */
  EXTERNAL(75);

  private final int code;

  ExitCode(int code) {
    this.code = code;
  }

  public int code() {
    return code;
  }

  /** Whether running again later may succeed. */
  public boolean isRetryable() {
    return this == EXTERNAL;
  }

  /** The exit code of a run that failed with this error. */
  public static ExitCode of(ErrorCode errorCode) {
    return switch (errorCode) {
      case INVALID_CONFIGURATION,
          INVALID_ARGUMENT,
          INVALID_EVENT,
          SERVER_DISTRIBUTION_MISSING,
          CHECKPOINT_AHEAD_OF_SOURCE,
          ORCHESTRATION_CONFLICT,
          BINLOG_SOURCE_CHANGED,
          CATALOG_NAME_TAKEN ->
          USER_ERROR;
      case SERVER_NOT_AVAILABLE,
          SERVER_FAILED_TO_START,
          STREAMING_QUERY_FAILED,
          ORCHESTRATION_RUN_FAILED,
          LEASE_HELD,
          LEASE_LOST ->
          EXTERNAL;
      case QUALITY_CHECK_FAILED -> QUALITY_CHECK_FAILED;
      case INTERNAL_ERROR -> INTERNAL_ERROR;
    };
  }

  /**
   * The error code a failure stands for: a {@link LakeException} anywhere in its causes (Spark
   * wraps what a job throws), a bad command line, a network failure talking to a server, else an
   * internal error.
   */
  public static ErrorCode classify(Throwable failure) {
    Optional<LakeException> lake = cause(failure, LakeException.class);
    if (lake.isPresent()) {
      return lake.get().errorCode();
    }
    if (failure instanceof ParameterException) {
      return ErrorCode.INVALID_ARGUMENT;
    }
    if (isNetworkFailure(failure)) {
      return ErrorCode.SERVER_NOT_AVAILABLE;
    }
    return ErrorCode.INTERNAL_ERROR;
  }

  private static boolean isNetworkFailure(Throwable failure) {
    for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
      if (cause instanceof ConnectException
          || cause instanceof NoRouteToHostException
          || cause instanceof SocketTimeoutException
          || cause instanceof UnknownHostException) {
        return true;
      }
    }
    return false;
  }

  static <T extends Throwable> Optional<T> cause(Throwable failure, Class<T> type) {
    for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
      if (type.isInstance(cause)) {
        return Optional.of(type.cast(cause));
      }
      if (cause.getCause() == cause) {
        break;
      }
    }
    return Optional.empty();
  }
}
