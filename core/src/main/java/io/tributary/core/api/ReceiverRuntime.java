package io.tributary.core.api;

import java.util.Iterator;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;

/**
 * The runtime side of a {@link Receiver}: implemented by Tributary's receiver supervisor (and by
 * test harnesses such as the SDK's {@code EmbeddedReceiver}), never by receiver authors. {@link
 * Receiver}'s protected methods delegate here; see them for the guarantees.
 *
 * <p>Thread safety: every method may be called from any thread.
 */
public interface ReceiverRuntime {
  void store(Record record) throws InterruptedException;

  void store(Iterator<Record> records) throws InterruptedException;

  CompletableFuture<Void> storeReliablyAsync(List<Record> batch);

  OptionalLong lastStoredOffset(String partition);

  void restart(String reason, Throwable error);

  void reportError(String message, Throwable error);

  void stop(String reason);

  boolean isStopped();

  /** The receiver's name within the pipeline (used in thread names, logs and metrics). */
  String receiverName();

  /** The pipeline's id, for tags and thread names. */
  default String pipelineId() {
    return "";
  }

  /**
   * Where the receiver registers its meters (the pipeline's registry; the global one in test
   * harnesses).
   */
  default io.micrometer.core.instrument.MeterRegistry meterRegistry() {
    return io.micrometer.core.instrument.Metrics.globalRegistry;
  }
}
