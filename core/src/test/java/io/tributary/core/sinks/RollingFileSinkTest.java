package io.tributary.core.sinks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tributary.core.api.BatchWriter;
import io.tributary.core.api.PackedRecords;
import io.tributary.core.api.Record;
import io.tributary.core.api.SinkBatch;
import io.tributary.core.api.SinkContext;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** File naming, rolling, idempotent replay and crash leftovers of {@link RollingFileSink}. */
class RollingFileSinkTest {
  @TempDir Path dir;

  private static final SinkContext CONTEXT =
      new SinkContext() {
        private final MeterRegistry registry = new SimpleMeterRegistry();

        @Override
        public String pipelineId() {
          return "p";
        }

        @Override
        public String sinkName() {
          return "files";
        }

        @Override
        public MeterRegistry meterRegistry() {
          return registry;
        }
      };

  private RollingFileSink opened(RollingFileSink.Builder b) throws IOException {
    RollingFileSink sink = b.fsync(false).build();
    sink.open(CONTEXT);
    return sink;
  }

  private static List<Record> records(String prefix, int n) {
    return IntStream.range(0, n).mapToObj(i -> Record.ofString(prefix + i)).toList();
  }

  private List<String> names() throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void writesRecordsLargerThanItsWriteBufferBetweenSmallOnesInOrder() throws IOException {
    RollingFileSink sink = opened(RollingFileSink.builder(dir));
    byte[] big = new byte[(1 << 20) + 5]; // larger than the sink's 1 MB write buffer
    Arrays.fill(big, (byte) 'b');
    byte[] fits = new byte[(1 << 20) - 3]; // fits the buffer alone, not after the small records
    Arrays.fill(fits, (byte) 'f');
    sink.write(
        1,
        List.of(
            Record.ofString("a"),
            Record.of(big),
            Record.ofString("c"),
            Record.of(fits),
            Record.ofString("d")));
    String expected = "a\n" + "b".repeat(big.length) + "\nc\n" + "f".repeat(fits.length) + "\nd\n";
    assertThat(Files.readString(dir.resolve(sink.fileName(1, 0)))).isEqualTo(expected);
  }

  @Test
  void namesFilesAfterBatchAndPart() throws IOException {
    RollingFileSink sink = opened(RollingFileSink.builder(dir).prefix("clicks").suffix(".jsonl"));
    assertThat(sink.fileName(42, 3)).isEqualTo("clicks-00000000000000000042-00003.jsonl");
    sink.write(7, records("r", 3));
    assertThat(names()).containsExactly("clicks-00000000000000000007-00000.jsonl");
    assertThat(Files.readAllLines(dir.resolve(names().get(0)))).containsExactly("r0", "r1", "r2");
  }

  @Test
  void rollsToANewPartWhenAFileReachesTheSize() throws IOException {
    RollingFileSink sink = opened(RollingFileSink.builder(dir).maxFileBytes(10));
    // Each record is 4 bytes + newline: two per 10-byte file.
    sink.write(
        1,
        List.of(
            Record.ofString("aaaa"),
            Record.ofString("bbbb"),
            Record.ofString("cccc"),
            Record.ofString("dddd"),
            Record.ofString("eeee")));
    assertThat(names())
        .containsExactly(sink.fileName(1, 0), sink.fileName(1, 1), sink.fileName(1, 2));
    assertThat(Files.readString(dir.resolve(sink.fileName(1, 0)))).isEqualTo("aaaa\nbbbb\n");
    assertThat(Files.readString(dir.resolve(sink.fileName(1, 1)))).isEqualTo("cccc\ndddd\n");
    assertThat(Files.readString(dir.resolve(sink.fileName(1, 2)))).isEqualTo("eeee\n");
  }

  @Test
  void recordLargerThanTheRollSizeGetsAFileOfItsOwn() throws IOException {
    RollingFileSink sink = opened(RollingFileSink.builder(dir).maxFileBytes(3));
    sink.write(0, List.of(Record.ofString("long-record"), Record.ofString("x")));
    assertThat(names()).containsExactly(sink.fileName(0, 0), sink.fileName(0, 1));
    assertThat(Files.readString(dir.resolve(sink.fileName(0, 0)))).isEqualTo("long-record\n");
  }

