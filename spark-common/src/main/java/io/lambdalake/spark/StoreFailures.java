package io.lambdalake.spark;

import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Says which store a failure came from when S3 did not answer: Spark and Delta wrap the S3A
 * client's connection error in several layers whose innermost message ("Connection refused") names
 * neither S3 nor the object. The one-line error of a job then reads "S3 did not answer (Connection
 * refused) for getFileStatus on s3a://bucket/...", so that an operator looks at S3.
 */
public final class StoreFailures {
  private static final Pattern S3A_OPERATION = Pattern.compile("(\\w+ on s3a://[^\\s:]+)");

  private StoreFailures() {}

  /**
   * {@code S3 did not answer (<innermost message>) for <operation on s3a://...>} when the failure
   * is a connection to S3 that failed or timed out; empty for any other failure.
   */
  public static Optional<String> s3NotAnswering(Throwable error) {
    boolean s3 = false;
    boolean connection = false;
    String operation = null;
    for (Throwable cause = error; cause != null; cause = next(cause)) {
      String type = cause.getClass().getName();
      String message = cause.getMessage() == null ? "" : cause.getMessage();
      if (type.startsWith("software.amazon.awssdk.")
          || type.startsWith("org.apache.hadoop.fs.s3a.")
          || message.contains("s3a://")) {
        s3 = true;
      }
      if (operation == null) {
        Matcher matcher = S3A_OPERATION.matcher(message);
        if (matcher.find()) {
          operation = matcher.group(1);
        }
      }
      connection |=
          cause instanceof ConnectException
              || cause instanceof SocketTimeoutException
              || cause instanceof NoRouteToHostException
              || cause instanceof UnknownHostException
              || type.equals("org.apache.http.conn.HttpHostConnectException")
              || type.equals("org.apache.http.conn.ConnectTimeoutException");
    }
    if (!s3 || !connection) {
      return Optional.empty();
    }
    return Optional.of(
        "S3 did not answer ("
            + StreamingRun.rootMessage(error)
            + ")"
            + (operation == null ? "" : " for " + operation));
  }

  private static Throwable next(Throwable cause) {
    return cause.getCause() == cause ? null : cause.getCause();
  }
}
