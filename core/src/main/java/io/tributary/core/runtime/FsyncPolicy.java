package io.tributary.core.runtime;

/** When the write-ahead log forces its writes to disk. */
public enum FsyncPolicy {
  /**
   * fsync every group commit before completing the stores in it: no acknowledged data lost on power
   * failure.
   */
  ALWAYS,
  /**
   * fsync at most once per {@code wal.fsync-interval}; stores complete after the write reaches the
   * OS. Survives a process crash (kill -9), not a power failure of the last interval.
   */
  INTERVAL,
  /** Never fsync explicitly (the OS decides). Survives a process crash, not a power failure. */
  NEVER
}
