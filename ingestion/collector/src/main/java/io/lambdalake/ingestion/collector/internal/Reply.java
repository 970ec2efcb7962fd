package io.lambdalake.ingestion.collector.internal;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import java.util.LinkedHashMap;
import java.util.Map;

/** An HTTP answer: status, content type, body and extra headers (such as Retry-After). */
public record Reply(int status, String contentType, byte[] body, Map<String, String> headers) {
  public static final String JSON = "application/json; charset=utf-8";

  public Reply {
    requireNonNull(contentType, "contentType is null");
    requireNonNull(body, "body is null");
    headers = Map.copyOf(headers);
  }

  public static Reply json(int status, byte[] body) {
    return new Reply(status, JSON, body, Map.of());
  }

  public Reply withHeader(String name, String value) {
    Map<String, String> more = new LinkedHashMap<>(headers);
    more.put(name, value);
    return new Reply(status, contentType, body, more);
  }

  /** The body as text, for tests and logs. */
  public String bodyText() {
    return new String(body, UTF_8);
  }
}
