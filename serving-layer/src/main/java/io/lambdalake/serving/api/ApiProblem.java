package io.lambdalake.serving.api;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.Optional;

/**
 * A request the API refuses, answered as JSON with its HTTP status: what is wrong and, for a bad
 * parameter, which one. Not a {@link io.lambdalake.common.error.LakeException}: nothing failed in
 * the lake, the client asked for something it may not or cannot have.
 */
public final class ApiProblem extends RuntimeException {
  private final int status;
  private final String code;
  private final Optional<String> parameter;
  private final Optional<Duration> retryAfter;

  private ApiProblem(
      int status,
      String code,
      Optional<String> parameter,
      Optional<Duration> retryAfter,
      String message) {
    super(requireNonNull(message, "message is null"), null, false, false);
    this.status = status;
    this.code = requireNonNull(code, "code is null");
    this.parameter = requireNonNull(parameter, "parameter is null");
    this.retryAfter = requireNonNull(retryAfter, "retryAfter is null");
  }

  /** 400: a parameter is missing, malformed, unknown or out of range. */
  public static ApiProblem badParameter(String parameter, String message) {
    return new ApiProblem(
        400, "invalid_parameter", Optional.of(parameter), Optional.empty(), message);
  }

  /** 401: no API key, or not one of ours. */
  public static ApiProblem unauthenticated(String message) {
    return new ApiProblem(401, "unauthenticated", Optional.empty(), Optional.empty(), message);
  }

  /** 403: the key may not read what the parameter names. */
  public static ApiProblem forbidden(String parameter, String message) {
    return new ApiProblem(403, "forbidden", Optional.of(parameter), Optional.empty(), message);
  }

  public static ApiProblem notFound(String path) {
    return new ApiProblem(
        404, "not_found", Optional.empty(), Optional.empty(), "No endpoint " + path);
  }

  public static ApiProblem methodNotAllowed(String method) {
    return new ApiProblem(
        405,
        "method_not_allowed",
        Optional.empty(),
        Optional.empty(),
        "Method " + method + " is not allowed; the API answers GET");
  }

  /** 429: the key's request rate is over its limit. */
  public static ApiProblem tooManyRequests(Duration retryAfter) {
    return new ApiProblem(
        429,
        "rate_limited",
        Optional.empty(),
        Optional.of(retryAfter),
        "Too many requests for this API key; retry after the Retry-After header's seconds");
  }

  /** 503: Trino did not answer; nothing about the client's request is wrong. */
  public static ApiProblem unavailable() {
    return new ApiProblem(
        503,
        "unavailable",
        Optional.empty(),
        Optional.of(Duration.ofSeconds(5)),
        "The metrics store is not available right now; retry later");
  }

  /** 503: every request thread is busy and the queue of waiting queries is full. */
  public static ApiProblem busy() {
    return new ApiProblem(
        503,
        "busy",
        Optional.empty(),
        Optional.of(Duration.ofSeconds(1)),
        "Too many queries are waiting (lake.api.max-queued-queries); retry later");
  }

  /** 504: the query took longer than lake.api.query-timeout and was cancelled. */
  public static ApiProblem queryTimedOut(Duration timeout) {
    return new ApiProblem(
        504,
        "query_timeout",
        Optional.empty(),
        Optional.of(Duration.ofSeconds(5)),
        "The query took longer than lake.api.query-timeout ("
            + timeout.toSeconds()
            + " s) and was cancelled; ask for a shorter range or a coarser granularity, or retry"
            + " later");
  }

  public int status() {
    return status;
  }

  public String code() {
    return code;
  }

  public Optional<String> parameter() {
    return parameter;
  }

  public Optional<Duration> retryAfter() {
    return retryAfter;
  }
}
