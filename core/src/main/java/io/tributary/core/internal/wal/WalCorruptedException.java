package io.tributary.core.internal.wal;

import io.tributary.core.api.TributaryException;
import java.nio.file.Path;

/**
 * The write-ahead log holds bytes that cannot be trusted: a bad checksum, an impossible frame
 * length, a torn frame in a segment that is not the last one, or a segment header with the wrong
 * magic number. Fatal: retrying cannot help, a person has to restore the segment from a backup or
 * move it aside (accepting the loss of its records).
 *
 * <p>The message names the file, the byte offset and what to do; {@link #file()} and {@link
 * #offset()} give the same facts to code.
 *
 * <p>Thread safety: immutable.
 */
public final class WalCorruptedException extends TributaryException {
  private static final long serialVersionUID = 1L;

  private final transient Path file;
  private final long offset;

  public WalCorruptedException(String message, Path file, long offset) {
    super(message);
    this.file = file;
    this.offset = offset;
  }

  /** The corrupted segment file. */
  public Path file() {
    return file;
  }

  /** Byte offset in {@link #file()} where the unreadable data starts. */
  public long offset() {
    return offset;
  }
}
