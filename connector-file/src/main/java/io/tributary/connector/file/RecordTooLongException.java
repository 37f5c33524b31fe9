package io.tributary.connector.file;

/**
 * A line longer than {@code max-line-length}, or (whole-file format) a file larger than {@code
 * max-file-size}.
 *
 * <p>Thread safety: immutable.
 */
public final class RecordTooLongException extends BadFileException {
  public RecordTooLongException(String path, String message, Throwable cause) {
    super(path, message, cause);
  }

  @Override
  public String reason() {
    return "too-long";
  }
}
