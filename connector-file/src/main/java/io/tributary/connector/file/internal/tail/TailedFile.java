package io.tributary.connector.file.internal.tail;

import java.util.Arrays;

/**
 * One followed file, one partition of the source: its durable identity (partition id, file key,
 * fingerprint of its first bytes, initial position) and what the last scan saw of it.
 *
 * <p>Thread safety: the identity fields are replaced by the batch thread (scan) and read by reader
 * threads; each is volatile and the fingerprint is one immutable value.
 */
public final class TailedFile {
  /** The first {@code head.length} bytes of the file: its fingerprint. */
  record Fingerprint(byte[] head) {
    boolean matches(byte[] other) {
      return other.length >= head.length
          && Arrays.equals(head, 0, head.length, other, 0, head.length);
    }

    /** Whether {@code other} is a (possibly shorter) prefix of these bytes or starts with them. */
    boolean overlaps(byte[] other) {
      int n = Math.min(head.length, other.length);
      return Arrays.equals(head, 0, n, other, 0, n);
    }
  }

  final String id;
  final long initial;
  volatile String path;
  volatile String fileKey;
  volatile Fingerprint fingerprint;

  // Batch thread only.
  long lastSize;
  long lastFrom = -1;
  int goneScans;
  long goneAt = -1;
  boolean reportedClosed;

  TailedFile(String id, long initial, String path, String fileKey, byte[] head) {
    this.id = id;
    this.initial = initial;
    this.path = path;
    this.fileKey = fileKey;
    this.fingerprint = new Fingerprint(head);
  }

  public String id() {
    return id;
  }

  public String path() {
    return path;
  }

  public long initial() {
    return initial;
  }
}
