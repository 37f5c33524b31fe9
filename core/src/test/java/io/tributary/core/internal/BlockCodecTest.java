package io.tributary.core.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tributary.core.api.Record;
import io.tributary.core.api.SourcePosition;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The binary block format of the write-ahead log. */
class BlockCodecTest {
  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void roundTripKeepsEveryField() {
    Map<String, byte[]> headers = new LinkedHashMap<>();
    headers.put("content-type", b("text/plain"));
    headers.put("trace", new byte[] {0, (byte) 0xff, 7});
    headers.put("empty", new byte[0]);
    List<Record> records =
        List.of(
            new Record(null, b("no key"), -1L, Map.of(), SourcePosition.NONE),
            new Record(
                b("k1"),
                b("héllo ✓"),
                1_700_000_000_123L,
                headers,
                new SourcePosition("socket", "sender-1", 42)),
            new Record(
                new byte[0],
                new byte[0],
                0L,
                Map.of(),
                new SourcePosition("s", "", Long.MAX_VALUE)));

    BlockCodec.Block block = BlockCodec.decode(BlockCodec.encode(17, records));

    assertThat(block.seq()).isEqualTo(17);
    assertThat(block.records()).containsExactlyElementsOf(records);
    assertThat(block.records().get(0).key()).isNull();
    assertThat(block.records().get(1).headers().keySet())
        .containsExactly("content-type", "trace", "empty");
    assertThat(block.records().get(1).position())
        .isEqualTo(new SourcePosition("socket", "sender-1", 42));
    assertThat(block.records().get(2).key()).isEmpty();
  }

  @Test
  void unnumberedBlockGetsItsSequenceNumberFromTheCodec() {
    List<Record> records = List.of(Record.ofString("a"), Record.ofString("b"));
    BlockCodec.Unnumbered unnumbered = BlockCodec.encodeUnnumbered(records);

    byte[] bytes = unnumbered.numbered(Long.MAX_VALUE - 3);

    assertThat(bytes).isEqualTo(BlockCodec.encode(Long.MAX_VALUE - 3, records));
    assertThat(BlockCodec.decode(bytes).seq()).isEqualTo(Long.MAX_VALUE - 3);
  }

  @Test
  void emptyBlockRoundTrips() {
    assertThat(BlockCodec.decode(BlockCodec.encode(0, List.of())).records()).isEmpty();
  }

  @Test
  void rejectsUnknownFormatAndTruncatedData() {
    byte[] data = BlockCodec.encode(3, List.of(Record.ofString("abc")));
    byte[] otherFormat = data.clone();
    otherFormat[3] = 99;
    assertThatThrownBy(() -> BlockCodec.decode(otherFormat))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Unknown block format 99");
    assertThatThrownBy(() -> BlockCodec.decode(Arrays.copyOf(data, data.length - 2)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Truncated");
  }
}