  @Test
  void replayOfTheSameBatchReplacesFilesWithIdenticalContent() throws IOException {
    RollingFileSink sink = opened(RollingFileSink.builder(dir).maxFileBytes(20));
    List<Record> batch = records("value-", 10);
    sink.write(5, batch);
    List<String> namesBefore = names();
    List<String> contentBefore = namesBefore.stream().map(n -> read(dir.resolve(n))).toList();

    RollingFileSink afterRestart = opened(RollingFileSink.builder(dir).maxFileBytes(20));
    afterRestart.write(5, batch);
    assertThat(names()).isEqualTo(namesBefore);
    assertThat(namesBefore.stream().map(n -> read(dir.resolve(n))).toList())
        .isEqualTo(contentBefore);
  }

  @Test
  void replayWithFewerPartsRemovesStaleExtraParts() throws IOException {
    List<Record> batch = records("v", 6);
    RollingFileSink small = opened(RollingFileSink.builder(dir).maxFileBytes(3));
    small.write(9, batch);
    small.write(10, batch);
    assertThat(names()).hasSize(12);

    RollingFileSink large = opened(RollingFileSink.builder(dir).maxFileBytes(1_000));
    large.write(9, batch);
    assertThat(names())
        .filteredOn(n -> n.contains("-00000000000000000009-"))
        .containsExactly(large.fileName(9, 0));
    assertThat(Files.readAllLines(dir.resolve(large.fileName(9, 0))))
        .containsExactly("v0", "v1", "v2", "v3", "v4", "v5");
    // Other batches are untouched.
    assertThat(names()).filteredOn(n -> n.contains("-00000000000000000010-")).hasSize(6);
  }

  @Test
  void leftoverHiddenTempFilesAreDeletedOnOpen() throws IOException {
    RollingFileSink sink = RollingFileSink.builder(dir).fsync(false).build();
    Files.writeString(dir.resolve("." + sink.fileName(3, 0) + ".tmp"), "half a batch");
    Files.writeString(dir.resolve(sink.fileName(2, 0)), "published\n");
    sink.open(CONTEXT);
    assertThat(names()).containsExactly(sink.fileName(2, 0));
  }

  @Test
  void emptyBatchWritesNothing() throws IOException {
    RollingFileSink sink = opened(RollingFileSink.builder(dir));
    sink.write(0, List.of());
    assertThat(names()).isEmpty();
  }

  @Test
  void writesLeaveNoTempFiles() throws IOException {
    RollingFileSink sink = RollingFileSink.builder(dir).maxFileBytes(5).build(); // with fsync
    sink.open(CONTEXT);
    sink.write(0, records("r", 20));
    assertThat(names()).noneMatch(n -> n.startsWith("."));
  }

  @Test
  void aBatchWrittenInManyChunksGivesTheSameFilesAsOneWrite() throws Exception {
    List<Record> batch = records("value-", 200); // 8-10 bytes a line: ~12 parts of 150 bytes
    Path whole = dir.resolve("whole");
    Path chunked = dir.resolve("chunked");
    opened(RollingFileSink.builder(whole).maxFileBytes(150)).write(4, batch);

    RollingFileSink sink = opened(RollingFileSink.builder(chunked).maxFileBytes(150));
    try (BatchWriter w = sink.begin(SinkBatch.of(4))) {
      int from = 0;
      for (int size = 1;
          from < batch.size();
          size = size * 2 + 1) { // chunk ends fall anywhere inside a part
        int to = Math.min(batch.size(), from + size);
        w.write(batch.subList(from, to));
        from = to;
      }
      w.commit();
    }
    assertThat(contents(chunked)).hasSizeGreaterThan(10).isEqualTo(contents(whole));
  }

  /**
   * Lines as a socket read gives them: {@code text} cut at each newline (a {@code \r} before it
   * removed), lines starting with {@code "bad"} left out, in chunks of {@code perChunk} lines.
   */
  private static PackedRecords packed(String text, int perChunk) {
    byte[] data = text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    PackedRecords.Builder b = new PackedRecords.Builder("s", "p", Map.of(), 1);
    int[] starts = new int[perChunk];
    int[] ends = new int[perChunk];
    int n = 0;
    long offset = 0;
    int pos = 0;
    while (pos < data.length) {
      int eol = pos;
      while (data[eol] != '\n') {
        eol++;
      }
      int end = eol > pos && data[eol - 1] == '\r' ? eol - 1 : eol;
      if (!new String(data, pos, end - pos, java.nio.charset.StandardCharsets.UTF_8)
          .startsWith("bad")) {
        starts[n] = pos;
        ends[n] = end;
        n++;
      }
      pos = eol + 1;
      if (n == perChunk || pos >= data.length) {
        b.add(data, starts, ends, n, offset, 0L);
        offset += n;
        n = 0;
      }
    }
    return b.build();
  }

