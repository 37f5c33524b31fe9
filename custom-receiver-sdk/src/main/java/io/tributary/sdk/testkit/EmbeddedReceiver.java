package io.tributary.sdk.testkit;

import io.tributary.core.api.Receiver;
import io.tributary.core.api.ReceiverRuntime;
import io.tributary.core.api.ReceiverStoppedException;
import io.tributary.core.api.Record;
import io.tributary.core.api.StoreFailedException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * Drives a {@link Receiver} in a test without a pipeline, write-ahead log or batch thread, like Netty's {@code
 * EmbeddedChannel}.
 *
 * <p>What it models:
 *
 * <ul>
 *   <li>Reliable stores ({@code storeReliably}) go to {@link #durable()} and survive {@link #crash()}; they complete
 *       at once unless {@link #holdReliableStores()} is in force, in which case they complete when {@link
 *       #releaseReliableStores()} is called (to test that a receiver does not acknowledge before the store completes).
 *   <li>Unreliable stores go to {@link #buffered()}, which {@link #crash()} clears (they were only in memory).
 *   <li>{@link #setCapacity(int)} bounds {@code buffered + pending reliable} records: stores then block (or complete
 *       late), like the runtime's bounded buffer.
 *   <li>{@code restart(...)}, {@code reportError(...)} and {@code stop(...)} calls are recorded; {@link #restart()}
 *       performs a restart (onStop then onStart) on the caller's thread.
 * </ul>
 *
 * <p>Thread safety: all methods may be called from any thread; the receiver's own threads may store concurrently.
 */
public final class EmbeddedReceiver implements ReceiverRuntime, AutoCloseable {
  private final Receiver receiver;
  private final String name;
  private final List<Record> durable = new CopyOnWriteArrayList<>();
  private final List<Record> buffered = new CopyOnWriteArrayList<>();
  private final List<String> restartRequests = new CopyOnWriteArrayList<>();
  private final List<Throwable> reportedErrors = new CopyOnWriteArrayList<>();
  private final Map<String, Long> lastStored = new HashMap<>();
  private final List<Runnable> heldStores = new ArrayList<>();
  private volatile boolean stopped = true;
  private volatile boolean holdReliable;
  private volatile Semaphore capacity;
  private volatile String stopReason;

  public EmbeddedReceiver(Receiver receiver) {
    this(receiver, "embedded");
  }

  public EmbeddedReceiver(Receiver receiver, String name) {
    this.receiver = receiver;
    this.name = name;
    receiver.attach(this);
  }

  /** Calls {@link Receiver#onStart()} on the caller's thread. */
  public EmbeddedReceiver start() throws Exception {
    stopped = false;
    stopReason = null;
    receiver.onStart();
    return this;
  }

  /** Stops the receiver ({@link Receiver#onStop()}); pending held reliable stores fail. Safe to call twice. */
  public void stopReceiver() throws Exception {
    if (stopped) {
      return;
    }
    stopped = true;
    failHeld();
    receiver.onStop();
  }

  /** onStop then onStart, as the supervisor does on {@code restart(...)}. */
  public void restart() throws Exception {
    stopReceiver();
    start();
  }

  /**
   * Simulates a process crash: the receiver is stopped, unreliably stored records are lost, held reliable stores fail
   * (they were never durable). {@link #durable()} survives, as the WAL would.
   */
  public void crash() throws Exception {
    stopReceiver();
    buffered.clear();
    if (capacity != null) {
      capacity = new Semaphore(capacity.availablePermits() + 0);
    }
  }

  /** Bounds how many records may be buffered or held before stores block. */
  public void setCapacity(int records) {
    this.capacity = new Semaphore(records);
  }

  /** Makes reliable stores wait until {@link #releaseReliableStores()}. */
  public void holdReliableStores() {
    holdReliable = true;
  }

  /** Completes every held reliable store (making its records durable) and stops holding. */
  public void releaseReliableStores() {
    List<Runnable> toRun;
    synchronized (heldStores) {
      holdReliable = false;
      toRun = new ArrayList<>(heldStores);
      heldStores.clear();
    }
    toRun.forEach(Runnable::run);
  }

  /** How many reliable stores are waiting for {@link #releaseReliableStores()}. */
  public int heldStoreCount() {
    synchronized (heldStores) {
      return heldStores.size();
    }
  }

  private void failHeld() {
    List<Runnable> toFail;
    synchronized (heldStores) {
      toFail = new ArrayList<>(heldStores);
      heldStores.clear();
    }
    // Each held runnable checks 'stopped' and fails its future.
    toFail.forEach(Runnable::run);
  }

  /** Records stored reliably, in store order. */
  public List<Record> durable() {
    return Collections.unmodifiableList(durable);
  }

  /** Records stored unreliably since the last crash, in store order. */
  public List<Record> buffered() {
    return Collections.unmodifiableList(buffered);
  }

  /** Reasons given to {@code restart(...)} by the receiver. */
  public List<String> restartRequests() {
    return Collections.unmodifiableList(restartRequests);
  }

  public List<Throwable> reportedErrors() {
    return Collections.unmodifiableList(reportedErrors);
  }

  /** The reason given to {@code stop(...)}, or null. */
  public String stopReason() {
    return stopReason;
  }

  public Receiver receiver() {
    return receiver;
  }

  private void acquire(int n) throws InterruptedException {
    Semaphore s = capacity;
    if (s != null) {
      while (!s.tryAcquire(n, 50, TimeUnit.MILLISECONDS)) {
        if (stopped) {
          throw new ReceiverStoppedException("Receiver " + name + " is stopped");
        }
      }
    }
  }

  /** Frees buffer space for {@code n} records, as a batch would by consuming them. */
  public void consume(int n) {
    Semaphore s = capacity;
    if (s != null) {
      s.release(n);
    }
  }

  @Override
  public void store(Record record) throws InterruptedException {
    if (stopped) {
      throw new ReceiverStoppedException("Receiver " + name + " is stopped; store after stop is refused");
    }
    acquire(1);
    buffered.add(record);
  }

  @Override
  public void store(Iterator<Record> records) throws InterruptedException {
    while (records.hasNext()) {
      store(records.next());
    }
  }

  @Override
  public CompletableFuture<Void> storeReliablyAsync(List<Record> batch) {
    CompletableFuture<Void> f = new CompletableFuture<>();
    if (stopped) {
      f.completeExceptionally(
          new ReceiverStoppedException("Receiver " + name + " is stopped; store after stop is refused"));
      return f;
    }
    List<Record> copy = List.copyOf(batch);
    Runnable complete =
        () -> {
          if (stopped) {
            f.completeExceptionally(
                new StoreFailedException(
                    "Receiver " + name + " stopped before the batch became durable", new ReceiverStoppedException(name)));
            return;
          }
          synchronized (lastStored) {
            durable.addAll(copy);
            for (Record r : copy) {
              lastStored.merge(r.position().partition(), r.position().offset(), Math::max);
            }
          }
          f.complete(null);
        };
    synchronized (heldStores) {
      if (holdReliable) {
        heldStores.add(complete);
        return f;
      }
    }
    complete.run();
    return f;
  }

  @Override
  public OptionalLong lastStoredOffset(String partition) {
    synchronized (lastStored) {
      Long v = lastStored.get(partition);
      return v == null ? OptionalLong.empty() : OptionalLong.of(v);
    }
  }

  @Override
  public void restart(String reason, Throwable error) {
    restartRequests.add(reason);
    if (error != null) {
      reportedErrors.add(error);
    }
  }

  @Override
  public void reportError(String message, Throwable error) {
    reportedErrors.add(error != null ? error : new RuntimeException(message));
  }

  @Override
  public void stop(String reason) {
    stopReason = reason;
    stopped = true;
  }

  @Override
  public boolean isStopped() {
    return stopped;
  }

  @Override
  public String receiverName() {
    return name;
  }

  @Override
  public void close() throws Exception {
    stopReceiver();
  }
}
