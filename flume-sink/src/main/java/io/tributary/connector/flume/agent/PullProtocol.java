package io.tributary.connector.flume.agent;

/**
 * The Avro RPC protocol (reflect-based) between a Tributary poller and a {@link TributarySink}
 * inside a Flume agent: the poller asks for a batch, stores it, then acknowledges it.
 *
 * <ul>
 *   <li>{@link #poll(int)}: the sink takes up to {@code maxEvents} events from its channel inside a
 *       channel transaction and returns them with a batch id; the transaction stays open.
 *   <li>{@link #ack(String)}: the poller stored the batch durably; the sink commits the transaction
 *       (the events leave the channel). {@code false} if the batch is unknown (it timed out and was
 *       rolled back, so its events will be served again).
 *   <li>{@link #nack(String)}: the poller could not store it; the sink rolls back (the events stay
 *       in the channel and are served again).
 * </ul>
 *
 * A batch neither acked nor nacked within the sink's {@code transaction-timeout} is rolled back.
 *
 * <p>Thread safety: implementations are called concurrently by the RPC server's threads.
 */
public interface PullProtocol {
  /** Takes up to {@code maxEvents} events in a new transaction; an empty batch if none. */
  PulledBatch poll(int maxEvents);

  /** Commits the batch's transaction. */
  boolean ack(String batchId);

  /** Rolls the batch's transaction back. */
  boolean nack(String batchId);
}
