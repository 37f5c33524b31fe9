package io.tributary.core.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tributary.core.api.PackedRecords;
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
  void stringTableHoldsEachDistinctStringOnceWhateverTheInstances() {
    // More distinct strings than the codec's identity cache, interleaved, as equal but distinct
    // instances in one list and as shared instances in the other: same bytes, same records.
    List<Record> shared = new java.util.ArrayList<>();
    List<Record> copies = new java.util.ArrayList<>();
    String[] partitions = {"p0", "p1", "p2", "p3", "p4", "p5", "p6"};
    for (int i = 0; i < 50; i++) {
      String partition = partitions[(i * 5) % partitions.length];
      Map<String, byte[]> headers = new LinkedHashMap<>();
      headers.put("h" + (i % 3), b("v" + i));
      shared.add(
          new Record(
              null, b("r" + i), i, Map.copyOf(headers), new SourcePosition("src", partition, i)));
      Map<String, byte[]> copiedHeaders = new LinkedHashMap<>();
      headers.forEach((k, v) -> copiedHeaders.put(new String(k), v));
      copies.add(
          new Record(
              null,
              b("r" + i),
              i,
              copiedHeaders,
              new SourcePosition(new String("src"), new String(partition), i)));
    }

    byte[] encoded = BlockCodec.encode(9, copies);

    assertThat(encoded).isEqualTo(BlockCodec.encode(9, shared));
    assertThat(java.nio.ByteBuffer.wrap(encoded).getInt(12)).isEqualTo(1 + 7 + 3);
    assertThat(BlockCodec.decode(encoded).records()).containsExactlyElementsOf(shared);
  }

  private static PackedRecords packed(String source, String partition, Map<String, byte[]> h) {
    byte[] first = b("a\nbb\r\n\nccé\n");
    byte[] second = b("dd\nx-bad\ne\n");
    return new PackedRecords.Builder(source, partition, h, 1)
        .add(first, new int[] {0, 2, 6, 7}, new int[] {1, 4, 6, 11}, 4, 10, 1000L)
        .add(second, new int[] {0, 9}, new int[] {2, 10}, 2, 40, 2000L)
        .build();
  }

  @Test
  void packedRecordsRoundTripInThePackedFormatAsTheRecordsTheyStandFor() {
    List<PackedRecords> cases =
        List.of(
            packed("rx", "server", Map.of()),
            packed("rx", "server", Map.of("remote", b("10.0.0.1:5000"))),
            packed("rx", "rx", Map.of("remote", b("r"), "other", new byte[0])),
            packed("", "p", Map.of("rx", b("v"))),
            packed("rx", "server", Map.of("remote", b("r"))).subList(1, 5),
            packed("rx", "server", Map.of("remote", b("r"))).subList(4, 6),
            packed("", "", Map.of())); // offsets kept, unlike format 2's "no position"
    for (PackedRecords packed : cases) {
      List<Record> records = new java.util.ArrayList<>(packed);
      byte[] bytes = BlockCodec.encode(5, packed);
      BlockCodec.Block block = BlockCodec.decode(bytes);
      assertThat(block.seq()).isEqualTo(5);
      assertThat(block.records()).containsExactlyElementsOf(records);
      assertThat(java.nio.ByteBuffer.wrap(bytes).getInt())
          .as("format")
          .isEqualTo(BlockCodec.PACKED_FORMAT);
      assertThat(block.records()).isInstanceOf(PackedRecords.class);
      assertThat(bytes.length)
          .as("smaller than format 2")
          .isLessThan(BlockCodec.encode(5, records).length);
    }
  }

  @Test
  void packedBlockCutShortIsRejected() {
    byte[] bytes = BlockCodec.encode(5, packed("rx", "server", Map.of("remote", b("r"))));
    for (int cut : new int[] {3, 20, bytes.length / 2, bytes.length - 1}) {
      assertThatThrownBy(() -> BlockCodec.decode(Arrays.copyOf(bytes, cut)))
          .as("cut at " + cut)
          .isInstanceOf(IllegalArgumentException.class);
    }
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
