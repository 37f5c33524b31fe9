package io.tributary.connector.socket.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

class Utf8Test {
  private static boolean jdkAccepts(byte[] b) {
    try {
      StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(b));
      return true;
    } catch (CharacterCodingException e) {
      return false;
    }
  }

  @Test
  void agreesWithTheJdkDecoderOnEdgeCases() {
    String[] hex = {
      "",
      "41",
      "c2a9",
      "c0af",
      "c1bf",
      "e282ac",
      "e08080",
      "e0a080",
      "eda080",
      "ed9fbf",
      "f0908080",
      "f0808080",
      "f48fbfbf",
      "f4908080",
      "f5808080",
      "80",
      "c2",
      "e282",
      "f09080",
      "ff",
      "41424344454647c2a9",
      "4142434445464748c3",
      "41424344454647484950515253545556e282ac"
    };
    for (String h : hex) {
      byte[] b = new byte[h.length() / 2];
      for (int i = 0; i < b.length; i++) {
        b[i] = (byte) Integer.parseInt(h.substring(2 * i, 2 * i + 2), 16);
      }
      assertThat(Utf8.isValid(b)).as(h).isEqualTo(jdkAccepts(b));
    }
  }

  @Test
  void agreesWithTheJdkDecoderOnRandomMostlyAsciiLines() {
    Random random = new Random(42);
    for (int k = 0; k < 20_000; k++) {
      byte[] b = new byte[random.nextInt(40)];
      for (int i = 0; i < b.length; i++) {
        b[i] =
            (byte)
                (random.nextInt(10) == 0 ? 0x80 + random.nextInt(128) : 'a' + random.nextInt(26));
      }
      assertThat(Utf8.isValid(b)).isEqualTo(jdkAccepts(b));
    }
    for (int k = 0; k < 2_000; k++) {
      String s =
          new StringBuilder()
              .appendCodePoint(random.nextInt(0x10FFFF + 1))
              .append("text")
              .toString();
      byte[] b = s.getBytes(StandardCharsets.UTF_8);
      assertThat(Utf8.isValid(b)).as(s).isEqualTo(jdkAccepts(b));
    }
  }
}
