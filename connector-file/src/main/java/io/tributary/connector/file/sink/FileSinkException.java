package io.tributary.connector.file.sink;

import io.tributary.core.api.RetriableException;

/**
 * A batch could not be written or published on a Hadoop file system (I/O error, permission, unreachable name node or
 * object store). The batch is replayed on restart with the same file names, so retrying after fixing the cause loses
 * and duplicates nothing.
 */
public class FileSinkException extends RetriableException {
  public FileSinkException(String message, Throwable cause) {
    super(message, cause);
  }
}
