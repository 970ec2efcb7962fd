package io.lambdalake.common.error;

/** Who has to act on an error: the user, an operator of an external system, or us. */
public enum ErrorType {
  /** Bad input, arguments or configuration: the user can fix it. */
  USER_ERROR,
  /** A server or service the lake depends on failed or cannot be reached. */
  EXTERNAL,
  /** A bug in lambda-lake. */
  INTERNAL
}
