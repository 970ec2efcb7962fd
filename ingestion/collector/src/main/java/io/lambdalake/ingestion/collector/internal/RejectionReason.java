package io.lambdalake.ingestion.collector.internal;

import static java.util.Objects.requireNonNull;

/**
 * Why the collector refused input. Codes are stable on the wire (error answers, the quarantine
 * topic, metric labels); the HTTP status is what a request gets when this is its only problem.
 */
public enum RejectionReason {
  /** The body is not well-formed JSON, or a batch line is not. */
  MALFORMED_JSON("malformed_json", 400),
  /** The body or a query parameter is not well-formed UTF-8. */
  MALFORMED_UTF8("malformed_utf8", 400),
  /** The request carries no event at all. */
  EMPTY_REQUEST("empty_request", 400),
  /** An event is JSON but not an object, or /v1/collect got an array. */
  NOT_AN_OBJECT("not_an_object", 400),
  /** A required field is absent or null. */
  MISSING_FIELD("missing_field", 400),
  /** A field has the wrong type, format or length. */
  INVALID_FIELD("invalid_field", 400),
  /** A field the schema does not have, or one only the collector may set. */
  UNKNOWN_FIELD("unknown_field", 400),
  /** A field given twice in one event. */
  DUPLICATE_FIELD("duplicate_field", 400),
  /** The tracking ID is well-formed but not registered. */
  UNKNOWN_TRACKING_ID("unknown_tracking_id", 400),
  /** The event time is too far in the past or the future. */
  EVENT_TIME_OUT_OF_RANGE("event_time_out_of_range", 400),
  /** One event is larger than lake.collector.limits.max-event-size. */
  EVENT_TOO_LARGE("event_too_large", 413),
  /** The request body is larger than lake.collector.limits.max-request-size. */
  REQUEST_TOO_LARGE("request_too_large", 413),
  /** A batch holds more events than lake.collector.limits.max-batch-events. */
  TOO_MANY_EVENTS("too_many_events", 413),
  /** A content type or encoding the collector does not read. */
  UNSUPPORTED_MEDIA_TYPE("unsupported_media_type", 415),
  /** The HTTP request itself is malformed: bad request line, headers or query string. */
  MALFORMED_REQUEST("malformed_request", 400);

  private final String code;
  private final int httpStatus;

  RejectionReason(String code, int httpStatus) {
    this.code = requireNonNull(code, "code is null");
    this.httpStatus = httpStatus;
  }

  public String code() {
    return code;
  }

  public int httpStatus() {
    return httpStatus;
  }
}
