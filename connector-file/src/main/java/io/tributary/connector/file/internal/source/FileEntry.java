package io.tributary.connector.file.internal.source;

import java.util.Objects;

/**
 * One file admitted into a partition: its sequence number (the offset) and what a replay must read again.
 *
 * @param seq the file's offset in its partition
 * @param path full qualified path (URI form)
 * @param root the monitored directory the file was found under (for archive paths and partition pruning)
 * @param length bytes to read (the length at listing time: a replay reads exactly these bytes)
 * @param modificationTime epoch milliseconds, as listed
 */
public record FileEntry(long seq, String path, String root, long length, long modificationTime) {
  public FileEntry {
    Objects.requireNonNull(path, "path");
    Objects.requireNonNull(root, "root");
  }

  /** The directory holding the file, as a full path. */
  public String directory() {
    int slash = path.lastIndexOf('/');
    return slash <= 0 ? path : path.substring(0, slash);
  }
}
