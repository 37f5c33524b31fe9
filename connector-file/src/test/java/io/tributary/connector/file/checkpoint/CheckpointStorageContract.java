package io.tributary.connector.file.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tributary.connector.file.internal.hadoop.HadoopFileSystems;
import io.tributary.core.checkpoint.CheckpointStorage;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What every {@link HadoopCheckpointStorage} must do, run against local, HDFS and S3 by the
 * subclasses.
 */
abstract class CheckpointStorageContract {
  private CheckpointStorage storage;
  private URI root;

  /** A fresh checkpoint directory URI. */
  abstract URI newRoot();

  abstract Map<String, String> hadoop();

  @BeforeEach
  void open() throws Exception {
    root = newRoot();
    storage =
        new HadoopCheckpointStorageFactory()
            .create(root, HadoopCheckpointStorageFactory.SPEC.parse(prefixed(hadoop())));
  }

  @AfterEach
  void close() throws Exception {
    storage.close();
    storage.close(); // safe twice
  }

  static Map<String, Object> prefixed(Map<String, String> hadoop) {
    Map<String, Object> m = new java.util.LinkedHashMap<>();
    hadoop.forEach((k, v) -> m.put("hadoop." + k, v));
    return m;
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private String readString(String path) throws Exception {
    return storage.read(path).map(b -> new String(b, StandardCharsets.UTF_8)).orElse(null);
  }

  @Test
  void missingFilesAndDirectoriesReadAsEmpty() throws Exception {
    assertThat(storage.read("offsets/1")).isEmpty();
    assertThat(storage.list("offsets")).isEmpty();
    storage.delete("offsets/1"); // no error
  }

  @Test
  void writesReadsListsSortedAndDeletes() throws Exception {
    storage.writeAtomically("offsets/2", utf8("{\"batch\":2}"));
    storage.writeAtomically("offsets/1", utf8("{\"batch\":1}"));
    storage.writeAtomically("metadata", utf8("{\"id\":\"p\"}"));
    assertThat(readString("offsets/1")).isEqualTo("{\"batch\":1}");
    assertThat(storage.list("offsets")).containsExactly("1", "2");
    storage.delete("offsets/1");
    assertThat(storage.list("offsets")).containsExactly("2");
    assertThat(readString("metadata")).isEqualTo("{\"id\":\"p\"}");
  }

  @Test
  void overwriteReplacesTheWholeContent() throws Exception {
    storage.writeAtomically("commits/5", utf8("a much longer first version of the file"));
    storage.writeAtomically("commits/5", utf8("short"));
    assertThat(readString("commits/5")).isEqualTo("short");
    assertThat(storage.list("commits")).containsExactly("5");
  }

  @Test
  void anInterruptedWriteLeavesTheOldContentAndIsNotListed() throws Exception {
    storage.writeAtomically("offsets/3", utf8("committed"));
    // What a crash in the middle of a RENAME-mode write leaves behind: a hidden, partial temp file.
    try (FileSystem fs = HadoopFileSystems.open(root, HadoopFileSystems.configuration(hadoop()));
        FSDataOutputStream out = fs.create(new Path(new Path(root), "offsets/.3.tmp"), true)) {
      out.write(utf8("parti"));
    }
    assertThat(readString("offsets/3")).isEqualTo("committed");
    assertThat(storage.list("offsets")).containsExactly("3");
    storage.writeAtomically("offsets/3", utf8("rewritten"));
    assertThat(readString("offsets/3")).isEqualTo("rewritten");
  }

  @Test
  void concurrentWritesOnDifferentPathsAllLand() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<?>> fs = new ArrayList<>();
      for (int i = 0; i < 16; i++) {
        int n = i;
        fs.add(
            pool.submit(
                () -> {
                  storage.writeAtomically("offsets/" + n, utf8("batch " + n));
                  return null;
                }));
      }
      for (Future<?> f : fs) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(storage.list("offsets")).hasSize(16);
    assertThat(readString("offsets/11")).isEqualTo("batch 11");
  }

  @Test
  void refusesPathsOutsideTheCheckpoint() {
    assertThatThrownBy(() -> storage.writeAtomically("../escape", utf8("x")))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> storage.read("/abs")).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void describeNamesTheLocationWithoutCredentials() {
    assertThat(storage.describe()).startsWith(root.getScheme() + ":").doesNotContain("secret");
  }
}
