package io.tributary.core.api;

import java.util.List;

/**
 * Where a pipeline's batches go. The subtype states the guarantee: {@link TransactionalSink},
 * {@link IdempotentSink} or {@link AtLeastOnceSink}.
 *
 * <p>Lifecycle: {@link #open(SinkContext)} once, then per batch in increasing batch order {@link
 * #begin(SinkBatch)} and the returned {@link BatchWriter} (chunks, commit, close); a batch replayed
 * after a crash, or retried after a transient error, is written again with the same id and the same
 * records. {@link #close()} once.
 *
 * <p>Two ways to implement: a sink that can write a batch piece by piece overrides {@link
 * #begin(SinkBatch)} (memory stays flat whatever the batch size) and implements {@link #write(long,
 * List)} with {@link #writeAll(Sink, long, List)}; a simple sink implements only {@link
 * #write(long, List)} and gets the whole batch as one list (the default {@code begin} collects it:
 * the batch must fit in memory).
 *
 * <p>Thread safety: all calls come from the pipeline's batch thread, one at a time.
 */
public sealed interface Sink extends AutoCloseable
    permits TransactionalSink, IdempotentSink, AtLeastOnceSink {

  void open(SinkContext context) throws Exception;

  /**
   * Writes one batch. Returns only when the batch is durable at the destination (for a
   * transactional sink: committed).
   *
   * <p>A {@link RetriableException} (or any {@link TributaryException} whose {@code isRetriable()}
   * is true) makes the runtime call {@code write} again after a backoff, with the same batch id and
   * the same records, up to the pipeline's {@code retry.*} limits. So after a failed attempt the
   * sink must be ready for the same batch again: no half-written transaction left open, and a
   * commit whose outcome is unknown (a timeout during commit) resolved before writing again, or the
   * retry duplicates the batch. Any other exception fails the batch; the runtime then stops the
   * pipeline and the batch is replayed on restart.
   */
  void write(long batchId, List<Record> records) throws Exception;

  /**
   * Starts writing one batch. The default collects every chunk and calls {@link #write(long, List)}
   * in {@link BatchWriter#commit()}; override it to stream.
   */
  default BatchWriter begin(SinkBatch batch) throws Exception {
    long batchId = batch.batchId();
    return new BatchWriter() {
      private List<Record> all = new java.util.ArrayList<>();

      @Override
      public void write(List<Record> chunk) {
        all.addAll(chunk);
      }

      @Override
      public void commit() throws Exception {
        List<Record> records = all;
        all = new java.util.ArrayList<>();
        Sink.this.write(batchId, records);
      }

      @Override
      public void close() {
        all = List.of();
      }
    };
  }

  /**
   * Writes {@code records} as one batch through {@link #begin(SinkBatch)}: for sinks that override
   * {@code begin}.
   */
  static void writeAll(Sink sink, long batchId, List<Record> records) throws Exception {
    try (BatchWriter w = sink.begin(SinkBatch.of(batchId))) {
      if (!records.isEmpty()) {
        w.write(records);
      }
      w.commit();
    }
  }

  /** The guarantee this sink gives on replay. */
  Guarantee guarantee();

  /** Releases resources. Safe to call twice. */
  @Override
  void close() throws Exception;
}
