package io.lambdalake.ingestion.collector.internal;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.lambdalake.common.event.QuarantinedInput;
import java.util.Base64;

/** Raw input as the quarantine keeps it: at most a limit of bytes, as text when it is UTF-8. */
public final class Payloads {
  private Payloads() {}

  public static QuarantinedInput.Payload of(byte[] bytes, int offset, int length, int maxBytes) {
    int kept = Math.min(length, maxBytes);
    boolean truncated = kept < length;
    if (truncated) {
      // Cut at a character boundary: the first byte left out must not continue a sequence.
      int boundary = kept;
      while (boundary > 0 && kept - boundary < 3 && (bytes[offset + boundary] & 0xc0) == 0x80) {
        boundary--;
      }
      if (Utf8.isWellFormed(bytes, offset, boundary)) {
        return new QuarantinedInput.Payload(
            new String(bytes, offset, boundary, UTF_8),
            QuarantinedInput.PayloadEncoding.UTF_8,
            true);
      }
    } else if (Utf8.isWellFormed(bytes, offset, kept)) {
      return new QuarantinedInput.Payload(
          new String(bytes, offset, kept, UTF_8), QuarantinedInput.PayloadEncoding.UTF_8, false);
    }
    byte[] slice = new byte[kept];
    System.arraycopy(bytes, offset, slice, 0, kept);
    return new QuarantinedInput.Payload(
        Base64.getEncoder().encodeToString(slice),
        QuarantinedInput.PayloadEncoding.BASE64,
        truncated);
  }

  public static QuarantinedInput.Payload ofText(String text, int maxBytes) {
    byte[] bytes = text.getBytes(UTF_8);
    return of(bytes, 0, bytes.length, maxBytes);
  }
}
