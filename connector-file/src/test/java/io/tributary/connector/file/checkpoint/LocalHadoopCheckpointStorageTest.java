package io.tributary.connector.file.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.connector.file.internal.hadoop.PublishMode;
import java.net.URI;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The checkpoint contract on the local file system through Hadoop's raw local file system (rename
 * mode).
 */
class LocalHadoopCheckpointStorageTest extends CheckpointStorageContract {
  @TempDir Path tmp;

  @Override
  URI newRoot() {
    return tmp.resolve("checkpoint").toUri();
  }

  @Override
  Map<String, String> hadoop() {
    return Map.of();
  }

  @Test
  void localUsesRenameAndLeavesNoChecksumFiles() throws Exception {
    try (HadoopCheckpointStorage s =
        new HadoopCheckpointStorage(newRoot(), Map.of(), PublishMode.AUTO)) {
      assertThat(s.publishMode()).isEqualTo(PublishMode.RENAME);
      s.writeAtomically("offsets/0", new byte[] {1, 2, 3});
    }
    assertThat(tmp.resolve("checkpoint/offsets").toFile().list()).containsExactly("0");
  }
}
