package io.tributary.core.checkpoint;

import java.io.IOException;
import java.util.List;
import java.util.Optional;

/**
 * Where a pipeline keeps its checkpoint: small files addressed by relative paths such as {@code
 * offsets/42}. Implementations exist for the local file system ({@link LocalCheckpointStorage});
 * HDFS and S3 come with connector-file.
 *
 * <p>Guarantee every implementation must give: {@link #writeAtomically} makes the whole content
 * visible at once or not at all, even if the process dies in the middle (temp file + rename; on
 * object stores a single PUT or a conditional create).
 *
 * <p>Thread safety: implementations must allow concurrent calls on different paths.
 */
public interface CheckpointStorage extends AutoCloseable {
  /** The file's content, or empty if it does not exist. */
  Optional<byte[]> read(String path) throws IOException;

  /** Creates or replaces the file atomically; durable when this returns. */
  void writeAtomically(String path, byte[] data) throws IOException;

  /**
   * Names (not paths) of the files directly in {@code dir}; empty if the directory does not exist.
   */
  List<String> list(String dir) throws IOException;

  /** Deletes the file; no error if it does not exist. */
  void delete(String path) throws IOException;

  /**
   * Human-readable location for messages, for example {@code file:/var/lib/tributary/checkpoint}.
   */
  String describe();

  @Override
  default void close() throws IOException {}
}
