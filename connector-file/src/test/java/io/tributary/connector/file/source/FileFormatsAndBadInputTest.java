package io.tributary.connector.file.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.luben.zstd.ZstdOutputStream;
import io.tributary.connector.file.BadFileException;
import io.tributary.connector.file.CorruptFileException;
import io.tributary.connector.file.FileAccessDeniedException;
import io.tributary.connector.file.FileVanishedException;
import io.tributary.connector.file.QuarantinedFile;
import io.tributary.connector.file.RecordTooLongException;
import io.tributary.core.api.OffsetRange;
import io.tributary.core.api.Record;
import io.tributary.core.api.RetriableException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.compressors.bzip2.BZip2CompressorOutputStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileFormatsAndBadInputTest {
  @TempDir Path tmp;
  Path in;
  Path ckpt;

  @BeforeEach
  void dirs() throws IOException {
    in = Files.createDirectories(tmp.resolve("in"));
    ckpt = tmp.resolve("ckpt");
  }

  Map<String, Object> opts(Object... kv) {
    Map<String, Object> m = new HashMap<>();
    m.put("paths", in.toUri().toString());
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], kv[i + 1]);
    }
    return m;
  }

  static Path put(Path dir, String name, byte[] content) throws IOException {
    Path t = dir.resolve("." + name + ".tmp");
    Files.write(t, content);
    return Files.move(t, dir.resolve(name), StandardCopyOption.ATOMIC_MOVE);
  }

  interface Wrap {
    OutputStream wrap(OutputStream out) throws IOException;
  }

  static byte[] compress(String text, Wrap wrap) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (OutputStream out = wrap.wrap(bytes)) {
      out.write(text.getBytes(StandardCharsets.UTF_8));
    }
    return bytes.toByteArray();
  }

  @Test
  void textLinesFromPlainGzipBzip2AndZstdFilesByExtension() throws Exception {
    try (SourceHarness h = new SourceHarness(opts(), ckpt)) {
      h.batch();
      put(in, "a.txt", "plain1\nplain2\n".getBytes(StandardCharsets.UTF_8));
      put(in, "b.txt.gz", compress("gz1\ngz2\n", GZIPOutputStream::new));
      put(in, "c.txt.bz2", compress("bz1\nbz2", BZip2CompressorOutputStream::new));
      put(in, "d.txt.zst", compress("zs1\nzs2\n", ZstdOutputStream::new));
      put(in, "e.txt", "ünïcödé\n\nafter-empty\n".getBytes(StandardCharsets.UTF_8));
      assertThat(h.batch())
          .containsExactlyInAnyOrder(
              "plain1",
              "plain2",
              "gz1",
              "gz2",
              "bz1",
              "bz2",
              "zs1",
              "zs2",
              "ünïcödé",
              "",
              "after-empty");
    }
  }

  @Test
  void wholeFileFormatGivesOneRecordPerDecompressedFile() throws Exception {
    try (SourceHarness h = new SourceHarness(opts("format", "whole-file"), ckpt)) {
      h.batch();
      put(in, "a.bin", new byte[] {0, 1, 2, '\n', 3});
      put(in, "b.gz", compress("whole\ncontent", GZIPOutputStream::new));
      List<Record> records = h.records(h.plan());
      assertThat(records)
          .extracting(Record::value)
          .containsExactlyInAnyOrder(
              new byte[] {0, 1, 2, '\n', 3}, "whole\ncontent".getBytes(StandardCharsets.UTF_8));
    }
  }

  @Test
  void fixedLengthRecordsAndAPartialTailIsCorrupt() throws Exception {
    try (SourceHarness h =
        new SourceHarness(opts("format", "fixed-length", "record-length", 4), ckpt)) {
      h.batch();
      put(in, "a.bin", "AAAABBBBCCCC".getBytes(StandardCharsets.UTF_8));
      assertThat(h.batch()).containsExactly("AAAA", "BBBB", "CCCC");
      put(in, "b.bin", "DDDDEE".getBytes(StandardCharsets.UTF_8));
      List<OffsetRange> ranges = h.plan();
      assertThatThrownBy(() -> h.read(ranges))
          .isInstanceOf(CorruptFileException.class)
          .hasMessageContaining("b.bin")
          .hasMessageContaining("partial record");
    }
  }

  @Test
  void overLongLineFailsTheFileUnderFailPolicy() throws Exception {
    try (SourceHarness h = new SourceHarness(opts("max-line-length", 8), ckpt)) {
      h.batch();
      put(in, "ok.txt", "12345678\r\n12345678\n".getBytes(StandardCharsets.UTF_8));
      assertThat(h.batch()).containsExactly("12345678", "12345678");
      put(in, "long.txt", "short\n123456789\n".getBytes(StandardCharsets.UTF_8));
      List<OffsetRange> ranges = h.plan();
      assertThatThrownBy(() -> h.read(ranges))
          .isInstanceOf(RecordTooLongException.class)
          .hasMessageContaining("Line 2 of")
          .hasMessageContaining("max-line-length 8");
    }
  }

  @Test
  void truncatedCompressedFilesAreCorrupt() throws Exception {
    byte[] gz = compress("line\n".repeat(2000), GZIPOutputStream::new);
    byte[] zst = compress("line\n".repeat(2000), ZstdOutputStream::new);
    byte[] bz = compress("line\n".repeat(2000), BZip2CompressorOutputStream::new);
    for (Object[] c : new Object[][] {{"t.gz", gz}, {"t.zst", zst}, {"t.bz2", bz}}) {
      Path dir = Files.createDirectories(tmp.resolve("in-" + c[0]));
      Map<String, Object> o = opts();
      o.put("paths", dir.toUri().toString());
      // 0s: a truncated file is not waited for as possibly still being written
      // (IncompleteFilesTest)
      o.put("watch-changes-for", "0s");
      try (SourceHarness h = new SourceHarness(o, tmp.resolve("ckpt-" + c[0]))) {
        h.batch();
        byte[] full = (byte[]) c[1];
        put(dir, (String) c[0], Arrays.copyOf(full, full.length / 2));
        List<OffsetRange> ranges = h.plan();
        assertThatThrownBy(() -> h.read(ranges))
            .as("%s", c[0])
            .isInstanceOf(CorruptFileException.class)
            .hasMessageContaining((String) c[0]);
      }
    }
  }

  @Test
  void fileDeletedBetweenListingAndReadingIsReportedAsVanished() throws Exception {
    try (SourceHarness h = new SourceHarness(opts(), ckpt)) {
      h.batch();
      Path a = put(in, "a.txt", "a\n".getBytes(StandardCharsets.UTF_8));
      List<OffsetRange> ranges = h.plan();
      Files.delete(a);
      assertThatThrownBy(() -> h.read(ranges))
          .isInstanceOf(FileVanishedException.class)
          .hasMessageContaining("a.txt")
          .hasMessageContaining("deleted or moved after it was listed");
    }
  }

  @Test
  void fileThatShrankAfterListingIsCorruptAndOneThatGrewIsReadAsListed() throws Exception {
    try (SourceHarness h = new SourceHarness(opts(), ckpt)) {
      h.batch();
      Path a = put(in, "a.txt", "a1\na2\n".getBytes(StandardCharsets.UTF_8));
      List<OffsetRange> ranges = h.plan();
      Files.writeString(a, "a1\na2\nappended\n");
      assertThat(h.read(ranges)).containsExactly("a1", "a2");
      Files.writeString(a, "a");
      assertThatThrownBy(() -> h.read(ranges))
          .isInstanceOf(CorruptFileException.class)
          .hasMessageContaining("shorter");
    }
  }

  @Test
  void permissionDeniedIsReportedAsAccessDenied() throws Exception {
    Map<String, Object> o =
        opts(
            "hadoop.fs.file.impl",
            DenyingLocalFileSystem.class.getName(),
            "hadoop.fs.file.impl.disable.cache",
            "true");
    try (SourceHarness h = new SourceHarness(o, ckpt)) {
      h.batch();
      put(in, "denied.txt", "secret\n".getBytes(StandardCharsets.UTF_8));
      List<OffsetRange> ranges = h.plan();
      assertThatThrownBy(() -> h.read(ranges))
          .isInstanceOf(FileAccessDeniedException.class)
          .hasMessageContaining("Permission denied")
          .hasMessageContaining("denied.txt");
    }
  }

  @Test
  void hadoopPrefixedKeysOverrideTheOlderPropertiesList() throws Exception {
    Map<String, Object> o =
        opts(
            "hadoop-properties",
            List.of(
                "fs.file.impl=org.apache.hadoop.fs.LocalFileSystem",
                "fs.file.impl.disable.cache=true"),
            "hadoop.fs.file.impl",
            DenyingLocalFileSystem.class.getName());
    try (SourceHarness h = new SourceHarness(o, ckpt)) {
      h.batch();
      put(in, "denied.txt", "secret\n".getBytes(StandardCharsets.UTF_8));
      List<OffsetRange> ranges = h.plan();
      assertThatThrownBy(() -> h.read(ranges)).isInstanceOf(FileAccessDeniedException.class);
    }
  }

  @Test
  void interruptedReadIsNotABadFileAndIsNeverQuarantined() throws Exception {
    Map<String, Object> o =
        opts(
            "on-bad-file",
            "skip",
            "hadoop.fs.file.impl",
            DenyingLocalFileSystem.class.getName(),
            "hadoop.fs.file.impl.disable.cache",
            "true");
    try (SourceHarness h = new SourceHarness(o, ckpt)) {
      h.batch();
      put(in, "interrupted.txt", "good\n".getBytes(StandardCharsets.UTF_8));
      List<OffsetRange> ranges = h.plan();
      try {
        assertThatThrownBy(() -> h.read(ranges))
            .isInstanceOf(RetriableException.class)
            .isNotInstanceOf(BadFileException.class)
            .hasMessageContaining("interrupted.txt");
        assertThat(Thread.currentThread().isInterrupted()).isTrue();
      } finally {
        Thread.interrupted();
      }
      assertThat(h.source.quarantinedFiles()).isEmpty();
      assertThat(h.counter("tributary.files.quarantined")).isZero();
    }
  }

  @Test
  void skipPolicyQuarantinesEachBadFileDurablyAndAReplayDecidesTheSame() throws Exception {
    Map<String, Object> o =
        opts(
            "on-bad-file",
            "skip",
            "watch-changes-for",
            "0s", // the truncated gzip is damaged, not being written (IncompleteFilesTest)
            "max-line-length",
            16,
            "hadoop-properties",
            List.of(
                "fs.file.impl=" + DenyingLocalFileSystem.class.getName(),
                "fs.file.impl.disable.cache=true"));
    Map<String, Long> positions = new HashMap<>();
    List<OffsetRange> ranges;
    Path gone;
    try (SourceHarness h = new SourceHarness(o, ckpt, positions)) {
      h.batch();
      put(in, "1-good.txt", "good\n".getBytes(StandardCharsets.UTF_8));
      put(in, "2-denied.txt", "secret\n".getBytes(StandardCharsets.UTF_8));
      put(in, "3-trunc.gz", Arrays.copyOf(compress("x\n".repeat(500), GZIPOutputStream::new), 20));
      put(in, "4-long.txt", "ok\nthis line is far too long\n".getBytes(StandardCharsets.UTF_8));
      gone = put(in, "5-gone.txt", "gone\n".getBytes(StandardCharsets.UTF_8));
      ranges = h.plan();
      Files.delete(gone);
      assertThat(h.read(ranges))
          .containsExactly("good"); // half of 4-long.txt is not produced either
      assertThat(h.source.quarantinedFiles())
          .extracting(QuarantinedFile::reason)
          .containsExactlyInAnyOrder("access-denied", "corrupt", "too-long", "vanished");
      assertThat(h.counter("tributary.files.quarantined")).isEqualTo(4.0);
      assertThat(h.gauge("tributary.files.quarantine.size")).isEqualTo(4.0);
      // crash before the commit
    }
    // the vanished file comes back before the replay: the replay still skips it, as the first
    // attempt did
    Files.writeString(gone, "gone\n");
    try (SourceHarness h = new SourceHarness(o, ckpt, positions)) {
      assertThat(h.read(ranges)).containsExactly("good");
      assertThat(h.source.quarantinedFiles()).hasSize(4);
      h.commit(ranges);
      assertThat(h.batch()).isEmpty();
    }
  }
}
