package io.tributary.core.internal.checkpoint;

import io.tributary.core.checkpoint.CheckpointStorage;
import java.io.IOException;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A view of a checkpoint storage under a fixed prefix such as {@code sources/files/}. Paths given
 * to it must be relative and must not climb out of the prefix.
 *
 * <p>Thread safety: as the underlying storage. Closing the view does not close the underlying
 * storage.
 */
public final class ScopedCheckpointStorage implements CheckpointStorage {
  private final CheckpointStorage delegate;
  private final String prefix;

  /** {@code prefix} without leading or trailing slash, for example {@code sources/lines}. */
  public ScopedCheckpointStorage(CheckpointStorage delegate, String prefix) {
    this.delegate = Objects.requireNonNull(delegate);
    if (prefix.isEmpty()
        || prefix.startsWith("/")
        || prefix.endsWith("/")
        || prefix.contains("..")) {
      throw new IllegalArgumentException(
          "Invalid prefix '" + prefix + "': relative, no leading/trailing '/', no '..'");
    }
    this.prefix = prefix;
  }

  private String scoped(String path) {
    if (path.startsWith("/") || path.contains("..")) {
      throw new IllegalArgumentException(
          "Invalid state path '"
              + path
              + "': use a relative path without '..' (it is kept under "
              + prefix
              + "/)");
    }
    return path.isEmpty() ? prefix : prefix + "/" + path;
  }

  @Override
  public Optional<byte[]> read(String path) throws IOException {
    return delegate.read(scoped(path));
  }

  @Override
  public void writeAtomically(String path, byte[] data) throws IOException {
    delegate.writeAtomically(scoped(path), data);
  }

  @Override
  public List<String> list(String dir) throws IOException {
    return delegate.list(scoped(dir));
  }

  @Override
  public void delete(String path) throws IOException {
    delegate.delete(scoped(path));
  }

  @Override
  public String describe() {
    return delegate.describe() + (delegate.describe().endsWith("/") ? "" : "/") + prefix + "/";
  }

  @Override
  public void close() {}
}
