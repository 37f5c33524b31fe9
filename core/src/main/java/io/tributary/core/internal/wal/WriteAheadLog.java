package io.tributary.core.internal.wal;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.tributary.core.api.DataUnavailableException;
import io.tributary.core.api.StoreFailedException;
import io.tributary.core.runtime.FsyncPolicy;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The write-ahead log behind reliable receivers: an append-only sequence of checksummed entries in
 * segment files {@code wal-<segmentId as 20 digits>.log} in one directory.
 *
 * <p>Lifecycle: {@link #open} recovers the directory (see there), then the engine calls {@link
 * #replay} once to re-read what survived, then {@link #append}s and {@link #read}s run
 * concurrently, {@link #deleteSegmentsBefore} drops segments no batch needs any more, and {@link
 * #close} finishes pending appends.
 *
 * <p>Durability: appends are written by a single writer thread with group commit: it takes every
 * queued append, writes them all, forces them to disk once for the whole group (per {@link
 * FsyncPolicy}), then hands the group to a completion thread that completes the futures in append
 * order while the writer goes on with the next group. With {@link FsyncPolicy#ALWAYS} a completed
 * future means the entry (and the creation of its segment file) is on disk. With {@link
 * FsyncPolicy#INTERVAL} it means the entry reached the OS; fsync happens at most {@link
 * WalConfig#fsyncInterval()} later, on segment roll, and on close. With {@link FsyncPolicy#NEVER}
 * the OS decides.
 *
 * <p>Blocking: {@link #append} never waits for I/O. It blocks its caller only while more than
 * {@link WalConfig#maxQueuedBytes()} (default 64 MiB) of appends are queued and not yet written; an
 * entry larger than the bound is admitted when the queue is empty. An interrupted caller gets a
 * future failed with {@link StoreFailedException} (cause {@link InterruptedException}), nothing is
 * appended, and its interrupt flag stays set.
 *
 * <p>Failure: after an I/O error the log fails that group's futures and every queued one with
 * {@link StoreFailedException} and refuses further appends, because a failed write may have left a
 * partial frame; reopening the log truncates it.
 *
 * <p>Thread safety: all methods are safe to call from any thread. Futures are completed on the
 * completion thread ({@link WalConfig#threadName()} with {@code -complete} inserted before its
 * number), never on the writer: a dependent stage that blocks (say, on a lock held by a thread that
 * waits in {@link #append} for queue room) delays other completions but cannot stop the writer from
 * draining the queue, so it cannot deadlock the log. Keep dependent stages short anyway, and do not
 * call {@link #close()} from them. A reader thread interrupted during {@link #read} gets {@link
 * ClosedByInterruptException}; other readers and the writer are not affected (reads use their own
 * channels, reopened after such an interrupt).
 *
 * <p>Pitfall: the payload array is not copied. Do not modify it until its future completes.
 *
 * <p>Only one open {@code WriteAheadLog} may use a directory at a time (a {@code wal.lock} file is
 * locked).
 */
public final class WriteAheadLog implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(WriteAheadLog.class);
  private static final String LOCK_FILE = "wal.lock";
  private static final int WRITE_BUFFER_BYTES = 256 * 1024;
  private static final boolean CAN_SYNC_DIRECTORIES =
      !System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("windows");

  private final Path dir;
  private final WalConfig config;
  private final FileChannel lockChannel;
  private final FileLock dirLock;
  private final ConcurrentSkipListMap<Long, Segment> segments;
  private volatile long activeSegmentId;

  // Queue state, guarded by lock.
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition notEmpty = lock.newCondition();
  private final Condition notFull = lock.newCondition();
  private final ArrayDeque<Pending> queue = new ArrayDeque<>();
  private long queuedBytes;
  private boolean closing;
  private StoreFailedException failure;
  private boolean failedWhileClosing;

  // Writer-thread state.
  private Segment active;
  private FileChannel activeChannel;
  private long writePos;
  private volatile boolean dirty; // volatile only so that tests can observe it through unsynced()
  private long lastFsyncNanos;
  private final ByteBuffer writeBuffer = ByteBuffer.allocateDirect(WRITE_BUFFER_BYTES);
  private final Thread writer;
  private final ExecutorService completer;
  private volatile Thread completerThread;

  private final MeterRegistry registry;
  private final Timer fsyncTimer;
  private final Counter bytesCounter;
  private final DistributionSummary groupEntries;
  private final Gauge segmentsGauge;

  private final Object closeLock = new Object();
  private volatile boolean closed;

  private WriteAheadLog(
      Path dir,
      WalConfig config,
      FileChannel lockChannel,
      FileLock dirLock,
      ConcurrentSkipListMap<Long, Segment> segments,
      MeterRegistry registry,
      Tags tags)
      throws IOException {
    this.dir = dir;
    this.config = config;
    this.lockChannel = lockChannel;
    this.dirLock = dirLock;
    this.segments = segments;
    this.registry = registry;
    Segment last = segments.lastEntry().getValue();
    this.active = last;
    this.activeSegmentId = last.id;
    this.writePos = last.end;
    this.activeChannel = FileChannel.open(last.path, StandardOpenOption.WRITE);
    this.activeChannel.position(writePos);
    this.fsyncTimer =
        Timer.builder("tributary.wal.fsync")
            .description("Time to force WAL segment writes to disk")
            .tags(tags)
            .register(registry);
    this.bytesCounter =
        Counter.builder("tributary.wal.bytes")
            .description("Bytes written to the WAL, frame headers included")
            .baseUnit("bytes")
            .tags(tags)
            .register(registry);
    this.groupEntries =
        DistributionSummary.builder("tributary.wal.group.entries")
            .description("Entries written per WAL group commit")
            .tags(tags)
            .register(registry);
    this.segmentsGauge =
        Gauge.builder("tributary.wal.segments", segments, ConcurrentSkipListMap::size)
            .description("WAL segment files in the directory")
            .tags(tags)
            .register(registry);

    this.lastFsyncNanos = System.nanoTime();
    String completerName = completerName(config.threadName());
    this.completer =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, completerName);
              t.setDaemon(true);
              completerThread = t;
              return t;
            });
    this.writer = new Thread(this::runWriter, config.threadName());
    this.writer.setDaemon(true);
    this.writer.start();
  }

  /**
   * Opens (creating) the log in {@code dir} and recovers it. Every segment is scanned and every
   * checksum verified:
   *
   * <ul>
   *   <li>a torn tail of the <em>last</em> segment (an incomplete frame, a final frame with a bad
   *       checksum that ends at the end of the file, or a zero-filled tail) is what a crash during
   *       a write leaves behind; it is truncated away and logged as a WARN with file, offset and
   *       bytes dropped;
   *   <li>any other damage (a bad checksum or impossible length followed by more data, any damage
   *       in a segment that is not the last one, a wrong magic number) throws {@link
   *       WalCorruptedException} naming the file, the byte offset and what to do.
   * </ul>
   *
   * <p>Appends continue at the end of the last segment. Blocks for the time of the scan (reads the
   * whole log once).
   *
   * @throws IOException when the directory cannot be read or written, or another open log holds it
   * @throws WalCorruptedException when a segment is corrupted
   */
  public static WriteAheadLog open(Path dir, WalConfig config, MeterRegistry registry, Tags tags)
      throws IOException {
    Objects.requireNonNull(config, "config");
    Objects.requireNonNull(registry, "registry");
    Objects.requireNonNull(tags, "tags");
    Path directory = dir.toAbsolutePath().normalize();
    Files.createDirectories(directory);
    FileChannel lockChannel =
        FileChannel.open(
            directory.resolve(LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    FileLock dirLock = null;
    boolean ok = false;
    try {
      try {
        dirLock = lockChannel.tryLock();
      } catch (OverlappingFileLockException e) {
        throw new IOException(
            "WAL directory "
                + directory
                + " is already open in this JVM; close the other WriteAheadLog first");
      }
      if (dirLock == null) {
        throw new IOException(
            "WAL directory "
                + directory
                + " is locked by another process; stop the other Tributary pipeline using it, or give this one its"
                + " own checkpoint directory");
      }
      ConcurrentSkipListMap<Long, Segment> segments = recover(directory, config);
      WriteAheadLog wal =
          new WriteAheadLog(directory, config, lockChannel, dirLock, segments, registry, tags);
      ok = true;
      LOG.info(
          "WAL opened dir={} segments={} activeSegment={} activeBytes={} fsync={}",
          directory,
          segments.size(),
          wal.activeSegmentId,
          wal.writePos,
          config.fsync());
      return wal;
    } finally {
      if (!ok) {
        lockChannel.close(); // releases the lock too
      }
    }
  }

  private static ConcurrentSkipListMap<Long, Segment> recover(Path dir, WalConfig config)
      throws IOException {
    List<Long> ids = new ArrayList<>();
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
      for (Path file : files) {
        String name = file.getFileName().toString();
        if (name.endsWith(".log.tmp")
            && WalFormat.parseSegmentId(name.substring(0, name.length() - 4)) >= 0) {
          // A segment whose creation did not finish; it never held entries.
          LOG.warn("WAL removing unfinished segment file={}", file);
          Files.delete(file);
          continue;
        }
        long id = WalFormat.parseSegmentId(name);
        if (id >= 0) {
          ids.add(id);
        }
      }
    }
    ids.sort(null);
    ConcurrentSkipListMap<Long, Segment> segments = new ConcurrentSkipListMap<>();
    for (int i = 0; i < ids.size(); i++) {
      long id = ids.get(i);
      if (i > 0 && ids.get(i - 1) != id - 1) {
        LOG.warn(
            "WAL segments missing between segment={} and segment={} dir={}; entries in them cannot be read",
            ids.get(i - 1),
            id,
            dir);
      }
      Segment s = recoverSegment(dir.resolve(WalFormat.fileName(id)), id, i == ids.size() - 1);
      segments.put(id, s);
    }
    if (segments.isEmpty()) {
      segments.put(0L, createSegment(dir, 0, config.fsync()));
    }
    return segments;
  }

  private static Segment recoverSegment(Path path, long id, boolean last) throws IOException {
    try (FileChannel ch =
        last
            ? FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE)
            : FileChannel.open(path, StandardOpenOption.READ)) {
      long size = ch.size();
      if (size < WalFormat.HEADER_BYTES) {
        if (!last) {
          throw WalFormat.corrupted(
              path,
              0,
              "file is shorter ("
                  + size
                  + " bytes) than the segment header in a segment that is not the last one");
        }
        LOG.warn(
            "WAL torn segment header, rewriting it file={} offset=0 bytesDropped={} reason=\"shorter than header\"",
            path,
            size);
        ch.truncate(0);
        writeFully(ch, WalFormat.header(), 0);
        ch.force(true);
        return new Segment(id, path, WalFormat.HEADER_BYTES);
      }
      ByteBuffer header = ByteBuffer.allocate(WalFormat.HEADER_BYTES);
      readFully(ch, header, 0, path);
      WalFormat.checkHeader(path, header);
      WalFormat.ScanResult r = WalFormat.scan(ch, path, id, size, last, null);
      if (r.torn()) {
        LOG.warn(
            "WAL torn tail truncated file={} offset={} bytesDropped={} entriesKept={} reason=\"{}\"",
            path,
            r.validEnd(),
            size - r.validEnd(),
            r.entries(),
            r.tornReason());
        ch.truncate(r.validEnd());
        ch.force(true);
      }
      return new Segment(id, path, r.validEnd());
    }
  }

  /**
   * Creates a segment atomically (header written to a temp file, then renamed) and makes its
   * creation durable.
   */
  private static Segment createSegment(Path dir, long id, FsyncPolicy fsync) throws IOException {
    Path path = dir.resolve(WalFormat.fileName(id));
    if (Files.exists(path)) {
      throw new FileAlreadyExistsException(
          path.toString(),
          null,
          "WAL segment already exists; was the directory modified while the log was open?");
    }
    Path tmp = dir.resolve(WalFormat.fileName(id) + ".tmp");
    try (FileChannel ch =
        FileChannel.open(
            tmp,
            StandardOpenOption.CREATE,
            StandardOpenOption.TRUNCATE_EXISTING,
            StandardOpenOption.WRITE)) {
      writeFully(ch, WalFormat.header(), 0);
      if (fsync != FsyncPolicy.NEVER) {
        ch.force(true);
      }
    }
    Files.move(tmp, path, StandardCopyOption.ATOMIC_MOVE);
    if (fsync != FsyncPolicy.NEVER) {
      fsyncDirectory(dir);
    }
    return new Segment(id, path, WalFormat.HEADER_BYTES);
  }

  /**
   * Iterates every valid entry in log order (segment, then position), verifying checksums. Streams
   * from disk with a small buffer; memory use does not grow with the log. Meant to be called once
   * after {@link #open}; entries appended concurrently may or may not be included. Exceptions
   * thrown by {@code consumer} propagate.
   *
   * @throws WalCorruptedException when an entry no longer matches its checksum
   * @throws DataUnavailableException when a segment file disappeared while the log still lists it
   */
  public void replay(Consumer<WalEntry> consumer) throws IOException {
    Objects.requireNonNull(consumer, "consumer");
    ensureNotClosed();
    for (Segment s : segments.values()) {
      long limit = s.end;
      try (FileChannel ch = FileChannel.open(s.path, StandardOpenOption.READ)) {
        WalFormat.scan(ch, s.path, s.id, limit, false, consumer);
      } catch (NoSuchFileException e) {
        if (segments.containsKey(s.id)) {
          throw missingSegment(s.path, "replay", e);
        }
        // deleted by deleteSegmentsBefore meanwhile: nothing to replay there
      }
    }
  }

  /**
   * Appends one entry; see the class comment for group commit, fsync policies, blocking and
   * failures. Entries get positions in the order of {@code append} calls. The returned future
   * completes on the completion thread with the entry's handle, or fails with {@link
   * StoreFailedException} (I/O error, log closed, or caller interrupted while waiting for queue
   * room).
   *
   * @param payload 1 byte to 1 GiB; not copied, so do not modify it until the future completes
   */
  public CompletableFuture<WalHandle> append(byte[] payload) {
    Objects.requireNonNull(payload, "payload");
    checkEntrySize(payload.length);
    return enqueue(payload, null, (long) WalFormat.FRAME_HEADER_BYTES + payload.length);
  }

  /**
   * Appends one entry whose bytes the writer thread produces: {@code encoder} runs on the writer,
   * once, just before the entry is written, so an expensive encoding leaves the caller's thread
   * (for a receiver, the thread every record of a connection goes through). Order, group commit,
   * fsync, blocking and failures are as for {@link #append(byte[])}; the queue bound counts {@code
   * estimatedBytes} until the entry is written. If {@code encoder} throws or returns an empty or
   * too large array, only this entry's future fails (with {@link StoreFailedException}); the log
   * goes on.
   *
   * <p>Pitfall: {@code encoder} runs on another thread, later: whatever it reads must not change
   * after this call (for a block, the records and the list holding them).
   *
   * @param estimatedBytes the expected size of the payload, for the queue bound
   */
  public CompletableFuture<WalHandle> append(Supplier<byte[]> encoder, long estimatedBytes) {
    Objects.requireNonNull(encoder, "encoder");
    return enqueue(
        null, encoder, (long) WalFormat.FRAME_HEADER_BYTES + Math.max(1, estimatedBytes));
  }

  private static void checkEntrySize(int length) {
    if (length == 0 || length > WalFormat.MAX_ENTRY_BYTES) {
      throw new IllegalArgumentException(
          "Invalid WAL entry size "
              + length
              + " bytes (expected: 1 to "
              + WalFormat.MAX_ENTRY_BYTES
              + "; wrap empty blocks in a non-empty encoding)");
    }
  }

  private CompletableFuture<WalHandle> enqueue(
      byte[] payload, Supplier<byte[]> encoder, long frameBytes) {
    lock.lock();
    try {
      while (true) {
        if (failure != null) {
          return CompletableFuture.failedFuture(
              new StoreFailedException(
                  "WAL in "
                      + dir
                      + " refuses appends after an earlier write failure; restart the pipeline",
                  failure));
        }
        if (closing) {
          return CompletableFuture.failedFuture(
              new StoreFailedException(
                  "WAL in " + dir + " is closed; no more appends are accepted", null));
        }
        if (queuedBytes == 0 || queuedBytes + frameBytes <= config.maxQueuedBytes()) {
          break;
        }
        try {
          notFull.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return CompletableFuture.failedFuture(
              new StoreFailedException(
                  "Interrupted while waiting for room in the WAL queue of "
                      + dir
                      + " (more than "
                      + config.maxQueuedBytes()
                      + " bytes queued); the entry was not appended",
                  e));
        }
      }
      CompletableFuture<WalHandle> future = new CompletableFuture<>();
      queue.addLast(new Pending(payload, encoder, future));
      queuedBytes += frameBytes;
      notEmpty.signal();
      return future;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Reads one entry and verifies its checksum. Uses positional reads, so it runs concurrently with
   * appends and other reads.
   *
   * @throws DataUnavailableException when the segment was deleted (by {@link #deleteSegmentsBefore}
   *     or by hand) or the entry lies past the valid end of its segment
   * @throws WalCorruptedException when the bytes on disk do not match the entry's checksum or
   *     length
   * @throws ClosedByInterruptException when the calling thread was interrupted (its interrupt flag
   *     is set)
   * @throws IllegalStateException after {@link #close()}
   */
  public byte[] read(WalHandle handle) throws IOException {
    Objects.requireNonNull(handle, "handle");
    ensureNotClosed();
    Path path = dir.resolve(WalFormat.fileName(handle.segmentId()));
    for (int attempt = 0; ; attempt++) {
      Segment s = segments.get(handle.segmentId());
      if (s == null) {
        throw missingSegment(path, "read of " + handle, null);
      }
      long frameEnd = handle.position() + WalFormat.FRAME_HEADER_BYTES + handle.length();
      if (handle.position() < WalFormat.HEADER_BYTES || frameEnd > s.end) {
        throw new DataUnavailableException(
            "WAL entry "
                + handle
                + " lies outside the valid bytes of "
                + path
                + " (valid up to offset "
                + s.end
                + "). It was lost when a torn tail was truncated after a crash without fsync, or the handle belongs"
                + " to another log. The batch that planned it cannot be replayed from this WAL.");
      }
      try {
        FileChannel ch = s.readChannel();
        ByteBuffer header = ByteBuffer.allocate(WalFormat.FRAME_HEADER_BYTES);
        readFully(ch, header, handle.position(), path);
        int length = header.getInt(0);
        int storedCrc = header.getInt(4);
        if (length != handle.length()) {
          throw WalFormat.corrupted(
              path,
              handle.position(),
              "frame length " + length + " does not match the handle's length " + handle.length());
        }
        byte[] payload = new byte[length];
        readFully(
            ch, ByteBuffer.wrap(payload), handle.position() + WalFormat.FRAME_HEADER_BYTES, path);
        int actualCrc = WalFormat.crc(payload);
        if (actualCrc != storedCrc) {
          throw WalFormat.corrupted(
              path,
              handle.position(),
              String.format(
                  "checksum mismatch (stored 0x%08X, computed 0x%08X)", storedCrc, actualCrc));
        }
        return payload;
      } catch (ClosedByInterruptException e) {
        throw e;
      } catch (ClosedChannelException e) {
        // Deleted meanwhile, or another reader was interrupted and closed the shared read channel:
        // look again.
        if (attempt >= 3) {
          throw e;
        }
      } catch (NoSuchFileException e) {
        throw missingSegment(path, "read of " + handle, e);
      }
    }
  }

  /**
   * Deletes every whole segment whose id is below {@code segmentId}, never the active one. Reads of
   * entries in deleted segments then fail with {@link DataUnavailableException}. Blocks for the
   * file deletions.
   *
   * @return how many segment files were deleted; 0 after {@link #close()} (cleanup racing a
   *     shutdown is harmless)
   */
  public int deleteSegmentsBefore(long segmentId) throws IOException {
    synchronized (segments) {
      if (closed) {
        return 0;
      }
      // activeSegmentId only grows, so everything below the value read here is not (and never
      // again) active.
      long limit = Math.min(segmentId, activeSegmentId);
      int deleted = 0;
      for (Segment s : new ArrayList<>(segments.headMap(limit, false).values())) {
        segments.remove(s.id);
        s.markDeleted();
        Files.deleteIfExists(s.path);
        deleted++;
        LOG.info("WAL segment deleted file={} segment={}", s.path, s.id);
      }
      if (deleted > 0 && config.fsync() != FsyncPolicy.NEVER) {
        fsyncDirectory(dir);
      }
      return deleted;
    }
  }

  /** Id of the segment appends currently go to. */
  public long activeSegmentId() {
    return activeSegmentId;
  }

  /** Ids of the segment files of this log, ascending (a snapshot). */
  public List<Long> segmentIds() {
    return List.copyOf(segments.keySet());
  }

  /** The log's directory. */
  public Path directory() {
    return dir;
  }

  /**
   * Writes and (unless {@link FsyncPolicy#NEVER}) fsyncs every pending append, completes their
   * futures, stops the writer thread and releases the files. Later appends fail with {@link
   * StoreFailedException}. Safe to call twice; must not be called from a future's dependent stage
   * (the completion thread).
   *
   * @throws IOException when the final write or fsync failed (the pending futures failed too)
   */
  @Override
  public void close() throws IOException {
    synchronized (closeLock) {
      if (closed) {
        return;
      }
      if (Thread.currentThread() == writer || Thread.currentThread() == completerThread) {
        throw new IllegalStateException(
            "WriteAheadLog.close() called from a future's dependent stage on thread "
                + Thread.currentThread().getName()
                + "; close it from another thread");
      }
      lock.lock();
      try {
        closing = true;
        notEmpty.signalAll();
        notFull.signalAll();
      } finally {
        lock.unlock();
      }
      boolean interrupted = false;
      while (true) {
        try {
          writer.join();
          completer.shutdown(); // after the writer: its last completions and failures are already
          // submitted
          if (completer.awaitTermination(1, TimeUnit.DAYS)) {
            break;
          }
        } catch (InterruptedException e) {
          // The writer finishes in bounded time (one last group), the completer once the futures'
          // dependent stages
          // return; remember the interrupt and restore it below.
          interrupted = true;
        }
      }
      closed = true;
      for (Segment s : segments.values()) {
        s.closeReadChannel();
      }
      try {
        dirLock.release();
      } finally {
        lockChannel.close();
        for (Meter m : List.<Meter>of(fsyncTimer, bytesCounter, groupEntries, segmentsGauge)) {
          registry.remove(m);
        }
        if (interrupted) {
          Thread.currentThread().interrupt();
        }
      }
      LOG.info(
          "WAL closed dir={} activeSegment={} activeBytes={}", dir, activeSegmentId, active.end);
      lock.lock();
      try {
        if (failure != null && failedWhileClosing) {
          throw new IOException(
              "WAL in " + dir + " failed to write or sync its last appends while closing", failure);
        }
      } finally {
        lock.unlock();
      }
    }
  }

  // ----------------------------------------------------------------------------------------------
  // writer thread

  private void runWriter() {
    List<Pending> group = new ArrayList<>();
    long intervalNanos = config.fsyncInterval().toNanos();
    boolean interval = config.fsync() == FsyncPolicy.INTERVAL;
    try {
      while (true) {
        boolean exit;
        lock.lock();
        try {
          while (queue.isEmpty() && !closing) {
            if (interval && dirty) {
              long waitNanos = intervalNanos - (System.nanoTime() - lastFsyncNanos);
              if (waitNanos <= 0) {
                break;
              }
              notEmpty.awaitNanos(waitNanos);
            } else {
              notEmpty.await();
            }
          }
          group.addAll(queue);
          queue.clear();
          queuedBytes = 0;
          notFull.signalAll();
          exit = closing; // appends are refused once closing is set, so this group is the last one
        } finally {
          lock.unlock();
        }
        if (!group.isEmpty()) {
          writeGroup(group);
          group.clear();
        } else if (interval && dirty && System.nanoTime() - lastFsyncNanos >= intervalNanos) {
          fsyncActive();
        }
        if (exit) {
          break;
        }
      }
      if (dirty && config.fsync() != FsyncPolicy.NEVER) {
        fsyncActive();
      }
    } catch (InterruptedException e) {
      // Nobody interrupts the writer on purpose; treat it as fatal for this log and keep the flag.
      Thread.currentThread().interrupt();
      fail(e, group);
    } catch (
        Throwable t) { // NOPMD - any failure must fail the waiting futures rather than hang them
      fail(t, group);
    } finally {
      try {
        activeChannel.close();
      } catch (IOException e) {
        LOG.warn("WAL could not close segment file={} error=\"{}\"", active.path, e.toString());
      }
    }
  }

  private void writeGroup(List<Pending> group) throws IOException {
    WalHandle[] handles = new WalHandle[group.size()];
    StoreFailedException[] encodeFailures = null;
    long bytes = 0;
    for (int i = 0; i < handles.length; i++) {
      Pending pending = group.get(i);
      byte[] payload = pending.payload;
      if (payload == null) {
        try {
          payload = pending.encoder.get();
          checkEntrySize(payload.length);
        } catch (RuntimeException e) { // NOPMD - an encoding failure fails its entry, not the log
          if (encodeFailures == null) {
            encodeFailures = new StoreFailedException[handles.length];
          }
          encodeFailures[i] =
              new StoreFailedException(
                  "WAL entry for " + dir + " could not be encoded, nothing was appended: " + e, e);
          continue;
        }
      }
      long frameBytes = (long) WalFormat.FRAME_HEADER_BYTES + payload.length;
      if (writePos > WalFormat.HEADER_BYTES && writePos + frameBytes > config.segmentBytes()) {
        flushWriteBuffer();
        roll();
      }
      handles[i] = new WalHandle(active.id, writePos, payload.length);
      putFrame(payload);
      writePos += frameBytes;
      bytes += frameBytes;
    }
    flushWriteBuffer();
    active.end = writePos;
    bytesCounter.increment(bytes);
    groupEntries.record(handles.length);
    if (config.fsync() == FsyncPolicy.ALWAYS
        || (config.fsync() == FsyncPolicy.INTERVAL
            && System.nanoTime() - lastFsyncNanos >= config.fsyncInterval().toNanos())) {
      fsyncActive();
    }
    Pending[] done = group.toArray(new Pending[0]);
    StoreFailedException[] failures = encodeFailures;
    completer.execute(
        () -> {
          for (int i = 0; i < done.length; i++) {
            if (failures != null && failures[i] != null) {
              done[i].future.completeExceptionally(failures[i]);
            } else {
              done[i].future.complete(handles[i]);
            }
          }
        });
  }

  private void putFrame(byte[] payload) throws IOException {
    if (writeBuffer.remaining() < WalFormat.FRAME_HEADER_BYTES) {
      flushWriteBuffer();
    }
    writeBuffer.putInt(payload.length).putInt(WalFormat.crc(payload));
    int off = 0;
    while (off < payload.length) {
      if (!writeBuffer.hasRemaining()) {
        flushWriteBuffer();
      }
      int n = Math.min(writeBuffer.remaining(), payload.length - off);
      writeBuffer.put(payload, off, n);
      off += n;
    }
  }

  private void flushWriteBuffer() throws IOException {
    writeBuffer.flip();
    if (writeBuffer.hasRemaining()) {
      dirty =
          true; // set before writing: a roll in the middle of a group must fsync what went to the
      // old segment
    }
    while (writeBuffer.hasRemaining()) {
      activeChannel.write(writeBuffer);
    }
    writeBuffer.clear();
  }

  private void fsyncActive() throws IOException {
    long start = System.nanoTime();
    activeChannel.force(false);
    long end = System.nanoTime();
    fsyncTimer.record(end - start, TimeUnit.NANOSECONDS);
    lastFsyncNanos = end;
    dirty = false;
  }

  /**
   * Closes the active segment (fsynced unless NEVER, so only the last segment can ever have a torn
   * tail).
   */
  private void roll() throws IOException {
    active.end = writePos;
    if (dirty && config.fsync() != FsyncPolicy.NEVER) {
      fsyncActive();
    }
    Segment next = createSegment(dir, active.id + 1, config.fsync());
    FileChannel nextChannel = FileChannel.open(next.path, StandardOpenOption.WRITE);
    nextChannel.position(WalFormat.HEADER_BYTES);
    FileChannel previous = activeChannel;
    segments.put(next.id, next);
    active = next;
    activeChannel = nextChannel;
    activeSegmentId = next.id;
    writePos = WalFormat.HEADER_BYTES;
    dirty = false;
    previous.close();
    LOG.debug("WAL rolled dir={} segment={}", dir, next.id);
  }

  private void fail(Throwable cause, List<Pending> group) {
    List<Pending> failed = new ArrayList<>(group);
    StoreFailedException ex;
    lock.lock();
    try {
      ex =
          new StoreFailedException(
              "WAL write failed in "
                  + active.path
                  + " at offset "
                  + writePos
                  + ": "
                  + cause
                  + ". The log refuses further appends; check disk space and permissions, then restart the pipeline"
                  + " (recovery truncates a partial frame)",
              cause);
      failure = ex;
      failedWhileClosing = closing;
      failed.addAll(queue);
      queue.clear();
      queuedBytes = 0;
      notFull.signalAll();
    } finally {
      lock.unlock();
    }
    LOG.error(
        "WAL write failed dir={} segment={} offset={} pending={}",
        dir,
        active.id,
        writePos,
        failed.size(),
        cause);
    // Through the completer, so that futures of earlier, successful groups still complete first.
    completer.execute(
        () -> {
          for (Pending p : failed) {
            p.future.completeExceptionally(ex);
          }
        });
  }

  /** {@code tributary-p-wal-0} becomes {@code tributary-p-wal-complete-0}. */
  static String completerName(String writerName) {
    return writerName.matches(".*-\\d+")
        ? writerName.replaceFirst("-(\\d+)$", "-complete-$1")
        : writerName + "-complete";
  }

  // ---------------------------------------------------------------------------------------------------- helpers

  private void ensureNotClosed() {
    if (closed) {
      throw new IllegalStateException("WAL in " + dir + " is closed");
    }
  }

  private static DataUnavailableException missingSegment(Path path, String what, Exception cause) {
    return new DataUnavailableException(
        "WAL segment "
            + path
            + " needed for "
            + what
            + " does not exist (deleted after its batches committed, or removed by hand). Restore the file from"
            + " backup, or reset the pipeline's checkpoint to accept losing the batches that planned it",
        cause);
  }

  static void fsyncDirectory(Path dir) throws IOException {
    if (!CAN_SYNC_DIRECTORIES) {
      return; // Windows cannot open a directory as a channel; renames there are durable with the
      // file system's log
    }
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    }
  }

  private static void writeFully(FileChannel ch, ByteBuffer buf, long position) throws IOException {
    long pos = position;
    while (buf.hasRemaining()) {
      pos += ch.write(buf, pos);
    }
  }

  private static void readFully(FileChannel ch, ByteBuffer buf, long position, Path path)
      throws IOException {
    long pos = position;
    while (buf.hasRemaining()) {
      int n = ch.read(buf, pos);
      if (n < 0) {
        throw WalFormat.corrupted(
            path, position, "file ends before the expected " + buf.capacity() + " bytes");
      }
      pos += n;
    }
  }

  /** An append waiting for the writer. */
  /**
   * An append waiting for the writer: {@code payload}, or {@code encoder} (run by the writer) when
   * {@code payload} is null.
   */
  private record Pending(
      byte[] payload, Supplier<byte[]> encoder, CompletableFuture<WalHandle> future) {}

  /**
   * One segment file; {@code end} is the offset after its last valid frame, published by the
   * writer.
   */
  private static final class Segment {
    final long id;
    final Path path;
    volatile long end;
    private FileChannel readChannel; // guarded by this
    private boolean deleted; // guarded by this

    Segment(long id, Path path, long end) {
      this.id = id;
      this.path = path;
      this.end = end;
    }

    synchronized FileChannel readChannel() throws IOException {
      if (deleted) {
        throw new ClosedChannelException();
      }
      if (readChannel == null || !readChannel.isOpen()) {
        readChannel = FileChannel.open(path, StandardOpenOption.READ);
      }
      return readChannel;
    }

    synchronized void markDeleted() {
      deleted = true;
      closeReadChannel();
    }

    synchronized void closeReadChannel() {
      if (readChannel != null) {
        try {
          readChannel.close();
        } catch (IOException e) {
          LOG.debug("WAL could not close read channel file={} error=\"{}\"", path, e.toString());
        }
        readChannel = null;
      }
    }
  }

  /** Whether written data is waiting for an fsync (for tests of the fsync policies). */
  boolean unsynced() {
    return dirty;
  }

  @Override
  public String toString() {
    return "WriteAheadLog[dir="
        + dir
        + ", activeSegment="
        + activeSegmentId
        + ", fsync="
        + config.fsync()
        + "]";
  }
}
