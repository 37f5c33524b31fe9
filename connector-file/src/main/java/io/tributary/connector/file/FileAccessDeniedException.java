package io.tributary.connector.file;

/**
 * The file system refused to open the file (permissions, ACLs, S3 access denied).
 *
 * <p>Thread safety: immutable.
 */
public final class FileAccessDeniedException extends BadFileException {
  public FileAccessDeniedException(String path, String message, Throwable cause) {
    super(path, message, cause);
  }

  @Override
  public String reason() {
    return "access-denied";
  }
}
