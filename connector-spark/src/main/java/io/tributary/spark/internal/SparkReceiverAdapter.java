package io.tributary.spark.internal;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tributary.core.api.Receiver;
import io.tributary.core.api.ReceiverRuntime;
import io.tributary.core.api.ReceiverStoppedException;
import io.tributary.core.api.Record;
import io.tributary.core.api.StoreFailedException;
import io.tributary.spark.SerializableReceiverSupplier;
import io.tributary.spark.TributaryRecord;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.spark.storage.StorageLevel;

/**
 * Runs a Tributary {@link Receiver} as a Spark Streaming receiver on an executor.
 *
 * <ul>
 *   <li>{@code storeReliably} / {@code storeReliablyAsync} become Spark's {@code store(iterator)},
 *       which returns once the block is stored and reported to the driver, and, with {@code
 *       spark.streaming.receiver.writeAheadLog.enable=true}, written to Spark's write-ahead log:
 *       the receiver acknowledges its source only after that, as under the Tributary runtime.
 *   <li>{@code store(record)} is Spark's unreliable {@code store(item)} (buffered into a block
 *       every {@code spark.streaming.blockInterval}).
 *   <li>{@code restart}, {@code stop}, {@code reportError} are Spark's; Spark restarts the receiver
 *       after {@code spark.streaming.receiverRestartDelay}.
 * </ul>
 *
 * <p>What Spark does not give: {@code lastStoredOffset} is always empty (Spark keeps no
 * per-partition offsets of a receiver), and {@link Receiver#onBatchCommitted} is never called
 * (Spark has no commit callback to receivers), so a receiver that acknowledges its source only
 * there never acknowledges under Spark.
 *
 * <p>Thread safety: Spark calls onStart/onStop from its supervisor; the Tributary receiver's store
 * calls may come from any thread. Asynchronous reliable stores run one at a time, in call order, on
 * a thread of their own ({@code tributary-spark-<stream>-store-0}), so a Netty event loop calling
 * {@code storeReliablyAsync} never blocks.
 */
public final class SparkReceiverAdapter
    extends org.apache.spark.streaming.receiver.Receiver<TributaryRecord> {
  private static final long serialVersionUID = 1L;

  private final SerializableReceiverSupplier supplier;
  private transient Receiver receiver;
  private transient ExecutorService storer;
  private transient MeterRegistry registry;

  public SparkReceiverAdapter(SerializableReceiverSupplier supplier, StorageLevel level) {
    super(level);
    this.supplier = supplier;
  }

  @Override
  public void onStart() {
    registry = new SimpleMeterRegistry();
    String name = "tributary-spark-" + streamId() + "-store-0";
    storer =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, name);
              t.setDaemon(true);
              return t;
            });
    receiver = supplier.get();
    receiver.attach(new Runtime());
    try {
      receiver.onStart();
    } catch (Exception e) {
      restart("Tributary receiver failed to start: " + e, e);
    }
  }

  @Override
  public void onStop() {
    Receiver r = receiver;
    if (r != null) {
      try {
        r.onStop();
      } catch (Exception e) {
        reportError("Tributary receiver failed to stop: " + e, e);
      }
    }
    ExecutorService s = storer;
    if (s != null) {
      s.shutdownNow();
      try {
        s.awaitTermination(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private final class Runtime implements ReceiverRuntime {
    @Override
    public void store(Record record) {
      checkRunning();
      SparkReceiverAdapter.this.store(TributaryRecord.of(record, ""));
    }

    @Override
    public void store(Iterator<Record> records) {
      checkRunning();
      while (records.hasNext()) {
        SparkReceiverAdapter.this.store(TributaryRecord.of(records.next(), ""));
      }
    }

    @Override
    public CompletableFuture<Void> storeReliablyAsync(List<Record> batch) {
      CompletableFuture<Void> f = new CompletableFuture<>();
      if (isStopped()) {
        f.completeExceptionally(new ReceiverStoppedException("The Spark receiver is stopped"));
        return f;
      }
      List<TributaryRecord> block = new ArrayList<>(batch.size());
      for (Record r : batch) {
        block.add(TributaryRecord.of(r, ""));
      }
      try {
        storer.execute(
            () -> {
              try {
                SparkReceiverAdapter.this.store(block.iterator());
                f.complete(null);
              } catch (RuntimeException e) {
                f.completeExceptionally(
                    isStopped()
                        ? new ReceiverStoppedException("The Spark receiver stopped while storing")
                        : new StoreFailedException("Spark could not store the block: " + e, e));
              }
            });
      } catch (java.util.concurrent.RejectedExecutionException e) {
        f.completeExceptionally(new ReceiverStoppedException("The Spark receiver is stopped"));
      }
      return f;
    }

    @Override
    public OptionalLong lastStoredOffset(String partition) {
      return OptionalLong.empty();
    }

    @Override
    public void restart(String reason, Throwable error) {
      SparkReceiverAdapter.this.restart(reason, error);
    }

    @Override
    public void reportError(String message, Throwable error) {
      SparkReceiverAdapter.this.reportError(message, error);
    }

    @Override
    public void stop(String reason) {
      SparkReceiverAdapter.this.stop(reason);
    }

    @Override
    public boolean isStopped() {
      return SparkReceiverAdapter.this.isStopped();
    }

    @Override
    public String receiverName() {
      return "spark-receiver-" + streamId();
    }

    @Override
    public String pipelineId() {
      return "spark";
    }

    @Override
    public MeterRegistry meterRegistry() {
      return registry;
    }

    private void checkRunning() {
      if (isStopped()) {
        throw new ReceiverStoppedException("The Spark receiver is stopped");
      }
    }
  }
}
