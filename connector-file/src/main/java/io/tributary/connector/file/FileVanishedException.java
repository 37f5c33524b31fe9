package io.tributary.connector.file;

/**
 * The file was deleted or moved between the listing that found it and the read (or before a replay
 * re-read it).
 *
 * <p>Thread safety: immutable.
 */
public final class FileVanishedException extends BadFileException {
  public FileVanishedException(String path, String message, Throwable cause) {
    super(path, message, cause);
  }

  @Override
  public String reason() {
    return "vanished";
  }
}
