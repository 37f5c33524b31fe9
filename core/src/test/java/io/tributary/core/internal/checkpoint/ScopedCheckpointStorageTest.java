package io.tributary.core.internal.checkpoint;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tributary.core.checkpoint.LocalCheckpointStorage;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ScopedCheckpointStorageTest {
  @TempDir Path dir;

  @Test
  void keepsStateUnderItsPrefixAndRefusesPathsThatClimbOut() throws Exception {
    LocalCheckpointStorage root = new LocalCheckpointStorage(dir);
    ScopedCheckpointStorage scoped = new ScopedCheckpointStorage(root, "sources/files");

    scoped.writeAtomically("index/0", "a".getBytes(UTF_8));

    assertThat(Files.readString(dir.resolve("sources/files/index/0"))).isEqualTo("a");
    assertThat(scoped.read("index/0"))
        .hasValueSatisfying(b -> assertThat(new String(b, UTF_8)).isEqualTo("a"));
    assertThat(scoped.list("index")).containsExactly("0");
    assertThat(root.list("sources")).containsExactly("files");
    scoped.delete("index/0");
    assertThat(scoped.read("index/0")).isEmpty();
    assertThatThrownBy(() -> scoped.read("../offsets/0"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("relative path without '..'");
    assertThatThrownBy(() -> new ScopedCheckpointStorage(root, "/abs"))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
