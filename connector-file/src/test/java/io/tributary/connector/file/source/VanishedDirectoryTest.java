package io.tributary.connector.file.source;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A subdirectory that vanishes between its parent's listing and its own is bad input, never a
 * failure (with either on-bad-file): counted once as {@code
 * tributary.files.ignored{reason=directory-vanished}}, and the other directories are read.
 */
class VanishedDirectoryTest {
  @TempDir Path tmp;

  @ParameterizedTest
  @ValueSource(strings = {"fail", "skip"})
  void aSubdirectoryVanishingDuringTheListingIsCountedNotAFailure(String onBadFile)
      throws Exception {
    Path in = Files.createDirectories(tmp.resolve("in"));
    Map<String, Object> o = new HashMap<>();
    o.put("paths", VanishingFileSystem.SCHEME + "://" + in);
    o.put("recursive", true);
    o.put("on-bad-file", onBadFile);
    o.put("hadoop.fs." + VanishingFileSystem.SCHEME + ".impl", VanishingFileSystem.class.getName());
    o.put("hadoop.fs." + VanishingFileSystem.SCHEME + ".impl.disable.cache", "true");
    try (SourceHarness h = new SourceHarness(o, tmp.resolve("ckpt"))) {
      assertThat(h.batch()).isEmpty();
      Files.createDirectories(in.resolve("keep"));
      Files.writeString(in.resolve("keep/a.txt"), "a1\n");
      Files.createDirectories(in.resolve("vanishing-1"));
      Files.writeString(in.resolve("vanishing-1/b.txt"), "b1\n");
      assertThat(h.batch()).containsExactly("a1");
      assertThat(Files.exists(in.resolve("vanishing-1"))).as("deleted by its listing").isFalse();
      assertThat(
              h.registry
                  .get("tributary.files.ignored")
                  .tag("reason", "directory-vanished")
                  .counter()
                  .count())
          .isEqualTo(1.0);
      Files.createDirectories(in.resolve("later"));
      Files.writeString(in.resolve("later/c.txt"), "c1\n");
      assertThat(h.batch()).containsExactly("c1");
    }
  }

  @Test
  void aMonitoredPathThatDoesNotExistYetIsNotReported() throws Exception {
    Map<String, Object> o = new HashMap<>();
    o.put("paths", tmp.resolve("not-yet").toUri().toString());
    try (SourceHarness h = new SourceHarness(o, tmp.resolve("ckpt"))) {
      assertThat(h.batch()).isEmpty();
      assertThat(
              h.registry
                  .find("tributary.files.ignored")
                  .tag("reason", "directory-vanished")
                  .counters())
          .isEmpty();
    }
  }
}
