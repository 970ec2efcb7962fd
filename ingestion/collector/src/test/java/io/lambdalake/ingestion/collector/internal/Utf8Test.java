package io.lambdalake.ingestion.collector.internal;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.Test;

class Utf8Test {
  @Test
  void acceptsWellFormedText() {
    assertThat(Utf8.isWellFormed("".getBytes(UTF_8))).isTrue();
    assertThat(Utf8.isWellFormed("plain ASCII".getBytes(UTF_8))).isTrue();
    assertThat(Utf8.isWellFormed("Café, Ελληνικά, 日本語, 😀".getBytes(UTF_8))).isTrue();
    assertThat(Utf8.isWellFormed(bytes(0xf4, 0x8f, 0xbf, 0xbf))).as("U+10FFFF").isTrue();
  }

  @Test
  void refusesMalformedSequences() {
    assertThat(Utf8.isWellFormed(bytes(0xff))).as("never a UTF-8 byte").isFalse();
    assertThat(Utf8.isWellFormed(bytes(0x80))).as("lone continuation").isFalse();
    assertThat(Utf8.isWellFormed(bytes(0xc0, 0xaf))).as("overlong '/'").isFalse();
    assertThat(Utf8.isWellFormed(bytes(0xe0, 0x80, 0xaf))).as("overlong 3 bytes").isFalse();
    assertThat(Utf8.isWellFormed(bytes(0xed, 0xa0, 0x80))).as("encoded surrogate").isFalse();
    assertThat(Utf8.isWellFormed(bytes(0xf4, 0x90, 0x80, 0x80))).as("above U+10FFFF").isFalse();
    assertThat(Utf8.isWellFormed(bytes(0xe2, 0x82))).as("truncated").isFalse();
    assertThat(Utf8.isWellFormed(bytes('a', 0xc3))).as("truncated at the end").isFalse();
  }

  @Test
  void agreesWithTheJdkDecoderOnRandomBytes() {
    Random random = new Random(42);
    for (int round = 0; round < 20_000; round++) {
      byte[] bytes = new byte[random.nextInt(12)];
      random.nextBytes(bytes);
      assertThat(Utf8.isWellFormed(bytes))
          .as("%s", HexFormat.of().formatHex(bytes))
          .isEqualTo(jdkAccepts(bytes));
    }
  }

  @Test
  void checksOnlyTheGivenRange() {
    byte[] bytes = bytes(0xff, 'o', 'k', 0xff);
    assertThat(Utf8.isWellFormed(bytes, 1, 2)).isTrue();
    assertThat(Utf8.isWellFormed(bytes, 0, 2)).isFalse();
  }

  private static boolean jdkAccepts(byte[] bytes) {
    try {
      UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes));
      return true;
    } catch (CharacterCodingException e) {
      return false;
    }
  }

  private static byte[] bytes(int... values) {
    byte[] bytes = new byte[values.length];
    for (int index = 0; index < values.length; index++) {
      bytes[index] = (byte) values[index];
    }
    return bytes;
  }
}
