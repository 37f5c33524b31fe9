package io.tributary.core.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@link PackedRecords}: the records it stands for, views, sizes and positions. */
class PackedRecordsTest {
  static final Map<String, byte[]> HEADERS = Map.of("remote", bytes("10.0.0.1:5000"));

  static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /**
   * Two reads as a socket connection gives them: "a\nbb\r\n\nccc\n" at offsets 10.. and
   * "dd\nx-bad\ne\n" at offsets 40.. with the bad line left out.
   */
  static PackedRecords twoReads() {
    byte[] first = bytes("a\nbb\r\n\nccc\n");
    byte[] second = bytes("dd\nx-bad\ne\n");
    return new PackedRecords.Builder("rx", "server", HEADERS, 1)
        .add(first, new int[] {0, 2, 6, 7}, new int[] {1, 4, 6, 10}, 4, 10, 1000L)
        .add(second, new int[] {0, 9}, new int[] {2, 10}, 2, 40, 2000L)
        .build();
  }

  static Record record(String value, long ts, long offset) {
    return new Record(null, bytes(value), ts, HEADERS, new SourcePosition("rx", "server", offset));
  }

  static List<Record> expected() {
    return List.of(
        record("a", 1000, 10),
        record("bb", 1000, 11),
        record("", 1000, 12),
        record("ccc", 1000, 13),
        record("dd", 2000, 40),
        record("e", 2000, 41));
  }

  @Test
  void standsForTheRecordsOfItsChunks() {
    PackedRecords packed = twoReads();
    assertThat(packed).hasSize(6).containsExactlyElementsOf(expected());
    assertThat(new ArrayList<>(packed)).isEqualTo(expected());
    assertThat(packed.get(3).headers()).isSameAs(packed.headers());
  }

  @Test
  void sizesAndHighestOffsetWithoutBuildingRecords() {
    PackedRecords packed = twoReads();
    long sum = expected().stream().mapToLong(Record::sizeInBytes).sum();
    assertThat(packed.sizeInBytes()).isEqualTo(sum);
    assertThat(packed.valueBytes()).isEqualTo(1 + 2 + 0 + 3 + 2 + 1);
    assertThat(packed.maxOffset()).isEqualTo(41);
  }

  @Test
  void subListIsAPackedViewAcrossChunks() {
    PackedRecords packed = twoReads();
    for (int from = 0; from <= 6; from++) {
      for (int to = from; to <= 6; to++) {
        PackedRecords view = packed.subList(from, to);
        List<Record> want = expected().subList(from, to);
        assertThat(view).containsExactlyElementsOf(want);
        assertThat(view.sizeInBytes())
            .isEqualTo(want.stream().mapToLong(Record::sizeInBytes).sum());
        assertThat(view.maxOffset())
            .isEqualTo(want.stream().mapToLong(r -> r.position().offset()).max().orElse(-1));
        List<String> visited = new ArrayList<>();
        view.forEachValue(
            (array, start, end, offset, ts) ->
                visited.add(
                    new String(array, start, end - start, StandardCharsets.UTF_8)
                        + "@"
                        + offset
                        + "/"
                        + ts));
        assertThat(visited)
            .containsExactlyElementsOf(
                want.stream()
                    .map(r -> r.valueAsString() + "@" + r.position().offset() + "/" + r.timestamp())
                    .toList());
      }
    }
    assertThat(packed.subList(1, 5).subList(1, 3))
        .containsExactlyElementsOf(expected().subList(2, 4));
  }

  @Test
  void emptyBuilderGivesAnEmptyList() {
    PackedRecords empty = new PackedRecords.Builder("rx", "p", Map.of(), 0).build();
    assertThat(empty).isEmpty();
    assertThat(empty.sizeInBytes()).isZero();
    assertThat(empty.maxOffset()).isEqualTo(-1);
  }

  @Test
  void growsPastItsInitialCapacity() {
    PackedRecords.Builder b = new PackedRecords.Builder("rx", "p", Map.of(), 1);
    byte[] data = bytes("x\n");
    for (int i = 0; i < 100; i++) {
      b.add(data, new int[] {0}, new int[] {1}, 1, 2L * i, i);
    }
    PackedRecords packed = b.build();
    assertThat(packed).hasSize(100);
    assertThat(packed.get(99).position().offset()).isEqualTo(198);
    assertThat(packed.get(99).timestamp()).isEqualTo(99);
    assertThat(packed.maxOffset()).isEqualTo(198);
  }

  @Test
  void rejectsBoundsOutsideTheArrayAndNegativeOffsets() {
    PackedRecords.Builder b = new PackedRecords.Builder("rx", "p", Map.of(), 1);
    byte[] data = bytes("abc");
    assertThatThrownBy(() -> b.add(data, new int[] {2}, new int[] {4}, 1, 0, 0))
        .isInstanceOf(IndexOutOfBoundsException.class);
    assertThatThrownBy(() -> b.add(data, new int[] {2}, new int[] {1}, 1, 0, 0))
        .isInstanceOf(IndexOutOfBoundsException.class);
    assertThatThrownBy(() -> b.add(data, new int[] {0}, new int[] {1}, 1, -1, 0))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(b.isEmpty()).isTrue();
  }
}
