package io.lambdalake.ingestion.collector.internal;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.Optional;

/**
 * What the collector knows of a request besides its events, the same for every event in it.
 *
 * @param receivedAt when the request arrived
 * @param userAgent its User-Agent header, cleaned and cut to the text limit
 * @param clientIp the client's address, already truncated
 * @param referer its Referer header, the page that embeds a tracking pixel
 */
public record RequestContext(
    Instant receivedAt,
    Optional<String> userAgent,
    Optional<String> clientIp,
    Optional<String> referer) {
  public RequestContext {
    requireNonNull(receivedAt, "receivedAt is null");
    requireNonNull(userAgent, "userAgent is null");
    requireNonNull(clientIp, "clientIp is null");
    requireNonNull(referer, "referer is null");
  }
}
