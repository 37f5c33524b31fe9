package io.tributary.connector.file;

/**
 * The file's bytes are not what its format or compression promises: a truncated or damaged
 * gzip/bzip2/zstd stream, a fixed-length file whose size is not a multiple of the record length, or
 * an I/O error while reading it.
 *
 * <p>Thread safety: immutable.
 */
public final class CorruptFileException extends BadFileException {
  public CorruptFileException(String path, String message, Throwable cause) {
    super(path, message, cause);
  }

  @Override
  public String reason() {
    return "corrupt";
  }
}
