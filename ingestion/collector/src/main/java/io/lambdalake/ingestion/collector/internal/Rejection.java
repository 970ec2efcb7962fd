package io.lambdalake.ingestion.collector.internal;

import static java.util.Objects.requireNonNull;

import java.util.Optional;

/** Why one event or request was refused: a reason code, the field at fault if any, a message. */
public record Rejection(RejectionReason reason, Optional<String> field, String message) {
  private static final int MAX_QUOTED_LENGTH = 64;

  public Rejection {
    requireNonNull(reason, "reason is null");
    requireNonNull(field, "field is null");
    requireNonNull(message, "message is null");
  }

  public static Rejection of(RejectionReason reason, String message) {
    return new Rejection(reason, Optional.empty(), message);
  }

  public static Rejection ofField(RejectionReason reason, String field, String message) {
    return new Rejection(reason, Optional.of(field), message);
  }

  /** Input quoted in a message: cut to a sane length, so an error never echoes a whole payload. */
  public static String quote(String input) {
    String cut =
        input.length() > MAX_QUOTED_LENGTH ? input.substring(0, MAX_QUOTED_LENGTH) + "..." : input;
    StringBuilder quoted = new StringBuilder(cut.length() + 2).append('"');
    cut.codePoints()
        .forEach(
            codePoint -> {
              if (Character.isISOControl(codePoint)) {
                quoted.append(String.format("\\u%04x", codePoint));
              } else {
                quoted.appendCodePoint(codePoint);
              }
            });
    return quoted.append('"').toString();
  }
}
