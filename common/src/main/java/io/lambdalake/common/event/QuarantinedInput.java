package io.lambdalake.common.event;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.Optional;

/**
 * Input that could not be accepted, kept with its reason so that nothing is dropped silently: the
 * value of a record in the quarantine topic and the source of a {@code raw.quarantine} row.
 *
 * @param source what received it, e.g. {@code collector}
 * @param reason a stable machine-readable code, e.g. {@code invalid_field}
 * @param field the input field at fault, when one is
 * @param message what is wrong, for people
 * @param endpoint where it arrived, e.g. {@code /v1/batch}
 * @param index its position in a batch, when it came in one
 * @param payload the input as received, at most as long as the source allows
 * @param payloadSize the size of the whole input in bytes, before any truncation
 */
public record QuarantinedInput(
    String source,
    String reason,
    Optional<String> field,
    String message,
    Instant receivedAt,
    String endpoint,
    Optional<Integer> index,
    Optional<String> trackingId,
    Optional<String> clientIp,
    Optional<String> userAgent,
    Payload payload,
    long payloadSize) {

  public QuarantinedInput {
    requireNonNull(source, "source is null");
    requireNonNull(reason, "reason is null");
    requireNonNull(field, "field is null");
    requireNonNull(message, "message is null");
    requireNonNull(receivedAt, "receivedAt is null");
    requireNonNull(endpoint, "endpoint is null");
    requireNonNull(index, "index is null");
    requireNonNull(trackingId, "trackingId is null");
    requireNonNull(clientIp, "clientIp is null");
    requireNonNull(userAgent, "userAgent is null");
    requireNonNull(payload, "payload is null");
    if (payloadSize < 0) {
      throw new IllegalArgumentException("payloadSize is negative: " + payloadSize);
    }
  }

  /** How a payload is written: as text when it was valid UTF-8, else as Base64. */
  public enum PayloadEncoding {
    UTF_8("utf-8"),
    BASE64("base64");

    private final String wireName;

    PayloadEncoding(String wireName) {
      this.wireName = wireName;
    }

    public String wireName() {
      return wireName;
    }
  }

  /**
   * The input as kept.
   *
   * @param text the input, decoded as UTF-8 or Base64-encoded as {@code encoding} says
   * @param truncated whether {@code text} holds only the beginning of the input
   */
  public record Payload(String text, PayloadEncoding encoding, boolean truncated) {
    public Payload {
      requireNonNull(text, "text is null");
      requireNonNull(encoding, "encoding is null");
    }

    public static Payload empty() {
      return new Payload("", PayloadEncoding.UTF_8, false);
    }
  }
}
