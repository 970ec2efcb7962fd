package io.lambdalake.ingestion.collector.internal;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * A strict parser of {@code application/x-www-form-urlencoded} query strings: every percent escape
 * must be two hex digits and every decoded name and value well-formed UTF-8, where lenient decoders
 * would quietly put replacement characters in.
 */
public final class QueryString {
  private QueryString() {}

  public record Parameter(String name, String value) {}

  /** The parameters, or why the query string is malformed. */
  public sealed interface Result permits Parsed, Malformed {}

  public record Parsed(List<Parameter> parameters) implements Result {
    public Parsed {
      parameters = List.copyOf(parameters);
    }
  }

  public record Malformed(Rejection rejection) implements Result {}

  public static Result parse(String rawQuery, int maxParameters) {
    List<Parameter> parameters = new ArrayList<>();
    if (rawQuery.isEmpty()) {
      return new Parsed(parameters);
    }
    for (String pair : rawQuery.split("&", -1)) {
      if (pair.isEmpty()) {
        continue;
      }
      if (parameters.size() == maxParameters) {
        return new Malformed(
            Rejection.of(
                RejectionReason.MALFORMED_REQUEST,
                "the query string has more than " + maxParameters + " parameters"));
      }
      int equals = pair.indexOf('=');
      String rawName = equals < 0 ? pair : pair.substring(0, equals);
      String rawValue = equals < 0 ? "" : pair.substring(equals + 1);
      byte[] name = decode(rawName);
      byte[] value = decode(rawValue);
      if (name == null || value == null) {
        return new Malformed(
            Rejection.of(
                RejectionReason.MALFORMED_REQUEST,
                "the query string has a malformed percent escape near "
                    + Rejection.quote(name == null ? rawName : rawValue)));
      }
      if (!Utf8.isWellFormed(name) || !Utf8.isWellFormed(value)) {
        return new Malformed(
            Rejection.of(
                RejectionReason.MALFORMED_UTF8,
                "a query parameter is not UTF-8 once its percent escapes are decoded"));
      }
      parameters.add(new Parameter(new String(name, UTF_8), new String(value, UTF_8)));
    }
    return new Parsed(parameters);
  }

  /** The bytes a component stands for, or null when an escape is malformed. */
  private static byte[] decode(String component) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(component.length());
    for (int index = 0; index < component.length(); index++) {
      char character = component.charAt(index);
      if (character == '%') {
        if (index + 2 >= component.length()) {
          return null;
        }
        int high = Character.digit(component.charAt(index + 1), 16);
        int low = Character.digit(component.charAt(index + 2), 16);
        if (high < 0 || low < 0) {
          return null;
        }
        bytes.write((high << 4) | low);
        index += 2;
      } else if (character == '+') {
        bytes.write(' ');
      } else if (character < 0x80) {
        bytes.write(character);
      } else {
        // A raw non-ASCII character in the request line: Netty read it as ISO-8859-1, one byte
        // each.
        if (character > 0xff) {
          return null;
        }
        bytes.write(character);
      }
    }
    return bytes.toByteArray();
  }
}
