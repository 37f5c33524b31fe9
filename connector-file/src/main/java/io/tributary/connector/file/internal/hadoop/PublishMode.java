package io.tributary.connector.file.internal.hadoop;

/**
 * How a file becomes visible on a Hadoop file system in one atomic step.
 *
 * <p>Thread safety: immutable.
 */
public enum PublishMode {
  /** {@link #DIRECT} on object stores (s3a, gs, ...), {@link #RENAME} everywhere else. */
  AUTO,
  /**
   * Write a hidden temp file, then rename it over the final name (atomic on HDFS and local file
   * systems).
   */
  RENAME,
  /**
   * Write the final name directly: only for file systems whose output stream makes an object
   * visible whole on close (S3A: a single PUT or a completed multipart upload), where a rename
   * would be a non-atomic copy.
   */
  DIRECT
}
