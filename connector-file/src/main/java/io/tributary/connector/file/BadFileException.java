package io.tributary.connector.file;

import io.tributary.core.api.DataUnavailableException;
import java.util.Objects;

/**
 * A file chosen for a batch cannot be turned into records. Fatal under {@code on-bad-file: fail}
 * (the pipeline stops, the batch is replayed on restart and fails again until someone acts); under
 * {@code on-bad-file: skip} the file is quarantined instead and this exception is only logged and
 * counted.
 *
 * <p>The subclasses say what went wrong: {@link FileVanishedException}, {@link
 * FileAccessDeniedException}, {@link CorruptFileException}, {@link RecordTooLongException}.
 *
 * <p>Thread safety: immutable.
 */
public class BadFileException extends DataUnavailableException {
  private final String path;

  public BadFileException(String path, String message, Throwable cause) {
    super(message, cause);
    this.path = Objects.requireNonNull(path, "path");
  }

  /** The file's full path (URI form). */
  public String path() {
    return path;
  }

  /**
   * A short lower-case reason, as written to the quarantine list: vanished, access-denied, corrupt,
   * too-long.
   */
  public String reason() {
    return "unreadable";
  }
}
