/**
 * The write-ahead log of reliable receivers (internal: users must not import it).
 *
 * <p>{@link io.tributary.core.internal.wal.WriteAheadLog} keeps entries in segment files {@code
 * wal-<id>.log}, each starting with an 8-byte header (magic {@code TWAL}, format version 1)
 * followed by frames {@code [int length][int crc32c(payload)][payload]} (big-endian). A {@link
 * io.tributary.core.internal.wal.WalHandle} (segment, frame offset, length) is what a batch plan
 * records; the runtime deletes segments once no uncommitted batch refers to them.
 *
 * <p>Recovery rules: only the last segment may end in a torn frame (it is truncated with a WARN);
 * any other damage is a {@link io.tributary.core.internal.wal.WalCorruptedException} that names the
 * file and byte offset.
 */
package io.tributary.core.internal.wal;
