package io.tributary.core.internal.wal;

/** Where one WAL entry lives. */
public record WalHandle(long segmentId, long position, int length) {}
