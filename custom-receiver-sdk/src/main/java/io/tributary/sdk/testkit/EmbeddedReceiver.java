package io.tributary.sdk.testkit;

import io.tributary.core.api.Receiver;
import io.tributary.core.api.ReceiverRuntime;
import io.tributary.core.api.ReceiverStoppedException;
import io.tributary.core.api.Record;
import io.tributary.core.api.StoreFailedException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Drives a {@link Receiver} in a test without a pipeline, write-ahead log or batch thread, like Netty's {@code
 * EmbeddedChannel}.
 *
 * <p>What it models:
 *
 * <ul>
 *   <li>Reliable stores ({@code storeReliably}/{@code storeReliablyAsync}) go to {@link #durable()} and survive {@link
 *       #crash()}, as the write-ahead log would; they complete at once unless {@link #holdReliableStores()} is in
 *       force, in which case they complete when {@link #releaseReliableStores()} is called (to test that a receiver
 *       does not acknowledge its source before the store completes).
 *   <li>Unreliable stores go to {@link #buffered()}, which {@link #crash()} clears (they were only in memory).
 *   <li>{@link #setCapacity(int)} bounds how many records (buffered, durable or held) may be stored and not yet
 *       {@link #consume(int) consumed}, like the runtime's bounded buffer: {@code store} then blocks and {@code
 *       storeReliablyAsync} completes late, in FIFO order, once {@link #consume(int)} frees room. A single request
 *       larger than the capacity is admitted when nothing else is held, as in the runtime.
 *   <li>{@code restart(...)}, {@code reportError(...)} and {@code stop(...)} calls are recorded; {@link #restart()}
 *       performs a restart ({@code onStop} then {@code onStart}) on the caller's thread. Nothing restarts by itself.
 *   <li>Stores refused because they came after {@code onStop} returned are counted in {@link #storesAfterStop()}: a
 *       correct receiver has none.
 * </ul>
 *
 * <p>Thread safety: all methods may be called from any thread; the receiver's own threads may store concurrently.
 * {@code start}, {@code stopReceiver}, {@code restart} and {@code crash} must not run concurrently with each other.
 */
public final class EmbeddedReceiver implements ReceiverRuntime, AutoCloseable {
  /** A reliable store waiting for capacity or for {@link #releaseReliableStores()}. */
  private static final class PendingStore {
    final List<Record> records;
    final CompletableFuture<Void> future;

    PendingStore(List<Record> records, CompletableFuture<Void> future) {
      this.records = records;
      this.future = future;
    }
  }

  private final Receiver receiver;
  private final String name;
  private final List<Record> durable;
  private final Map<String, Long> lastStored;
  private final List<Record> buffered = new CopyOnWriteArrayList<>();
  private final List<String> restartRequests = new CopyOnWriteArrayList<>();
  private final List<Throwable> reportedErrors = new CopyOnWriteArrayList<>();
  private final AtomicInteger storesAfterStop = new AtomicInteger();
  private final AtomicInteger failNext = new AtomicInteger();
  private final List<Integer> reliableBatchSizes = new CopyOnWriteArrayList<>();
  private final AtomicInteger blockedStores = new AtomicInteger();

  /** Guards capacity accounting, the admission queue and held stores. */
  private final Object lock = new Object();
  private int capacity = Integer.MAX_VALUE;
  private int used;
  private final ArrayDeque<PendingStore> waitingForCapacity = new ArrayDeque<>();
  private final List<PendingStore> held = new ArrayList<>();
  private boolean holdReliable;

  private volatile boolean stopped = true;
  private volatile boolean stopCompleted = true;
  private volatile String stopReason;

  public EmbeddedReceiver(Receiver receiver) {
    this(receiver, "embedded");
  }

  public EmbeddedReceiver(Receiver receiver, String name) {
    this(receiver, name, new CopyOnWriteArrayList<>(), new HashMap<>());
  }

  private EmbeddedReceiver(Receiver receiver, String name, List<Record> durable, Map<String, Long> lastStored) {
    this.receiver = receiver;
    this.name = name;
    this.durable = durable;
    this.lastStored = lastStored;
    receiver.attach(this);
  }

  /**
   * A harness for {@code fresh} (a new receiver instance over the same source) that starts from this harness's
   * durable state: {@link #durable()} and {@code lastStoredOffset(...)} carry over, as after a process restart that
   * recovers the write-ahead log. Call it after {@link #crash()} or {@link #stopReceiver()}; the capacity setting
   * carries over, held-store mode does not.
   */
  public EmbeddedReceiver recoverWith(Receiver fresh) {
    Map<String, Long> positions;
    synchronized (lastStored) {
      positions = new HashMap<>(lastStored);
    }
    EmbeddedReceiver next = new EmbeddedReceiver(fresh, name, new CopyOnWriteArrayList<>(durable), positions);
    synchronized (lock) {
      next.capacity = capacity;
    }
    return next;
  }

  /** Calls {@link Receiver#onStart()} on the caller's thread. */
  public EmbeddedReceiver start() throws Exception {
    stopReason = null;
    stopCompleted = false;
    stopped = false;
    receiver.onStart();
    return this;
  }

  /**
   * Stops the receiver ({@link Receiver#onStop()}); held reliable stores and stores waiting for capacity fail first,
   * as they would if the runtime stopped. Safe to call twice.
   */
  public void stopReceiver() throws Exception {
    if (stopped && stopCompleted) {
      return;
    }
    stopped = true;
    failPending();
    try {
      receiver.onStop();
    } finally {
      stopCompleted = true;
    }
  }

  /** onStop then onStart, as the supervisor does on {@code restart(...)}. */
  public void restart() throws Exception {
    stopReceiver();
    start();
  }

  /**
   * Simulates a process crash: the receiver is stopped, unreliably stored records are lost, held reliable stores and
   * stores waiting for capacity fail (they were never durable), and the capacity is free again (memory is gone; a new
   * process starts with an empty buffer). {@link #durable()} survives, as the WAL would.
   */
  public void crash() throws Exception {
    stopReceiver();
    buffered.clear();
    synchronized (lock) {
      used = 0;
    }
  }

  /**
   * Simulates a crash in the window between a reliable store and the source's acknowledgement: every held reliable
   * store becomes durable, but the receiver never learns it (its future fails as if the process had died), then the
   * receiver is crashed as by {@link #crash()}. A receiver that can be resent data should use {@code
   * lastStoredOffset(...)} after this to avoid storing it twice.
   */
  public void crashAfterHeldStoresBecomeDurable() throws Exception {
    List<PendingStore> toPersist;
    synchronized (lock) {
      toPersist = new ArrayList<>(held);
      held.clear();
    }
    for (PendingStore p : toPersist) {
      makeDurable(p.records);
    }
    // The process is dead: the receiver never learns that these stores succeeded. Failing the futures after marking
    // the receiver stopped has the same effect on a correct receiver (no acknowledgement) and lets its threads end.
    stopped = true;
    for (PendingStore p : toPersist) {
      p.future.completeExceptionally(
          new StoreFailedException(
              "Receiver " + name + " crashed before it learnt that the batch was durable",
              new ReceiverStoppedException(name)));
    }
    crash();
  }

  /**
   * Bounds how many records may be stored and not yet {@link #consume(int) consumed} before stores block. Affects
   * both unreliable and reliable stores.
   */
  public void setCapacity(int records) {
    if (records < 1) {
      throw new IllegalArgumentException("capacity must be at least 1 record, was " + records);
    }
    List<PendingStore> admitted;
    synchronized (lock) {
      capacity = records;
      admitted = admitWaiting();
      lock.notifyAll();
    }
    admitted.forEach(this::afterAdmission);
  }

  /** Frees room for {@code n} records, as a batch would by consuming them. */
  public void consume(int n) {
    List<PendingStore> admitted;
    synchronized (lock) {
      used = Math.max(0, used - n);
      admitted = admitWaiting();
      lock.notifyAll();
    }
    admitted.forEach(this::afterAdmission);
  }

  /** Records stored (buffered, durable or held) and not yet consumed: what occupies the capacity. */
  public int usedCapacity() {
    synchronized (lock) {
      return used;
    }
  }

  /** Records of reliable stores that wait for capacity: grows without bound if a receiver ignores backpressure. */
  public int recordsWaitingForCapacity() {
    synchronized (lock) {
      int n = 0;
      for (PendingStore p : waitingForCapacity) {
        n += p.records.size();
      }
      return n;
    }
  }

  /**
   * Makes the next {@code count} reliable stores fail with {@link StoreFailedException}, as a full disk would: nothing
   * of those batches becomes durable. A correct receiver then does not acknowledge them and asks for a restart.
   */
  public void failNextReliableStores(int count) {
    failNext.set(count);
  }

  /**
   * Stores waiting for capacity right now: unreliable {@code store} calls blocked in their thread plus reliable stores
   * whose future waits for admission.
   */
  public int storesWaitingForCapacity() {
    synchronized (lock) {
      return blockedStores.get() + waitingForCapacity.size();
    }
  }

  /** Makes reliable stores wait until {@link #releaseReliableStores()}. */
  public void holdReliableStores() {
    synchronized (lock) {
      holdReliable = true;
    }
  }

  /** Completes every held reliable store (making its records durable) and stops holding. */
  public void releaseReliableStores() {
    List<PendingStore> toRun;
    synchronized (lock) {
      holdReliable = false;
      toRun = new ArrayList<>(held);
      held.clear();
    }
    toRun.forEach(this::complete);
  }

  /** How many reliable stores are waiting for {@link #releaseReliableStores()}. */
  public int heldStoreCount() {
    synchronized (lock) {
      return held.size();
    }
  }

  /** Records stored reliably, in store order (including those carried over by {@link #recoverWith(Receiver)}). */
  public List<Record> durable() {
    return Collections.unmodifiableList(durable);
  }

  /** Records stored unreliably since the last crash, in store order. */
  public List<Record> buffered() {
    return Collections.unmodifiableList(buffered);
  }

  /** The size of every reliable store requested (accepted or not), in call order. */
  public List<Integer> reliableBatchSizes() {
    return Collections.unmodifiableList(reliableBatchSizes);
  }

  /** Reasons given to {@code restart(...)} by the receiver. */
  public List<String> restartRequests() {
    return Collections.unmodifiableList(restartRequests);
  }

  /** Errors passed to {@code restart(...)} or {@code reportError(...)}. */
  public List<Throwable> reportedErrors() {
    return Collections.unmodifiableList(reportedErrors);
  }

  /** Stores attempted after {@code onStop} returned (each refused): a correct receiver has none. */
  public int storesAfterStop() {
    return storesAfterStop.get();
  }

  /** The reason given to {@code stop(...)}, or null. */
  public String stopReason() {
    return stopReason;
  }

  public Receiver receiver() {
    return receiver;
  }

  // ---------------------------------------------------------------- ReceiverRuntime

  private ReceiverStoppedException refused() {
    if (stopCompleted) {
      storesAfterStop.incrementAndGet();
    }
    return new ReceiverStoppedException("Receiver " + name + " is stopped; store after stop is refused");
  }

  @Override
  public void store(Record record) throws InterruptedException {
    if (stopped) {
      throw refused();
    }
    synchronized (lock) {
      boolean mustWait = used > 0 && used + 1 > capacity;
      if (mustWait) {
        blockedStores.incrementAndGet();
      }
      try {
        while (used > 0 && used + 1 > capacity) {
          lock.wait(50);
          if (stopped) {
            throw new ReceiverStoppedException("Receiver " + name + " stopped while the store waited for capacity");
          }
        }
      } finally {
        if (mustWait) {
          blockedStores.decrementAndGet();
        }
      }
      used++;
    }
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
    if (stopped) {
      return CompletableFuture.failedFuture(refused());
    }
    if (failNext.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
      return CompletableFuture.failedFuture(
          new StoreFailedException(
              "Injected failure: receiver " + name + " could not store a batch of " + batch.size() + " records",
              new java.io.IOException("No space left on device (injected by EmbeddedReceiver)")));
    }
    reliableBatchSizes.add(batch.size());
    PendingStore p = new PendingStore(List.copyOf(batch), new CompletableFuture<>());
    boolean admitted;
    synchronized (lock) {
      admitted = waitingForCapacity.isEmpty() && fits(p.records.size());
      if (admitted) {
        used += p.records.size();
      } else {
        waitingForCapacity.add(p);
      }
    }
    if (admitted) {
      afterAdmission(p);
    }
    return p.future;
  }

  private boolean fits(int n) {
    return used == 0 || (long) used + n <= capacity;
  }

  /** Admits waiting stores in FIFO order while they fit. Caller holds {@code lock}. */
  private List<PendingStore> admitWaiting() {
    List<PendingStore> admitted = new ArrayList<>();
    while (!waitingForCapacity.isEmpty() && fits(waitingForCapacity.peek().records.size())) {
      PendingStore p = waitingForCapacity.poll();
      used += p.records.size();
      admitted.add(p);
    }
    return admitted;
  }

  private void afterAdmission(PendingStore p) {
    synchronized (lock) {
      if (holdReliable) {
        held.add(p);
        return;
      }
    }
    complete(p);
  }

  private void complete(PendingStore p) {
    if (stopped) {
      release(p.records.size());
      p.future.completeExceptionally(
          new StoreFailedException(
              "Receiver " + name + " stopped before the batch became durable", new ReceiverStoppedException(name)));
      return;
    }
    makeDurable(p.records);
    p.future.complete(null);
  }

  private void makeDurable(List<Record> records) {
    synchronized (lastStored) {
      durable.addAll(records);
      for (Record r : records) {
        if (r.position().offset() >= 0) {
          lastStored.merge(r.position().partition(), r.position().offset(), Math::max);
        }
      }
    }
  }

  private void release(int n) {
    synchronized (lock) {
      used = Math.max(0, used - n);
      lock.notifyAll();
    }
  }

  private void failPending() {
    List<PendingStore> toFail;
    List<PendingStore> neverAdmitted;
    synchronized (lock) {
      toFail = new ArrayList<>(held);
      neverAdmitted = new ArrayList<>(waitingForCapacity);
      held.clear();
      waitingForCapacity.clear();
      lock.notifyAll();
    }
    toFail.forEach(this::complete);
    for (PendingStore p : neverAdmitted) {
      p.future.completeExceptionally(
          new StoreFailedException(
              "Receiver " + name + " stopped while the batch waited for capacity", new ReceiverStoppedException(name)));
    }
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

  /** Always {@code embedded}: there is no pipeline. */
  @Override
  public String pipelineId() {
    return "embedded";
  }

  @Override
  public void close() throws Exception {
    stopReceiver();
  }
}
