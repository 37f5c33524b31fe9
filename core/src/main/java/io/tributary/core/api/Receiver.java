package io.tributary.core.api;

import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * A long-running task that is pushed or pulls data and hands it to the runtime: Spark Streaming's
 * receiver, with the reliable path made explicit.
 *
 * <h2>Lifecycle</h2>
 *
 * The runtime's supervisor calls {@link #onStart()} on its own thread; {@code onStart} must not
 * block: start your threads or connections and return. {@link #onStop()} is called once per start,
 * when the pipeline stops or before a restart, and must release everything {@code onStart} set up
 * (and unblock blocked reads). A receiver may be started again after {@code onStop} (restart), so
 * keep state that must survive in fields that {@code onStart} resets.
 *
 * <h2>Storing data: two paths, named differently on purpose</h2>
 *
 * <ul>
 *   <li>{@link #store(Record)} / {@link #store(Iterator)} are <b>unreliable</b>: they return once
 *       the record is in an in-memory buffer that is cut into a block every block interval. A crash
 *       loses what was buffered. Never acknowledge a source after them.
 *   <li>{@link #storeReliably(List)} / {@link #storeReliablyAsync(List)} are <b>reliable</b>: they
 *       complete only once the whole batch is durable in the write-ahead log (or, when the pipeline
 *       runs without a WAL, held by the runtime, which then guarantees nothing across a crash; the
 *       pipeline's docs say so). Acknowledge your source only after they complete.
 * </ul>
 *
 * Bad: {@code source.ack(msg); store(record);} — a crash between the two loses the record. Good:
 * {@code storeReliably(List.of(record)); source.ack(msg);}
 *
 * <p>All store methods block (or, for the async one, complete late) when the runtime's bounded
 * buffer is full or the rate limit is reached: that is the backpressure a receiver passes on to its
 * source.
 *
 * <h2>Positions</h2>
 *
 * Give records a {@link SourcePosition} whose partition names a stream of yours (a sender, a queue)
 * and whose offset grows within it. After a restart, {@link #lastStoredOffset(String)} tells the
 * highest offset stored reliably, so a receiver whose source can resend can skip what it already
 * stored.
 *
 * <h2>Thread safety</h2>
 *
 * All protected methods may be called from any thread, concurrently. The runtime calls {@code
 * onStart}/{@code onStop} from one supervisor thread, never concurrently with each other.
 */
public abstract non-sealed class Receiver implements Source {
  private volatile ReceiverRuntime runtime;

  /**
   * Starts receiving. Must not block. Thrown exceptions make the supervisor restart the receiver
   * with backoff.
   */
  public abstract void onStart() throws Exception;

  /**
   * Stops receiving and releases resources. Called once per {@code onStart}, also after a failed
   * start.
   */
  public abstract void onStop() throws Exception;

  /**
   * Called after a batch holding this receiver's records was committed (its {@code commits/N} is
   * durable and every sink wrote it), with the highest offset per partition of yours that the batch
   * contained. Nothing of those records can be lost or written again from here on, whatever crashes
   * next.
   *
   * <p>Most receivers acknowledge their source right after {@link #storeReliably}: the WAL already
   * holds the data. A receiver whose source should keep the data until the pipeline's output is
   * committed (a KCL lease checkpoint, a Flume channel transaction held open, a queue's delayed
   * ack) acknowledges here instead. Called on the pipeline's batch thread: return quickly (hand
   * slow acknowledgements to your own thread); an exception is logged, never fatal, and the next
   * call covers the same partitions again with higher offsets.
   *
   * @param batchId the committed batch
   * @param committedOffsets partition to highest offset in the batch; partitions the batch did not
   *     touch are absent
   */
  public void onBatchCommitted(long batchId, java.util.Map<String, Long> committedOffsets)
      throws Exception {}

  /**
   * How many clients (senders, agents, peers) are connected to this receiver right now, for the
   * gateway's status ({@code GET /pipelines/{id}} and the status page); empty (the default) when
   * the receiver cannot tell. A server receiver answers its open connections, a client receiver 1
   * while its connection is up and 0 otherwise.
   *
   * <p>Called from any thread (the admin endpoint's), at any time, also before {@link #onStart()}
   * and after {@link #onStop()}: read a counter or a concurrent set, never block, never throw.
   */
  public java.util.OptionalInt connectedClients() {
    return java.util.OptionalInt.empty();
  }

  /**
   * Binds this receiver to the runtime that runs it. Called by the runtime (or a test harness)
   * before {@link #onStart()}; receiver authors never call it.
   */
  public final void attach(ReceiverRuntime receiverRuntime) {
    this.runtime = Objects.requireNonNull(receiverRuntime, "receiverRuntime");
  }

  private ReceiverRuntime rt() {
    ReceiverRuntime r = runtime;
    if (r == null) {
      throw new IllegalStateException(
          "Receiver "
              + getClass().getName()
              + " is not attached to a runtime: run it in a Pipeline or in the SDK's"
              + " EmbeddedReceiver, do not call its methods directly");
    }
    return r;
  }

  /**
   * Unreliable store: buffers one record; returns before it is durable. Blocks while the buffer is
   * full or the rate limit is reached.
   *
   * @throws ReceiverStoppedException if the receiver is stopped
   */
  protected void store(Record record) throws InterruptedException {
    rt().store(record);
  }

  /** Unreliable store of many records; see {@link #store(Record)}. */
  protected void store(Iterator<Record> records) throws InterruptedException {
    rt().store(records);
  }

  /**
   * Reliable store: returns only once every record of {@code batch} is durable in the write-ahead
   * log, as one block. Only then acknowledge the source. Blocks the calling thread; from an event
   * loop use {@link #storeReliablyAsync(List)}.
   *
   * @throws ReceiverStoppedException if the receiver stopped before the batch was stored
   * @throws StoreFailedException if the write-ahead log could not store the batch (the batch is
   *     then not stored)
   */
  protected void storeReliably(List<Record> batch) throws InterruptedException {
    try {
      rt().storeReliablyAsync(batch).get();
    } catch (ExecutionException e) {
      throw unwrap(e.getCause());
    }
  }

  /**
   * Reliable store without blocking the caller: the future completes once the batch is durable, or
   * exceptionally with {@link ReceiverStoppedException} or {@link StoreFailedException}. When the
   * runtime's buffer is full the future completes later (backpressure); a caller that must not pile
   * up work should stop reading its source until the future completes.
   *
   * <p>Many small records of one partition (lines, messages) are cheapest as a {@link
   * PackedRecords}: the runtime keeps it as is (no copy of the list, no object per record while the
   * batch waits to commit) and writes it to the WAL and to the rolling-file sink from its arrays.
   */
  protected CompletableFuture<Void> storeReliablyAsync(List<Record> batch) {
    return rt().storeReliablyAsync(batch);
  }

  /**
   * The highest offset stored reliably for {@code partition} (see {@link SourcePosition}) by this
   * receiver, across restarts of the receiver and of the process; empty if none.
   */
  protected OptionalLong lastStoredOffset(String partition) {
    return rt().lastStoredOffset(partition);
  }

  /**
   * Asks the supervisor to stop this receiver ({@link #onStop()}) and start it again after the
   * restart delay.
   */
  protected void restart(String reason, Throwable error) {
    rt().restart(reason, error);
  }

  /** Reports a non-fatal error: logged and counted; the receiver keeps running. */
  protected void reportError(String message, Throwable error) {
    rt().reportError(message, error);
  }

  /** Stops this receiver for good (the pipeline goes on with its other work). */
  protected void stop(String reason) {
    rt().stop(reason);
  }

  /**
   * {@code true} once the receiver is stopping or stopped; loops in receiver threads should check
   * it.
   */
  protected boolean isStopped() {
    ReceiverRuntime r = runtime;
    return r == null || r.isStopped();
  }

  /** The receiver's name in the pipeline. */
  protected String receiverName() {
    return rt().receiverName();
  }

  /** The id of the pipeline running this receiver (empty in test harnesses that have none). */
  protected String pipelineId() {
    return rt().pipelineId();
  }

  /**
   * The pipeline's meter registry: register receiver meters here (tagged with {@code pipeline} and
   * {@code source}) so they show up in the gateway's metrics. Valid from {@link #onStart()} on.
   */
  protected io.micrometer.core.instrument.MeterRegistry meterRegistry() {
    return rt().meterRegistry();
  }

  private static RuntimeException unwrap(Throwable t) {
    if (t instanceof CompletionException && t.getCause() != null) {
      t = t.getCause();
    }
    if (t instanceof RuntimeException re) {
      return re;
    }
    return new StoreFailedException("Reliable store failed: " + t, t);
  }
}
