package io.tributary.core.api;

import java.util.List;

/**
 * Writes one batch to a {@link Sink} chunk by chunk, so that a batch never has to fit in memory at
 * once.
 *
 * <p>Lifecycle: {@link Sink#begin(SinkBatch)} returns it, then {@link #write(List)} once per chunk
 * in batch order (records of one partition in position order; the chunk order is the same when a
 * batch is replayed), then {@link #commit()} once, then {@link #close()}. {@code close()} without
 * {@code commit()} abandons the batch: the sink aborts what it started (a transaction, a temporary
 * file) and nothing of it becomes visible. {@code close()} is safe twice.
 *
 * <p>Memory: the runtime does not reuse or change a chunk after passing it in, and keeps no
 * reference to it; a sink that keeps references to records until {@code commit()} holds the whole
 * batch in memory.
 *
 * <p>Thread safety: all calls come from the pipeline's batch thread, one at a time.
 */
public interface BatchWriter extends AutoCloseable {
  /**
   * Writes one chunk of the batch. May block (backpressure from the destination), honouring
   * interruption.
   */
  void write(List<Record> chunk) throws Exception;

  /**
   * Makes the whole batch durable at the destination (a transactional sink commits its
   * transaction). When this returns, the batch counts as written by this sink; if it throws, the
   * batch is written again, with the same id and records, by a retry or after a restart.
   */
  void commit() throws Exception;

  /** Releases what the writer holds; abandons the batch when it was not committed. Safe twice. */
  @Override
  void close() throws Exception;
}
