package io.tributary.core.internal.wal;

import io.tributary.core.runtime.FsyncPolicy;
import java.time.Duration;

/** Settings of a {@link WriteAheadLog}. */
public record WalConfig(FsyncPolicy fsync, Duration fsyncInterval, long segmentBytes, String threadName) {}
