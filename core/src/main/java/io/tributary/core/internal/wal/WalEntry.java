package io.tributary.core.internal.wal;

/** One WAL entry read back. */
public record WalEntry(WalHandle handle, byte[] payload) {}
