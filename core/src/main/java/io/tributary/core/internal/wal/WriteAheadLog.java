package io.tributary.core.internal.wal;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.tributary.core.api.StoreFailedException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/** STUB: synchronous single-segment log used until the real group-commit WAL lands. */
public final class WriteAheadLog implements AutoCloseable {
  private final FileChannel ch;
  private boolean closed;

  private WriteAheadLog(FileChannel ch) {
    this.ch = ch;
  }

  public static WriteAheadLog open(Path dir, WalConfig config, MeterRegistry registry, Tags tags) throws IOException {
    Files.createDirectories(dir);
    FileChannel ch =
        FileChannel.open(
            dir.resolve("wal-00000000000000000000.log"),
            StandardOpenOption.CREATE,
            StandardOpenOption.READ,
            StandardOpenOption.WRITE);
    ch.position(ch.size());
    return new WriteAheadLog(ch);
  }

  public synchronized void replay(Consumer<WalEntry> consumer) throws IOException {
    long pos = 0;
    long size = ch.size();
    while (pos + 4 <= size) {
      ByteBuffer len = ByteBuffer.allocate(4);
      ch.read(len, pos);
      int n = len.flip().getInt();
      if (pos + 4 + n > size) {
        break;
      }
      ByteBuffer data = ByteBuffer.allocate(n);
      ch.read(data, pos + 4);
      consumer.accept(new WalEntry(new WalHandle(0, pos, n), data.array()));
      pos += 4 + n;
    }
  }

  public synchronized CompletableFuture<WalHandle> append(byte[] payload) {
    if (closed) {
      return CompletableFuture.failedFuture(new StoreFailedException("WAL closed", null));
    }
    try {
      long pos = ch.position();
      ByteBuffer b = ByteBuffer.allocate(4 + payload.length).putInt(payload.length).put(payload);
      b.flip();
      while (b.hasRemaining()) {
        ch.write(b);
      }
      return CompletableFuture.completedFuture(new WalHandle(0, pos, payload.length));
    } catch (IOException e) {
      return CompletableFuture.failedFuture(new StoreFailedException("WAL write failed", e));
    }
  }

  public byte[] read(WalHandle handle) throws IOException {
    ByteBuffer data = ByteBuffer.allocate(handle.length());
    ch.read(data, handle.position() + 4);
    return data.array();
  }

  public int deleteSegmentsBefore(long segmentId) throws IOException {
    return 0;
  }

  public long activeSegmentId() {
    return 0;
  }

  @Override
  public synchronized void close() throws IOException {
    if (!closed) {
      closed = true;
      ch.close();
    }
  }
}
