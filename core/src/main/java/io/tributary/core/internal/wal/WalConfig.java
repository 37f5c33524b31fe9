package io.tributary.core.internal.wal;

import io.tributary.core.runtime.FsyncPolicy;
import java.time.Duration;
import java.util.Objects;

/**
 * Settings of one {@link WriteAheadLog}.
 *
 * <p>Thread safety: immutable.
 *
 * @param fsync when writes are forced to disk (see {@link FsyncPolicy})
 * @param fsyncInterval with {@link FsyncPolicy#INTERVAL}, the longest time between two fsyncs while
 *     data is unsynced; ignored by the other policies
 * @param segmentBytes size at which the log rolls to a new segment file; an entry larger than this
 *     still goes into one (fresh) segment
 * @param threadName name of the writer thread, e.g. {@code tributary-<pipeline>-wal-0}
 * @param maxQueuedBytes bound on appended-but-not-yet-written bytes (frames included); {@link
 *     WriteAheadLog#append} blocks its caller while the queue is full
 */
public record WalConfig(
    FsyncPolicy fsync,
    Duration fsyncInterval,
    long segmentBytes,
    String threadName,
    long maxQueuedBytes) {

  /** Default bound on queued appends: 64 MiB. */
  public static final long DEFAULT_MAX_QUEUED_BYTES = 64L * 1024 * 1024;

  /**
   * Smallest accepted {@link #segmentBytes()}; real deployments use megabytes (the option's minimum
   * is 4 KiB).
   */
  public static final long MIN_SEGMENT_BYTES = 64;

  public WalConfig {
    Objects.requireNonNull(fsync, "fsync");
    Objects.requireNonNull(fsyncInterval, "fsyncInterval");
    Objects.requireNonNull(threadName, "threadName");
    if (fsyncInterval.isNegative() || fsyncInterval.isZero()) {
      throw new IllegalArgumentException(
          "Invalid value " + fsyncInterval + " for fsyncInterval (expected: a positive duration)");
    }
    if (segmentBytes < MIN_SEGMENT_BYTES) {
      throw new IllegalArgumentException(
          "Invalid value "
              + segmentBytes
              + " for segmentBytes (expected: >= "
              + MIN_SEGMENT_BYTES
              + ")");
    }
    if (maxQueuedBytes < 1) {
      throw new IllegalArgumentException(
          "Invalid value " + maxQueuedBytes + " for maxQueuedBytes (expected: >= 1)");
    }
  }

  /** A config with the default queue bound of {@link #DEFAULT_MAX_QUEUED_BYTES}. */
  public WalConfig(
      FsyncPolicy fsync, Duration fsyncInterval, long segmentBytes, String threadName) {
    this(fsync, fsyncInterval, segmentBytes, threadName, DEFAULT_MAX_QUEUED_BYTES);
  }
}
