package io.lambdalake.ingestion.collector.internal;

import static java.util.Objects.requireNonNull;

import java.util.Optional;

/**
 * A complete request to one of the event endpoints, as the HTTP layer hands it over.
 *
 * @param rawQuery the query string as sent, without the '?'
 */
public record EventRequest(
    CollectorMetrics.Endpoint endpoint,
    Optional<String> contentType,
    Optional<String> contentEncoding,
    String rawQuery,
    byte[] body,
    RequestContext context) {
  public EventRequest {
    requireNonNull(endpoint, "endpoint is null");
    requireNonNull(contentType, "contentType is null");
    requireNonNull(contentEncoding, "contentEncoding is null");
    requireNonNull(rawQuery, "rawQuery is null");
    requireNonNull(body, "body is null");
    requireNonNull(context, "context is null");
  }
}
