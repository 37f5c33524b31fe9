package io.tributary.connector.file;

import java.util.Objects;

/**
 * A file skipped under {@code on-bad-file: skip}: kept in the state storage so that a replay makes
 * the same decision and an operator can see what was not read.
 *
 * <p>Thread safety: immutable.
 *
 * @param partition the source partition
 * @param seq the file's offset
 * @param path full path
 * @param modificationTime as listed (quarantine entries leave the state with the horizon)
 * @param reason short reason (vanished, access-denied, corrupt, too-long, unreadable)
 * @param message the error message
 * @param quarantinedAt epoch milliseconds when the decision was made
 */
public record QuarantinedFile(
    String partition,
    long seq,
    String path,
    long modificationTime,
    String reason,
    String message,
    long quarantinedAt) {
  public QuarantinedFile {
    Objects.requireNonNull(partition, "partition");
    Objects.requireNonNull(path, "path");
  }
}
