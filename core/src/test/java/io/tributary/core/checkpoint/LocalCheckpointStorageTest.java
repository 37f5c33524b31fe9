package io.tributary.core.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Atomic writes and listings of the local checkpoint directory. */
class LocalCheckpointStorageTest {
  @TempDir Path dir;

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void atomicWriteReplacesContentAndLeavesNoTempFile() throws Exception {
    LocalCheckpointStorage storage = new LocalCheckpointStorage(dir);
    storage.writeAtomically("offsets/1", b("first"));
    storage.writeAtomically("offsets/1", b("second, longer"));
    assertThat(storage.read("offsets/1"))
        .hasValueSatisfying(
            v -> assertThat(new String(v, StandardCharsets.UTF_8)).isEqualTo("second, longer"));
    try (Stream<Path> all = Files.walk(dir)) {
      assertThat(all.filter(Files::isRegularFile).map(p -> dir.relativize(p).toString()))
          .containsExactly("offsets/1");
    }
  }

  @Test
  void listHidesDotFilesAndSorts() throws Exception {
    LocalCheckpointStorage storage = new LocalCheckpointStorage(dir);
    storage.writeAtomically("commits/2", b("x"));
    storage.writeAtomically("commits/10", b("x"));
    Files.writeString(dir.resolve("commits/.3.tmp"), "half written");
    assertThat(storage.list("commits")).containsExactly("10", "2");
    assertThat(storage.list("missing")).isEmpty();
  }

  @Test
  void readOfMissingFileIsEmptyAndDeleteIsIdempotent() throws Exception {
    LocalCheckpointStorage storage = new LocalCheckpointStorage(dir);
    assertThat(storage.read("offsets/0")).isEmpty();
    storage.writeAtomically("offsets/0", b("x"));
    storage.delete("offsets/0");
    storage.delete("offsets/0");
    assertThat(storage.read("offsets/0")).isEmpty();
  }

  @Test
  void refusesPathsOutsideTheDirectory() {
    LocalCheckpointStorage storage = new LocalCheckpointStorage(dir.resolve("ckpt"));
    assertThatThrownBy(() -> storage.writeAtomically("../escape", b("x")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("escapes");
    assertThat(storage.describe()).startsWith("file:").contains("ckpt");
  }
}
