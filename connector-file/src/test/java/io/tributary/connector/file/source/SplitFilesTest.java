package io.tributary.connector.file.source;

import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.core.api.OffsetRange;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SplitFilesTest {
  @TempDir Path tmp;
  Path in;

  @BeforeEach
  void dirs() throws IOException {
    in = Files.createDirectories(tmp.resolve("in"));
  }

  Map<String, Object> opts(Object... kv) {
    Map<String, Object> m = new HashMap<>();
    m.put("paths", in.toString());
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], kv[i + 1]);
    }
    return m;
  }

  Path put(String name, byte[] content) throws IOException {
    Path t = in.resolve("." + name + ".tmp");
    Files.write(t, content);
    return Files.move(t, in.resolve(name), StandardCopyOption.ATOMIC_MOVE);
  }

  @Test
  void everyLineIsReadByExactlyOneSplitWhateverWhereTheBoundariesFall() throws Exception {
    Random random = new Random(42);
    List<String> expected = new ArrayList<>();
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < 400; i++) {
      String line = "line-" + i + "-" + "x".repeat(random.nextInt(40));
      expected.add(line);
      sb.append(line).append(i % 3 == 0 ? "\r\n" : "\n");
    }
    sb.append("last-without-newline");
    expected.add("last-without-newline");
    for (int splitSize : new int[] {7, 64, 100, 999}) {
      Path ckpt = tmp.resolve("ckpt-" + splitSize);
      try (SourceHarness h =
          new SourceHarness(opts("split-size", splitSize, "max-files-per-batch", 100_000), ckpt)) {
        h.batch();
        Path f = put("big-" + splitSize + ".txt", sb.toString().getBytes(StandardCharsets.UTF_8));
        List<OffsetRange> ranges = h.plan();
        long len = Files.size(f);
        assertThat(ranges.get(0).count()).as("splits").isEqualTo((len + splitSize - 1) / splitSize);
        assertThat(h.read(ranges))
            .as("split-size %d", splitSize)
            .containsExactlyElementsOf(expected);
      }
    }
  }

  @Test
  void fixedLengthSplitsHoldWholeRecords() throws Exception {
    try (SourceHarness h =
        new SourceHarness(
            opts("format", "fixed-length", "record-length", 10, "split-size", 25),
            tmp.resolve("c"))) {
      h.batch();
      StringBuilder sb = new StringBuilder();
      List<String> expected = new ArrayList<>();
      for (int i = 0; i < 9; i++) {
        String r = String.format("record-%03d", i);
        sb.append(r);
        expected.add(r);
      }
      put("r.bin", sb.toString().getBytes(StandardCharsets.UTF_8));
      List<OffsetRange> ranges = h.plan();
      assertThat(ranges.get(0).count()).isEqualTo(5); // 20-byte ranges: 2+2+2+2+1 records
      assertThat(h.read(ranges)).containsExactlyElementsOf(expected);
    }
  }

  @Test
  void compressedFilesAreNeverSplitAndASplitFileIsDeletedOnlyWhenAllOfItIsCommitted()
      throws Exception {
    Map<String, Object> o =
        opts("split-size", 10, "max-files-per-batch", 2, "clean-source", "delete");
    try (SourceHarness h = new SourceHarness(o, tmp.resolve("c"))) {
      h.batch();
      Path f =
          put("a.txt", "0123456789\nabcdefghij\nABCDEFGHIJ\n".getBytes(StandardCharsets.UTF_8));
      // 33 bytes in 4 ranges: more than the allowance, admitted together as the first file of the
      // cycle
      List<OffsetRange> first = h.plan();
      assertThat(first.get(0).count()).isEqualTo(4);
      List<OffsetRange> partial =
          List.of(new OffsetRange(first.get(0).partition(), first.get(0).fromOffset(), 2));
      assertThat(h.read(partial)).containsExactly("0123456789", "abcdefghij");
      h.commit(partial);
      assertThat(f).exists();
      List<OffsetRange> rest =
          List.of(new OffsetRange(first.get(0).partition(), 2, first.get(0).untilOffset()));
      assertThat(h.read(rest)).containsExactly("ABCDEFGHIJ");
      h.commit(rest);
      assertThat(f).doesNotExist();
      put(
          "b.txt.gz",
          FileFormatsAndBadInputTest.compress(
              "z\n".repeat(50), java.util.zip.GZIPOutputStream::new));
      List<OffsetRange> gz = h.plan();
      assertThat(gz.get(0).count()).isEqualTo(1);
      assertThat(h.read(gz)).hasSize(50);
    }
  }
}
