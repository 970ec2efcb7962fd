package io.lambdalake.ingestion.collector.internal;

/**
 * Strict UTF-8 validation after the Unicode standard's table of well-formed byte sequences: no
 * overlong forms, no encoded surrogates, nothing above U+10FFFF, no truncated sequences.
 */
public final class Utf8 {
  private Utf8() {}

  public static boolean isWellFormed(byte[] bytes) {
    return isWellFormed(bytes, 0, bytes.length);
  }

  public static boolean isWellFormed(byte[] bytes, int offset, int length) {
    int index = offset;
    int end = offset + length;
    while (index < end) {
      int first = bytes[index] & 0xff;
      if (first < 0x80) {
        index++;
        continue;
      }
      int continuations;
      int secondLow = 0x80;
      int secondHigh = 0xbf;
      if (first >= 0xc2 && first <= 0xdf) {
        continuations = 1;
      } else if (first >= 0xe0 && first <= 0xef) {
        continuations = 2;
        if (first == 0xe0) {
          secondLow = 0xa0;
        } else if (first == 0xed) {
          secondHigh = 0x9f;
        }
      } else if (first >= 0xf0 && first <= 0xf4) {
        continuations = 3;
        if (first == 0xf0) {
          secondLow = 0x90;
        } else if (first == 0xf4) {
          secondHigh = 0x8f;
        }
      } else {
        return false;
      }
      if (index + continuations >= end) {
        return false;
      }
      int second = bytes[index + 1] & 0xff;
      if (second < secondLow || second > secondHigh) {
        return false;
      }
      for (int next = 2; next <= continuations; next++) {
        int continuation = bytes[index + next] & 0xff;
        if (continuation < 0x80 || continuation > 0xbf) {
          return false;
        }
      }
      index += continuations + 1;
    }
    return true;
  }
}