  @Test
  void packedChunksGiveTheSameFilesAsTheirRecords() throws Exception {
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < 300; i++) {
      text.append(i % 17 == 0 ? "bad-" + i : "value-" + i).append(i % 23 == 0 ? "\r\n" : "\n");
      if (i % 29 == 0) {
        text.append("\n"); // an empty line
      }
    }
    PackedRecords packed = packed(text.toString(), 37);
    for (long roll : new long[] {1, 7, 150, 1_000_000}) {
      Path byRecords = dir.resolve("records-" + roll);
      Path byPacked = dir.resolve("packed-" + roll);
      opened(RollingFileSink.builder(byRecords).maxFileBytes(roll))
          .write(3, new java.util.ArrayList<>(packed));
      RollingFileSink sink = opened(RollingFileSink.builder(byPacked).maxFileBytes(roll));
      try (BatchWriter w = sink.begin(SinkBatch.of(3))) {
        int from = 0;
        for (int size = 1; from < packed.size(); size = size * 2 + 1) {
          int to = Math.min(packed.size(), from + size);
          w.write(packed.subList(from, to));
          from = to;
        }
        w.commit();
      }
      assertThat(contents(byPacked)).as("roll at " + roll).isEqualTo(contents(byRecords));
    }
    assertThat(contents(dir.resolve("packed-1000000")).values().iterator().next())
        .startsWith("\nvalue-1\nvalue-2\n")
        .doesNotContain("bad")
        .doesNotContain("\r");
  }

  @Test
  void packedValuesLargerThanTheWriteBufferBetweenSmallOnesInOrder() throws IOException {
    String big = "b".repeat((1 << 20) + 5);
    String fits = "f".repeat((1 << 20) - 3);
    String text = "a\n" + big + "\nc\n" + fits + "\nd\n";
    RollingFileSink sink = opened(RollingFileSink.builder(dir));
    sink.write(1, packed(text, 2));
    assertThat(Files.readString(dir.resolve(sink.fileName(1, 0)))).isEqualTo(text);
  }

  @Test
  void anAbandonedWriterLeavesNoVisibleOutputAndKeepsEarlierFiles() throws Exception {
    RollingFileSink sink = opened(RollingFileSink.builder(dir).maxFileBytes(20));
    sink.write(1, records("published-", 4));
    List<String> before = names();

    BatchWriter abandoned = sink.begin(SinkBatch.of(2));
    abandoned.write(records("r", 10)); // several parts: finished ones and one open
    abandoned.write(records("s", 3));
    assertThat(names())
        .as("temp files while the batch is written")
        .anyMatch(n -> n.startsWith("."));
    abandoned.close();
    abandoned.close(); // safe twice
    assertThat(names()).isEqualTo(before);

    BatchWriter replay =
        sink.begin(SinkBatch.of(1)); // a replay of a published batch, abandoned half-way
    replay.write(records("published-", 2));
    replay.close();
    assertThat(names()).isEqualTo(before);
    assertThat(Files.readAllLines(dir.resolve(sink.fileName(1, 0))))
        .containsExactly("published-0", "published-1");
  }

  @Test
  void rejectsNonPositiveRollSize() {
    assertThatThrownBy(() -> RollingFileSink.builder(dir).maxFileBytes(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxFileBytes");
  }

  /** File name to content, of every file in {@code d}. */
  private static Map<String, String> contents(Path d) throws IOException {
    Map<String, String> out = new TreeMap<>();
    try (Stream<Path> s = Files.list(d)) {
      for (Path p : s.toList()) {
        out.put(p.getFileName().toString(), Files.readString(p));
      }
    }
    return out;
  }

  private static String read(Path p) {
    try {
      return Files.readString(p);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
