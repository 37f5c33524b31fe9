package io.tributary.connector.file.sink;

import io.tributary.connector.file.internal.hadoop.HadoopFileSystems;
import io.tributary.core.api.RetriableException;

/**
 * A batch could not be written or published on a Hadoop file system (I/O error, permission,
 * unreachable name node or object store). The batch is replayed on restart with the same file
 * names, so retrying after fixing the cause loses and duplicates nothing.
 */
public class FileSinkException extends RetriableException {
  public FileSinkException(String message, Throwable cause) {
    super(message, cause);
  }

  /**
   * Retried by the runtime only when the cause is transient (throttling, 5xx, a connection reset or
   * timeout, a NameNode in standby or safe mode): a permission or quota problem fails at once,
   * retrying it only delays the report.
   */
  @Override
  public boolean isRetriable() {
    return HadoopFileSystems.isTransient(getCause());
  }
}
