package io.lambdalake.common.error;

import static java.util.Objects.requireNonNull;

/**
 * The one unchecked exception of lambda-lake. Its message says what went wrong, why, and how to fix
 * it; third-party exceptions are wrapped as its cause at the boundary where they occur.
 */
public final class LakeException extends RuntimeException {
  private final ErrorCode errorCode;

  public LakeException(ErrorCode errorCode, String message) {
    super(requireNonNull(message, "message is null"));
    this.errorCode = requireNonNull(errorCode, "errorCode is null");
  }

  public LakeException(ErrorCode errorCode, String message, Throwable cause) {
    super(requireNonNull(message, "message is null"), cause);
    this.errorCode = requireNonNull(errorCode, "errorCode is null");
  }

  public ErrorCode errorCode() {
    return errorCode;
  }
}
