package io.tributary.connector.file.internal.source;

import java.util.Objects;

/**
 * One file admitted into a partition: its sequence number (the offset) and what a replay must read
 * again.
 *
 * @param seq the file's offset in its partition
 * @param path full qualified path (URI form)
 * @param root the monitored directory the file was found under (for archive paths and partition
 *     pruning)
 * @param length bytes to read (the length at listing time: a replay reads exactly these bytes)
 * @param modificationTime epoch milliseconds, as listed
 * @param start first byte of this entry's split (0 when the file is not split)
 * @param end end of the split, exclusive ({@code length} for the last or only split)
 * @param appended whether this entry holds bytes appended to a file after it was read ({@code
 *     on-change: read-appended}): its range {@code [start, end)} starts at a line (or compressed
 *     stream) boundary, the end of what was read before, unlike a split's
 * @param discovered with {@code age-by: discovery-time}, when the source first saw the file (epoch
 *     milliseconds; the horizon's time for it), else 0
 * @param partialTail whether the file may still be being written when this range was listed: a
 *     trailing line without a line terminator is then not emitted; a later entry of the same file
 *     emits it (appended bytes that complete it, or the tail once the file is known complete)
 */
public record FileEntry(
    long seq,
    String path,
    String root,
    long length,
    long modificationTime,
    long start,
    long end,
    boolean appended,
    long discovered,
    boolean partialTail) {
  public FileEntry {
    Objects.requireNonNull(path, "path");
    Objects.requireNonNull(root, "root");
  }

  /** An entry whose trailing line, if it has no terminator, is emitted (the file is complete). */
  public FileEntry(
      long seq,
      String path,
      String root,
      long length,
      long modificationTime,
      long start,
      long end,
      boolean appended,
      long discovered) {
    this(seq, path, root, length, modificationTime, start, end, appended, discovered, false);
  }

  /** This entry with {@code partialTail} set as given. */
  public FileEntry withPartialTail(boolean p) {
    return new FileEntry(
        seq, path, root, length, modificationTime, start, end, appended, discovered, p);
  }

  /** A split (or whole) file, as a listing admits it. */
  public FileEntry(
      long seq,
      String path,
      String root,
      long length,
      long modificationTime,
      long start,
      long end) {
    this(seq, path, root, length, modificationTime, start, end, false, 0);
  }

  /** The time the horizon measures this file by: discovery or modification time. */
  public long ageTime() {
    return discovered > 0 ? discovered : modificationTime;
  }

  /** A whole file, not split. */
  public FileEntry(long seq, String path, String root, long length, long modificationTime) {
    this(seq, path, root, length, modificationTime, 0, length);
  }

  /** Whether this is the file's last (or only) split: the file is done once it is committed. */
  public boolean isLastSplit() {
    return end >= length;
  }

  /** Whether this entry is a part of a file split into byte ranges (appended bytes are not). */
  public boolean isSplit() {
    return !appended && (start > 0 || end < length);
  }

  /** The directory holding the file, as a full path. */
  public String directory() {
    int slash = path.lastIndexOf('/');
    return slash <= 0 ? path : path.substring(0, slash);
  }
}
