package io.tributary.connector.file;

import io.tributary.core.api.DataUnavailableException;
import java.util.Objects;

/**
 * A file changed (its length or modification time) after the source admitted and read it, and the
 * source is configured with {@code on-change: fail}. The records read before the change are in the
 * pipeline's output; what was written to the file after it was admitted is not.
 *
 * <p>Writers should write elsewhere (or under a temporary name) and rename the file into place.
 * With {@code on-change: read-appended} the bytes appended to a file are read as a new offset; with
 * {@code warn} the change is counted ({@code tributary.files.changed}) and logged.
 *
 * <p>Thread safety: immutable.
 */
public class FileChangedException extends DataUnavailableException {
  private final String path;

  public FileChangedException(String path, String message) {
    super(message);
    this.path = Objects.requireNonNull(path, "path");
  }

  /** The file's full path (URI form). */
  public String path() {
    return path;
  }
}
