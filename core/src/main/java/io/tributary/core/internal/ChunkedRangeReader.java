package io.tributary.core.internal;

import io.tributary.core.api.CloseableIterator;
import io.tributary.core.api.OffsetRange;
import io.tributary.core.api.Record;
import io.tributary.core.api.TributaryException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Reads a batch's planned ranges on up to {@code parallelism} threads and hands them to the batch
 * thread as chunks, in plan order: every chunk of the first range, then of the second, and so on;
 * within a range, in position order. The order is the same every time the same plan is read, so a
 * replayed batch reaches the sinks exactly as before.
 *
 * <p>Memory: each range being read holds at most {@code queueChunks} chunks of at most {@code
 * chunkRecords} records or about {@code chunkBytes} bytes; at most {@code parallelism} ranges are
 * read at once. So a batch of any size costs about {@code parallelism x queueChunks x chunkBytes}
 * of heap, plus what the source's own readers buffer.
 *
 * <p>Readers start in plan order on a FIFO pool, so the range the batch thread waits for has always
 * started: no reader can hold a thread the consumer needs. A reader's failure is rethrown on the
 * batch thread, naming the range.
 *
 * <p>Thread safety: the iterator is used by the batch thread only; {@link #close()} cancels readers
 * still running.
 */
public final class ChunkedRangeReader implements CloseableIterator<List<Record>> {
  /** Reads one range; called on a reader thread. */
  @FunctionalInterface
  public interface RangeSource {
    CloseableIterator<Record> read(OffsetRange range) throws Exception;
  }

  private static final Object END = new Object();

  private record Failure(Throwable error) {}

  private final List<OffsetRange> ranges;
  private final List<BlockingQueue<Object>> queues = new ArrayList<>();
  private final List<Future<?>> tasks = new ArrayList<>();
  private final Object activeLock = new Object();
  private int active; // reader tasks running now; guarded by activeLock
  private final String what;
  private int current;
  private List<Record> next;
  private boolean closed;

  /**
   * Starts reading at once.
   *
   * @param what names the source in errors ("source kafka-in of pipeline p")
   */
  public ChunkedRangeReader(
      List<OffsetRange> ranges,
      RangeSource source,
      ExecutorService pool,
      int chunkRecords,
      long chunkBytes,
      int queueChunks,
      String what) {
    this.what = what;
    this.ranges = new ArrayList<>();
    for (OffsetRange r : ranges) {
      if (!r.isEmpty()) {
        this.ranges.add(r);
      }
    }
    for (OffsetRange r : this.ranges) {
      BlockingQueue<Object> q = new ArrayBlockingQueue<>(Math.max(1, queueChunks) + 1);
      queues.add(q);
      tasks.add(
          pool.submit(
              () -> {
                synchronized (activeLock) {
                  active++;
                }
                try {
                  readRange(r, source, q, chunkRecords, chunkBytes);
                } finally {
                  synchronized (activeLock) {
                    active--;
                    activeLock.notifyAll();
                  }
                }
              }));
    }
  }

  private static void readRange(
      OffsetRange range,
      RangeSource source,
      BlockingQueue<Object> queue,
      int chunkRecords,
      long chunkBytes) {
    try {
      try (CloseableIterator<Record> it = source.read(range)) {
        List<Record> chunk = new ArrayList<>(Math.min(chunkRecords, 1024));
        long bytes = 0;
        while (it.hasNext()) {
          Record r = it.next();
          chunk.add(r);
          bytes += r.sizeInBytes();
          if (chunk.size() >= chunkRecords || bytes >= chunkBytes) {
            queue.put(chunk);
            chunk = new ArrayList<>(Math.min(chunkRecords, 1024));
            bytes = 0;
          }
        }
        if (!chunk.isEmpty()) {
          queue.put(chunk);
        }
      }
      queue.put(END);
    } catch (InterruptedException e) {
      Thread.currentThread()
          .interrupt(); // cancelled by close(): nobody waits for this queue any more
    } catch (Throwable t) {
      queue.clear(); // room for the failure; the consumer stops at it anyway
      queue.offer(new Failure(t));
    }
  }

  @Override
  public boolean hasNext() {
    if (next != null) {
      return true;
    }
    while (current < queues.size()) {
      Object item;
      try {
        item = queues.get(current).take();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new TributaryException("Interrupted while reading a batch of " + what, e);
      }
      if (item == END) {
        current++;
        continue;
      }
      if (item instanceof Failure f) {
        throw rethrow(ranges.get(current), f.error());
      }
      @SuppressWarnings("unchecked")
      List<Record> chunk = (List<Record>) item;
      next = chunk;
      return true;
    }
    return false;
  }

  private RuntimeException rethrow(OffsetRange range, Throwable error) {
    if (error instanceof TributaryException te) {
      return te; // already says what, where and what to do
    }
    return new ReadFailedException("Reading " + range + " of " + what + " failed: " + error, error);
  }

  /** A reader's failure other than a {@link TributaryException}, carried to the batch thread. */
  public static final class ReadFailedException extends TributaryException {
    ReadFailedException(String message, Throwable cause) {
      super(message, cause);
    }

    @Override
    public boolean isRetriable() {
      return BatchRetry.isRetriable(getCause());
    }
  }

  @Override
  public List<Record> next() {
    if (!hasNext()) {
      throw new java.util.NoSuchElementException("no more chunks");
    }
    List<Record> chunk = next;
    next = null;
    return chunk;
  }

  /** Cancels readers still running and waits briefly for them to close their source iterators. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    for (Future<?> t : tasks) {
      t.cancel(true); // a task not started yet never runs; a running one is interrupted
    }
    // Wait (bounded) for started readers to close their source iterators, so the source is not
    // closed under them.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    synchronized (activeLock) {
      long left;
      while (active > 0 && (left = deadline - System.nanoTime()) > 0) {
        try {
          TimeUnit.NANOSECONDS.timedWait(activeLock, left);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }
  }
}
