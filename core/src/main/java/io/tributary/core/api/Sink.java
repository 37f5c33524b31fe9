package io.tributary.core.api;

import java.util.List;

/**
 * Where a pipeline's batches go. The subtype states the guarantee: {@link TransactionalSink}, {@link IdempotentSink}
 * or {@link AtLeastOnceSink}.
 *
 * <p>Lifecycle: {@link #open(SinkContext)} once, {@link #write(long, List)} once per batch in increasing batch order
 * (a batch replayed after a crash is written again with the same id and the same records), {@link #close()} once.
 *
 * <p>Thread safety: all calls come from the pipeline's batch thread, one at a time.
 */
public sealed interface Sink extends AutoCloseable permits TransactionalSink, IdempotentSink, AtLeastOnceSink {

  void open(SinkContext context) throws Exception;

  /**
   * Writes one batch. Returns only when the batch is durable at the destination (for a transactional sink: committed).
   *
   * <p>A {@link RetriableException} (or any {@link TributaryException} whose {@code isRetriable()} is true) makes the
   * runtime call {@code write} again after a backoff, with the same batch id and the same records, up to the
   * pipeline's {@code retry.*} limits. So after a failed attempt the sink must be ready for the same batch again: no
   * half-written transaction left open, and a commit whose outcome is unknown (a timeout during commit) resolved
   * before writing again, or the retry duplicates the batch. Any other exception fails the batch; the runtime then
   * stops the pipeline and the batch is replayed on restart.
   */
  void write(long batchId, List<Record> records) throws Exception;

  /** The guarantee this sink gives on replay. */
  Guarantee guarantee();

  /** Releases resources. Safe to call twice. */
  @Override
  void close() throws Exception;
}
