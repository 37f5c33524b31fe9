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
import java.util.Objects;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Drives a {@link Receiver} in a test without a pipeline, write-ahead log or batch thread, like
 * Netty's {@code EmbeddedChannel}.
 *
 * <p>What it models:
 *
 * <ul>
 *   <li>Reliable stores ({@code storeReliably}) go to {@link #durable()} and survive {@link
 *       #crash()}; they complete at once unless one of the hold modes is in force:
 *       <ul>
 *         <li>{@link #holdReliableStores()}: the batch becomes durable and its store completes only
 *             at {@link #releaseReliableStores()} (to test that a receiver does not acknowledge
 *             before the store completes);
 *         <li>{@link #holdCompletions()}: the batch becomes durable at once, but the store
 *             completes only at {@link #releaseReliableStores()}; a {@link #crash()} meanwhile
 *             models a process dying after the WAL write and before the receiver could acknowledge
 *             its source.
 *       </ul>
 *   <li>{@link #failReliableStoresUntilRestart()} makes every reliable store fail with {@link
 *       StoreFailedException} (nothing of them is durable) until the receiver is next stopped or
 *       restarted, as a broken write-ahead log would: like the runtime's, failures are sticky, so
 *       what is durable is always a prefix of what was stored, in store order, and {@code
 *       lastStoredOffset} stays a safe watermark.
 *   <li>Unreliable stores go to {@link #buffered()}, which {@link #crash()} clears (they were only
 *       in memory).
 *   <li>{@link #setCapacity(int)} bounds the records held in memory (buffered, held, and durable
 *       but not yet {@link #consume(int) consumed} by a batch): blocking stores then block,
 *       asynchronous ones complete late, like the runtime's bounded buffer. A single batch larger
 *       than the capacity is admitted when nothing else is held.
 *   <li>{@code restart(...)}, {@code reportError(...)} and {@code stop(...)} calls are recorded.
 *       {@link #restart()} performs a restart (onStop then onStart) on the caller's thread; with
 *       {@link #restartAutomatically()} the receiver's own restart requests are performed on a
 *       harness thread, as the supervisor would (without delay).
 *   <li>Store attempts after {@link #stopReceiver()} returned are refused with {@link
 *       ReceiverStoppedException} and counted in {@link #storesAfterStop()}: a receiver thread that
 *       outlives {@code onStop} shows up there.
 * </ul>
 *
 * <p>Lifecycle calls ({@link #start()}, {@link #stopReceiver()}, {@link #restart()}, {@link
 * #crash()} and automatic restarts) are serialized, so {@code onStart}/{@code onStop} never run
 * concurrently, as in the runtime.
 *
 * <p>Thread safety: all methods may be called from any thread; the receiver's own threads may store
 * concurrently.
 */
public final class EmbeddedReceiver implements ReceiverRuntime, AutoCloseable {
  /**
   * What survives a crash: the "write-ahead log". Shared with the harness built by {@link
   * #afterCrash}.
   */
  private static final class DurableState {
    final List<Record> records = new CopyOnWriteArrayList<>();
    final Map<String, Long> lastStored = new HashMap<>();
  }

  private enum HoldMode {
    NONE,
    DURABILITY,
    COMPLETION
  }

  /**
   * A reliable store waiting for release. {@code durable} tells whether its records are already in
   * the log.
   */
  private record Held(List<Record> records, CompletableFuture<Void> future, boolean durable) {}

  /** A reliable store waiting for capacity. */
  private record Admission(List<Record> records, CompletableFuture<Void> future) {}

  private final Receiver receiver;
  private final String name;
  private final DurableState state;
  private final List<Record> buffered = new CopyOnWriteArrayList<>();
  private final List<Record> failedRecords = new CopyOnWriteArrayList<>();
  private final List<String> restartRequests = new CopyOnWriteArrayList<>();
  private final List<Throwable> reportedErrors = new CopyOnWriteArrayList<>();
  private final AtomicInteger storesAfterStop = new AtomicInteger();
  private final AtomicInteger restartsPerformed = new AtomicInteger();

  /** Serializes onStart/onStop. */
  private final Object lifecycle = new Object();

  /** Guards capacity accounting, held stores, admissions and injected failures. */
  private final Object lock = new Object();

  private final List<Held> held = new ArrayList<>();
  private final ArrayDeque<Admission> waiting = new ArrayDeque<>();
  private HoldMode holdMode = HoldMode.NONE;
  private int capacity = -1;
  private long used;
  private boolean failing;

  private boolean started; // guarded by lifecycle
  private volatile boolean stopped = true;
  private volatile boolean stopReturned;
  private volatile String stopReason;
  private volatile boolean autoRestart;
  private volatile ExecutorService restarter;

  /** A harness named {@code embedded}. */
  public EmbeddedReceiver(Receiver receiver) {
    this(receiver, "embedded");
  }

  /**
   * @param name the receiver's name ({@code receiverName()}), used in its thread names and
   *     positions
   */
  public EmbeddedReceiver(Receiver receiver, String name) {
    this(receiver, name, new DurableState());
  }

  private EmbeddedReceiver(Receiver receiver, String name, DurableState state) {
    this.receiver = Objects.requireNonNull(receiver, "receiver");
    this.name = Objects.requireNonNull(name, "name");
    this.state = state;
    receiver.attach(this);
  }

  /**
   * Calls {@link Receiver#onStart()} on the caller's thread.
   *
   * @throws IllegalStateException if the receiver is already started (stop it first)
   */
  public EmbeddedReceiver start() throws Exception {
    synchronized (lifecycle) {
      if (started) {
        throw new IllegalStateException(
            "Receiver " + name + " is already started; call stopReceiver() first");
      }
      started = true;
      stopped = false;
      stopReturned = false;
      stopReason = null;
      receiver.onStart();
    }
    return this;
  }

  /**
   * Stops the receiver ({@link Receiver#onStop()}) on the caller's thread; pending held or waiting
   * reliable stores fail. Safe to call twice (the second call does nothing).
   */
  public void stopReceiver() throws Exception {
    synchronized (lifecycle) {
      if (!started) {
        return;
      }
      started = false;
      stopped = true;
      failPending();
      synchronized (lock) {
        failing =
            false; // the restarted receiver gets a working "log", as after a restart of the process
      }
      try {
        receiver.onStop();
      } finally {
        stopReturned = true;
      }
    }
  }

  /** onStop then onStart, as the supervisor does on {@code restart(...)}. */
  public void restart() throws Exception {
    synchronized (lifecycle) {
      stopReceiver();
      start();
      restartsPerformed.incrementAndGet();
    }
  }

  /**
   * Simulates a process crash: the receiver is stopped (its {@code onStop} runs, so that its
   * threads end with the test), unreliably stored records are lost, held reliable stores fail
   * (those held by {@link #holdCompletions()} stay durable: the crash happened after the WAL
   * write), and the memory bound is reset. {@link #durable()} and {@link #lastStoredOffset(String)}
   * survive, as the WAL would. Start again with {@link #start()}, or hand a new receiver instance
   * to {@link #afterCrash(Receiver)}.
   */
  public void crash() throws Exception {
    synchronized (lifecycle) {
      stopReceiver();
      buffered.clear();
      synchronized (lock) {
        used = 0;
      }
    }
  }

  /**
   * A harness for a new receiver instance that shares this one's durable state ({@link #durable()},
   * {@link #lastStoredOffset(String)}) and name, as the process restarted after a {@link #crash()}
   * would. This harness must be stopped or crashed.
   */
  public EmbeddedReceiver afterCrash(Receiver fresh) {
    synchronized (lifecycle) {
      if (started) {
        throw new IllegalStateException(
            "Receiver " + name + " is still running; crash() or stopReceiver() first");
      }
    }
    return new EmbeddedReceiver(fresh, name, state);
  }

  /**
   * Bounds how many records may be held in memory (buffered, held, or durable but not yet {@link
   * #consume(int) consumed}) before stores block. Set it before {@link #start()}.
   */
  public void setCapacity(int records) {
    if (records < 1) {
      throw new IllegalArgumentException(
          "Invalid value " + records + " for capacity: (expected: >= 1)");
    }
    synchronized (lock) {
      capacity = records;
    }
  }

  /** Frees memory for {@code n} records, as a committed batch would, and admits waiting stores. */
  public void consume(int n) {
    List<Admission> admitted = new ArrayList<>();
    synchronized (lock) {
      used = Math.max(0, used - n);
      while (!waiting.isEmpty() && fits(waiting.peek().records().size())) {
        Admission a = waiting.poll();
        used += a.records().size();
        admitted.add(a);
      }
      lock.notifyAll();
    }
    admitted.forEach(a -> admitted(a.records(), a.future()));
  }

  /**
   * Records held in memory (buffered, held, durable and not yet consumed); never above the capacity
   * but for one batch.
   */
  public long usedCapacity() {
    synchronized (lock) {
      return used;
    }
  }

  /** Makes reliable stores wait, not durable, until {@link #releaseReliableStores()}. */
  public void holdReliableStores() {
    synchronized (lock) {
      holdMode = HoldMode.DURABILITY;
    }
  }

  /**
   * Makes reliable stores durable at once but completes them only at {@link
   * #releaseReliableStores()}: the receiver does not learn that its batch is safe. Combine with
   * {@link #crash()} to test a crash between store and acknowledgement.
   */
  public void holdCompletions() {
    synchronized (lock) {
      holdMode = HoldMode.COMPLETION;
    }
  }

  /** Completes every held reliable store (making its records durable) and stops holding. */
  public void releaseReliableStores() {
    complete(true);
  }

  /**
   * Completes the reliable stores held right now (making their records durable) and keeps holding
   * later ones: steps a receiver through its stores one at a time.
   */
  public void completeHeldStores() {
    complete(false);
  }

  private void complete(boolean stopHolding) {
    List<Held> toRun;
    synchronized (lock) {
      if (stopHolding) {
        holdMode = HoldMode.NONE;
      }
      toRun = new ArrayList<>(held);
      held.clear();
      // Durable in store order, before a store admitted after this point (no longer held) can
      // become durable: a
      // store that starts once holding stopped must not overtake the released ones.
      for (Held h : toRun) {
        if (!h.durable()) {
          makeDurable(h.records());
        }
      }
    }
    for (Held h : toRun) {
      h.future().complete(null);
    }
  }

  /** How many reliable stores are waiting for {@link #releaseReliableStores()}. */
  public int heldStoreCount() {
    synchronized (lock) {
      return held.size();
    }
  }

  /**
   * The records of the reliable stores waiting for {@link #releaseReliableStores()}, in store
   * order.
   */
  public List<Record> heldRecords() {
    synchronized (lock) {
      List<Record> out = new ArrayList<>();
      held.forEach(h -> out.addAll(h.records()));
      return out;
    }
  }

  /**
   * From now until the receiver is next stopped ({@link #stopReceiver()}, {@link #restart()},
   * {@link #crash()}), every reliable store fails with {@link StoreFailedException} and nothing of
   * it becomes durable, as when the write-ahead log's disk fails.
   */
  public void failReliableStoresUntilRestart() {
    synchronized (lock) {
      failing = true;
    }
  }

  /**
   * Records of reliable stores that failed through {@link #failReliableStoresUntilRestart()}, in
   * store order.
   */
  public List<Record> failedRecords() {
    return Collections.unmodifiableList(failedRecords);
  }

  /**
   * Performs the receiver's own {@code restart(...)} requests on a harness thread (onStop, then
   * onStart).
   */
  public EmbeddedReceiver restartAutomatically() {
    synchronized (lifecycle) {
      if (restarter == null) {
        restarter =
            Executors.newSingleThreadExecutor(
                r -> {
                  Thread t = new Thread(r, "tributary-embedded-" + name + "-restart-0");
                  t.setDaemon(true);
                  return t;
                });
      }
      autoRestart = true;
    }
    return this;
  }

  /** How many restarts were performed (by {@link #restart()} or automatically). */
  public int restartsPerformed() {
    return restartsPerformed.get();
  }

  /**
   * How many store attempts were made after {@link #stopReceiver()} returned (and before the next
   * start).
   */
  public int storesAfterStop() {
    return storesAfterStop.get();
  }

  /** Whether the receiver is started (onStart called without onStop since). */
  public boolean isStarted() {
    synchronized (lifecycle) {
      return started;
    }
  }

  /** Records stored reliably, in store order; survives {@link #crash()}. */
  public List<Record> durable() {
    return Collections.unmodifiableList(state.records);
  }

  /** Records stored unreliably since the last crash, in store order. */
  public List<Record> buffered() {
    return Collections.unmodifiableList(buffered);
  }

  /** Reasons given to {@code restart(...)} by the receiver. */
  public List<String> restartRequests() {
    return Collections.unmodifiableList(restartRequests);
  }

  /** Errors given to {@code restart(...)} and {@code reportError(...)}. */
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

  // ---------------------------------------------------------------- ReceiverRuntime

  private ReceiverStoppedException refused() {
    if (stopReturned) {
      storesAfterStop.incrementAndGet();
    }
    return new ReceiverStoppedException(
        "Receiver " + name + " is stopped; store after stop is refused");
  }

  private boolean fits(long n) {
    return capacity < 0 || used == 0 || used + n <= capacity;
  }

  @Override
  public void store(Record record) throws InterruptedException {
    if (stopped) {
      throw refused();
    }
    synchronized (lock) {
      while (!fits(1)) {
        if (stopped) {
          throw refused();
        }
        lock.wait();
      }
      if (stopped) {
        throw refused();
      }
      used++;
      buffered.add(record);
    }
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
    List<Record> copy = List.copyOf(batch);
    if (copy.isEmpty()) {
      return CompletableFuture.completedFuture(null);
    }
    CompletableFuture<Void> f = new CompletableFuture<>();
    synchronized (lock) {
      if (failing) {
        failedRecords.addAll(copy);
        return CompletableFuture.failedFuture(
            new StoreFailedException(
                "Receiver "
                    + name
                    + ": reliable store of "
                    + copy.size()
                    + " records failed (injected by"
                    + " EmbeddedReceiver.failReliableStoresUntilRestart); nothing of it is durable",
                new java.io.IOException("injected failure")));
      }
      if (!waiting.isEmpty() || !fits(copy.size())) {
        waiting.add(new Admission(copy, f));
        return f;
      }
      used += copy.size();
    }
    admitted(copy, f);
    return f;
  }

  private void admitted(List<Record> records, CompletableFuture<Void> f) {
    synchronized (lock) {
      if (stopped) {
        used = Math.max(0, used - records.size());
        f.completeExceptionally(
            new StoreFailedException(
                "Receiver " + name + " stopped before the batch became durable",
                new ReceiverStoppedException(name)));
        return;
      }
      if (holdMode == HoldMode.DURABILITY) {
        held.add(new Held(records, f, false));
        return;
      }
      if (holdMode == HoldMode.COMPLETION) {
        makeDurable(records);
        held.add(new Held(records, f, true));
        return;
      }
    }
    makeDurable(records);
    f.complete(null);
  }

  private void makeDurable(List<Record> records) {
    synchronized (state) {
      state.records.addAll(records);
      for (Record r : records) {
        if (!r.position().isNone() && r.position().position().isLong()) {
          state.lastStored.merge(r.position().partition(), r.position().offset(), Math::max);
        }
      }
    }
  }

  private void failPending() {
    List<Held> heldToFail;
    List<Admission> waitingToFail;
    synchronized (lock) {
      heldToFail = new ArrayList<>(held);
      held.clear();
      waitingToFail = new ArrayList<>(waiting);
      waiting.clear();
      for (Held h : heldToFail) {
        used = Math.max(0, used - (h.durable() ? 0 : h.records().size()));
      }
      lock.notifyAll();
    }
    for (Held h : heldToFail) {
      h.future()
          .completeExceptionally(
              new StoreFailedException(
                  "Receiver "
                      + name
                      + " stopped before the store completed"
                      + (h.durable()
                          ? " (the batch is durable, but the receiver was never told)"
                          : ""),
                  new ReceiverStoppedException(name)));
    }
    for (Admission a : waitingToFail) {
      a.future()
          .completeExceptionally(
              new ReceiverStoppedException(
                  "Receiver "
                      + name
                      + " stopped while waiting for"
                      + " memory; nothing of the batch was stored"));
    }
  }

  @Override
  public OptionalLong lastStoredOffset(String partition) {
    synchronized (state) {
      Long v = state.lastStored.get(partition);
      return v == null ? OptionalLong.empty() : OptionalLong.of(v);
    }
  }

  @Override
  public void restart(String reason, Throwable error) {
    restartRequests.add(reason);
    if (error != null) {
      reportedErrors.add(error);
    }
    if (autoRestart) {
      // No lifecycle lock here: this runs on the receiver's threads, which onStop may be joining.
      ExecutorService ex = restarter;
      if (ex == null || ex.isShutdown()) {
        return;
      }
      ex.execute(
          () -> {
            try {
              synchronized (lifecycle) {
                if (started && !stopped) {
                  restart();
                }
              }
            } catch (Exception e) {
              reportedErrors.add(e);
            }
          });
    }
  }

  @Override
  public void reportError(String message, Throwable error) {
    reportedErrors.add(error != null ? error : new RuntimeException(message));
  }

  /**
   * Records the reason and marks the receiver stopped; {@code onStop} runs at the next {@link
   * #stopReceiver()}.
   */
  @Override
  public void stop(String reason) {
    stopReason = reason;
    stopped = true;
    synchronized (lock) {
      lock.notifyAll();
    }
  }

  @Override
  public boolean isStopped() {
    return stopped;
  }

  @Override
  public String receiverName() {
    return name;
  }

  /** Stops the receiver and the harness thread of {@link #restartAutomatically()}. */
  @Override
  public void close() throws Exception {
    ExecutorService ex;
    synchronized (lifecycle) {
      autoRestart = false;
      ex = restarter;
    }
    if (ex != null) {
      ex.shutdown();
      if (!ex.awaitTermination(10, TimeUnit.SECONDS)) {
        ex.shutdownNow();
      }
    }
    stopReceiver();
  }
}
