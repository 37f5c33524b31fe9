package io.tributary.connector.flume.agent;

/**
 * The Avro RPC protocol (reflect-based) between a Tributary poller and a {@link TributarySink}
 * inside a Flume agent: the poller asks for a batch under an id it chose, stores it, then
 * acknowledges it.
 *
 * <ul>
 *   <li>{@link #poll(int, String)}: the sink takes up to {@code maxEvents} events from its channel
 *       inside a channel transaction and returns them under {@code batchId}; the transaction stays
 *       open. <b>Idempotent</b>: while a transaction with that id is open, a poll with the same id
 *       answers the same batch (the same events) instead of opening another one, so a poller that
 *       crashed after the poll and before its store asks again and gets what it lost.
 *   <li>{@link #ack(String)}: the poller stored the batch durably; the sink commits the transaction
 *       (the events leave the channel) and answers only once the commit is done.
 *   <li>{@link #nack(String)}: the poller could not store it; the sink rolls back (the events stay
 *       in the channel and are served again).
 * </ul>
 *
 * A batch neither acked nor nacked within the sink's {@code transaction-timeout} is rolled back.
 *
 * <p>Batch ids are {@code <slot>@<sequence>}: a slot is one poll thread of one poller (Tributary
 * uses {@code <pipeline>/<receiver>/<host:port#thread>}), and its sequence grows by one per stored
 * batch. The sink remembers the last committed sequence of each slot, so that {@link #ack} can tell
 * an id acked before ({@link #ACK_ALREADY_COMMITTED}) from one rolled back ({@link #ACK_UNKNOWN}).
 * Two pollers must never share a slot.
 *
 * <p>The protocol is not versioned: the {@code tributary-flume-sink} jar and Tributary's
 * connector-flume must be the same version (an older poller's {@code poll(int)} fails against this
 * sink with a schema error).
 *
 * <p>Thread safety: implementations are called concurrently by the RPC server's threads.
 */
public interface PullProtocol {
  /** {@link #ack} answer: the transaction was open and is now committed. */
  String ACK_COMMITTED = "committed";

  /** {@link #ack} answer: no open transaction, but the slot already committed this sequence. */
  String ACK_ALREADY_COMMITTED = "already-committed";

  /**
   * {@link #ack} answer: no open transaction and not known as committed: it was rolled back (timed
   * out, nacked, the commit failed, or the agent restarted), so its events will be served again.
   */
  String ACK_UNKNOWN = "unknown";

  /**
   * Takes up to {@code maxEvents} events in a new transaction named {@code batchId}, or answers the
   * still-open batch of that id; an empty batch if the channel is empty.
   */
  PulledBatch poll(int maxEvents, String batchId);

  /**
   * Commits the batch's transaction; answers {@link #ACK_COMMITTED}, {@link #ACK_ALREADY_COMMITTED}
   * or {@link #ACK_UNKNOWN}.
   */
  String ack(String batchId);

  /** Rolls the batch's transaction back; {@code false} if no such transaction was open. */
  boolean nack(String batchId);
}
