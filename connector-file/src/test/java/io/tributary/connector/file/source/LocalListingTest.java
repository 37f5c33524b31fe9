package io.tributary.connector.file.source;

import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.core.api.Record;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Flat local directories are read by name: with ordered file names old names cost no status at all,
 * without them a remembered name costs none either, and the paths recorded are exactly those of a
 * Hadoop listing.
 */
class LocalListingTest {
  @TempDir Path tmp;
  Path in;

  @BeforeEach
  void dir() throws Exception {
    in = Files.createDirectories(tmp.resolve("in"));
    CountingLocalFileSystem.FILE_STATUSES.set(0);
  }

  Map<String, Object> opts(Object... kv) {
    Map<String, Object> m = new TreeMap<>();
    m.put("paths", in.toUri().toString());
    m.put("hadoop.fs.file.impl", CountingLocalFileSystem.class.getName());
    m.put("hadoop.fs.file.impl.disable.cache", "true");
    // the listing's own statuses only: detection after admission asks one per recently admitted
    // file
    m.put("watch-changes-for", "0s");
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], kv[i + 1]);
    }
    return m;
  }

  void put(String name, String content) throws Exception {
    Path t = tmp.resolve(name + ".staging");
    Files.writeString(t, content);
    Files.move(t, in.resolve(name));
  }

  @Test
  void orderedNamesAskNoStatusForNamesAtOrBeforeTheLastSeen() throws Exception {
    for (int i = 0; i < 50; i++) {
      put(String.format("f-%04d.txt", i), "old\n");
    }
    try (SourceHarness h =
        new SourceHarness(opts("ordered-file-names", true), tmp.resolve("ckpt"))) {
      assertThat(h.batch()).isEmpty();
      CountingLocalFileSystem.FILE_STATUSES.set(0);
      put("f-0050.txt", "n50\n");
      put("f-0051.txt", "n51\n");
      List<io.tributary.core.api.OffsetRange> ranges = h.plan(); // one listing cycle
      assertThat(CountingLocalFileSystem.FILE_STATUSES.get())
          .as("statuses asked: the 2 new files only")
          .isEqualTo(2);
      assertThat(h.read(ranges)).containsExactly("n50", "n51");
      h.commit(ranges);
      assertThat(h.source.lastListing().filesListed()).isEqualTo(52);
      CountingLocalFileSystem.FILE_STATUSES.set(0);
      assertThat(h.batch()).isEmpty();
      assertThat(CountingLocalFileSystem.FILE_STATUSES.get()).isZero();
      put("a-late.txt", "late\n"); // sorts before: not looked for (documented)
      put("f-0052.txt", "n52\n");
      assertThat(h.batch()).containsExactly("n52");
    }
  }

  @Test
  void rememberedNamesAskNoStatusWithoutOrderedNames() throws Exception {
    try (SourceHarness h = new SourceHarness(opts(), tmp.resolve("ckpt"))) {
      assertThat(h.batch()).isEmpty();
      for (int i = 0; i < 30; i++) {
        put(String.format("f-%04d.txt", i), "l" + i + "\n");
      }
      assertThat(h.batch()).hasSize(30);
      CountingLocalFileSystem.FILE_STATUSES.set(0);
      put("f-0100.txt", "new\n");
      List<io.tributary.core.api.OffsetRange> ranges = h.plan(); // one listing cycle
      assertThat(CountingLocalFileSystem.FILE_STATUSES.get())
          .as("statuses asked: the new file only")
          .isEqualTo(1);
      assertThat(h.read(ranges)).containsExactly("new");
    }
  }

  @Test
  void recordedPathsAreThoseOfAHadoopListing() throws Exception {
    String[] names = {
      "f-plain.txt", "f-with space.txt", "f-100%.txt", "f-ünïcødé.txt", "f-a+b=c.txt"
    };
    try (SourceHarness h = new SourceHarness(opts(), tmp.resolve("ckpt"))) {
      h.batch();
      for (String n : names) {
        put(n, n + "\n");
      }
      List<Record> records = h.records(h.plan());
      List<String> recorded =
          records.stream()
              .map(r -> new String(r.headers().get("file"), StandardCharsets.UTF_8))
              .sorted()
              .toList();
      try (FileSystem fs = FileSystem.newInstance(in.toUri(), new Configuration())) {
        List<String> hadoop = new java.util.ArrayList<>();
        for (FileStatus s : fs.listStatus(new org.apache.hadoop.fs.Path(in.toUri()))) {
          hadoop.add(s.getPath().toString());
        }
        assertThat(recorded).containsExactlyElementsOf(hadoop.stream().sorted().toList());
      }
      assertThat(records).extracting(Record::valueAsString).containsExactlyInAnyOrder(names);
    }
  }
}
