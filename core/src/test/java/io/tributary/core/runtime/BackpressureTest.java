package io.tributary.core.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tributary.core.api.Receiver;
import io.tributary.core.api.Record;
import io.tributary.core.api.TributaryException;
import io.tributary.core.sources.QueueSource;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Backpressure end to end: the PID estimator, fed by each batch's processing time, sets the
 * receiver's rate limit (gauge {@code tributary.receiver.rate.limit}).
 */
class BackpressureTest {
  @TempDir Path tmp;

  /** Offers records at a fixed rate (pacing by its own clock) until stopped. */
  static final class PacedReceiver extends Receiver {
    private final long recordsPerSecond;
    private volatile Thread thread;

    PacedReceiver(long recordsPerSecond) {
      this.recordsPerSecond = recordsPerSecond;
    }

    @Override
    public void onStart() {
      Thread t =
          new Thread(
              () -> {
                long t0 = System.nanoTime();
                long sent = 0;
                try {
                  while (!isStopped()) {
                    long due =
                        (System.nanoTime() - t0) * recordsPerSecond / TimeUnit.SECONDS.toNanos(1);
                    if (sent < due) {
                      store(Record.ofString("r" + sent));
                      sent++;
                    } else {
                      LockSupport.parkNanos(
                          TimeUnit.MILLISECONDS.toNanos(1)); // pacing, not synchronisation
                    }
                  }
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                } catch (TributaryException stopped) {
                  // the pipeline stopped
                }
              },
              "test-paced-receiver");
      t.setDaemon(true);
      thread = t;
      t.start();
    }

    @Override
    public void onStop() throws InterruptedException {
      Thread t = thread;
      if (t != null) {
        t.interrupt();
        t.join(5_000);
      }
    }
  }

  /**
   * Work proportional to the batch: at least {@code nanosPerRecord} per record (parking used as
   * work, not as a wait).
   */
  private static void work(long nanos) {
    long deadline = System.nanoTime() + nanos;
    for (long left = nanos; left > 0; left = deadline - System.nanoTime()) {
      LockSupport.parkNanos(left);
    }
  }

  private static double rateLimit(SimpleMeterRegistry registry) {
    return registry.get("tributary.receiver.rate.limit").gauge().value();
  }

  @Test
  void slowProcessingLowersTheReceiverRateLimit() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    long offered = 2_000;
    Pipeline p =
        Pipeline.builder("bp")
            .checkpointDir(tmp)
            .batchInterval(Duration.ofMillis(100))
            .set("block-interval", "20ms")
            .set("backpressure.enabled", true)
            .meterRegistry(registry)
            .source("rx", new PacedReceiver(offered))
            // At least 1 ms per record: the pipeline can process at most 1,000 records/s.
            .foreachBatch((id, records) -> work(TimeUnit.MILLISECONDS.toNanos(1) * records.size()))
            .build();
    p.start();
    try {
      assertThat(rateLimit(registry)).as("unlimited before the first estimate").isZero();
      await().atMost(Duration.ofSeconds(15)).until(() -> rateLimit(registry) > 0);
      // The estimate never exceeds the measured processing rate (<= 1,000/s), nor goes below the
      // 100/s minimum.
      assertThat(rateLimit(registry)).isBetween(100.0, 1_000.0 + 1e-6).isLessThan(offered);
    } finally {
      p.stopNow();
    }
  }

  @Test
  void estimatedRateNeverExceedsTheConfiguredMaxRate() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    Pipeline p =
        Pipeline.builder("bp-cap")
            .checkpointDir(tmp)
            .batchInterval(Duration.ofMillis(100))
            .set("block-interval", "20ms")
            .set("backpressure.enabled", true)
            .set("receiver.max-rate", 2_000)
            .meterRegistry(registry)
            .source("rx", new PacedReceiver(1_000_000))
            // Fast processing (about 1 ms per batch): the estimate is far above 2,000 records/s.
            .foreachBatch((id, records) -> work(TimeUnit.MILLISECONDS.toNanos(1)))
            .build();
    p.start();
    try {
      assertThat(rateLimit(registry)).isEqualTo(2_000.0);
      // Several batches with records, so the estimator has produced estimates.
      await()
          .atMost(Duration.ofSeconds(15))
          .until(() -> registry.get("tributary.batches.completed").counter().count() >= 5);
      assertThat(rateLimit(registry)).isGreaterThan(0).isLessThanOrEqualTo(2_000.0);
    } finally {
      p.stopNow();
    }
  }

  @Test
  void backpressureAlsoLimitsDirectSources() throws Exception {
    QueueSource q = new QueueSource(false);
    String[] lots = new String[20_000];
    for (int i = 0; i < lots.length; i++) {
      lots[i] = "v" + i;
    }
    q.pushStrings(lots);
    List<Integer> sizes = new CopyOnWriteArrayList<>();
    Pipeline p =
        Pipeline.builder("bp-direct")
            .checkpointDir(tmp)
            .batchInterval(Duration.ofMillis(100))
            .set("backpressure.enabled", true)
            .set("backpressure.initial-rate", 500)
            .source("q", q)
            .foreachBatch((id, records) -> sizes.add(records.size()))
            .build();
    p.start();
    try {
      await().atMost(Duration.ofSeconds(10)).until(() -> !sizes.isEmpty());
    } finally {
      p.stopNow();
    }
    // 500 records/s x 100 ms: the first batch reads 50 records, not all 20,000 available.
    assertThat(sizes.get(0)).isEqualTo(50);
  }
}
