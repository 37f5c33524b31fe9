package io.tributary.core.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tributary.core.api.Receiver;
import io.tributary.core.api.ReceiverStoppedException;
import io.tributary.core.api.Record;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The receiver supervisor through a real pipeline: restarts with backoff, rate limit, bounded
 * buffer, stop rules.
 */
class ReceiverSupervisionTest {
  @TempDir Path tmp;

  private final List<Record> sunk = Collections.synchronizedList(new ArrayList<>());

  private Pipeline.Builder pipeline(String id) {
    return Pipeline.builder(id)
        .checkpointDir(tmp.resolve(id))
        .batchInterval(Duration.ofMillis(50))
        .set("block-interval", "20ms")
        .set("receiver.restart-delay", "50ms")
        .set("receiver.max-restart-delay", "400ms")
        .foreachBatch((batchId, records) -> sunk.addAll(records));
  }

  /** Fails onStart a number of times, then stores one reliable record per start. */
  static final class FlakyReceiver extends Receiver {
    final List<Long> startNanos = new CopyOnWriteArrayList<>();
    final AtomicInteger stops = new AtomicInteger();
    final int failures;

    FlakyReceiver(int failures) {
      this.failures = failures;
    }

    @Override
    public void onStart() throws Exception {
      startNanos.add(System.nanoTime());
      if (startNanos.size() <= failures) {
        throw new IllegalStateException("source unavailable (attempt " + startNanos.size() + ")");
      }
      storeReliably(List.of(Record.ofString("started-" + startNanos.size())));
    }

    @Override
    public void onStop() {
      stops.incrementAndGet();
    }
  }

  @Test
  void failedStartsAreRetriedWithExponentialBackoff() throws Exception {
    FlakyReceiver r = new FlakyReceiver(4);
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    Pipeline p =
        pipeline("backoff")
            .set("receiver.max-restart-delay", "200ms")
            .meterRegistry(registry)
            .source("in", r)
            .build();
    p.start();
    await().atMost(Duration.ofSeconds(10)).until(() -> sunk.size() == 1);
    p.stopGracefully();
    assertThat(sunk.get(0).valueAsString()).isEqualTo("started-5");
    List<Long> t = r.startNanos;
    assertThat(t).hasSize(5);
    // The delays the supervisor chose: 50 ms doubling, capped at 200 ms (a constant delay would not
    // add up to this).
    Timer delays = registry.get("tributary.receiver.restart.delay").timer();
    assertThat(delays.count()).isEqualTo(4);
    assertThat(delays.totalTime(TimeUnit.MILLISECONDS)).isEqualTo(50 + 100 + 200 + 200);
    // ... and they were waited for.
    long[] minGapsMs = {50, 100, 200, 200};
    for (int i = 0; i < 4; i++) {
      assertThat(TimeUnit.NANOSECONDS.toMillis(t.get(i + 1) - t.get(i)))
          .as("gap before attempt %d", i + 2)
          .isGreaterThanOrEqualTo(minGapsMs[i]);
    }
    assertThat(r.stops.get()).as("onStop after each failed start and at the end").isEqualTo(5);
  }

  @Test
  void restartRequestedByTheReceiverStopsAndStartsIt() throws Exception {
    AtomicInteger starts = new AtomicInteger();
    AtomicInteger stops = new AtomicInteger();
    Receiver r =
        new Receiver() {
          @Override
          public void onStart() {
            int n = starts.incrementAndGet();
            new Thread(
                    () -> {
                      if (n == 1) {
                        restart("connection lost", new RuntimeException("reset by peer"));
                      }
                    })
                .start();
          }

          @Override
          public void onStop() {
            stops.incrementAndGet();
          }
        };
    Pipeline p = pipeline("restart").source("in", r).build();
    p.start();
    await().atMost(Duration.ofSeconds(10)).until(() -> starts.get() == 2);
    assertThat(stops.get()).isEqualTo(1);
    p.stopGracefully();
    assertThat(stops.get()).isEqualTo(2);
  }

  @Test
  void storeAfterStopIsRefused() throws Exception {
    AtomicReference<Receiver> self = new AtomicReference<>();
    Receiver r =
        new Receiver() {
          @Override
          public void onStart() {
            self.set(this);
          }

          @Override
          public void onStop() {}

          void storeNow() throws InterruptedException {
            store(Record.ofString("late"));
          }
        };
    Pipeline p = pipeline("afterstop").source("in", r).build();
    p.start();
    await().until(() -> self.get() != null);
    p.stopGracefully();
    assertThatThrownBy(() -> r.getClass().getDeclaredMethod("storeNow").invoke(r))
        .hasCauseInstanceOf(ReceiverStoppedException.class);
  }

  /** Stores {@code total} records unreliably as fast as allowed. */
  static final class Firehose extends Receiver {
    final int total;
    final int bytes;
    final AtomicInteger stored = new AtomicInteger();
    volatile Thread thread;
    volatile Throwable ended;

    Firehose(int total, int bytes) {
      this.total = total;
      this.bytes = bytes;
    }

    @Override
    public void onStart() {
      thread =
          new Thread(
              () -> {
                try {
                  for (int i = 0; i < total && !isStopped(); i++) {
                    store(Record.of(new byte[bytes]));
                    stored.incrementAndGet();
                  }
                } catch (Throwable e) {
                  ended = e;
                }
              },
              "firehose");
      thread.start();
    }

    @Override
    public void onStop() {}
  }

  @Test
  void rateLimitHoldsStoresBack() throws Exception {
    Firehose f = new Firehose(1_000, 10);
    Pipeline p = pipeline("rate").set("receiver.max-rate", 500).source("in", f).build();
    long start = System.nanoTime();
    p.start();
    await().atMost(Duration.ofSeconds(20)).until(() -> f.stored.get() == 1_000);
    long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    await().atMost(Duration.ofSeconds(10)).until(() -> sunk.size() == 1_000);
    p.stopGracefully();
    // 1,000 records at 500/s with a 100 ms burst cannot take less than ~1.8 s.
    assertThat(elapsedMs).isGreaterThanOrEqualTo(1_700);
  }

  @Test
  void fullBufferBlocksStoresUntilABatchFreesIt() throws Exception {
    Firehose f = new Firehose(100, 1024);
    Pipeline p =
        pipeline("bounded")
            .batchInterval(Duration.ofSeconds(30)) // no batch frees memory during the check
            .set("receiver.buffer-size", "4kb")
            .source("in", f)
            .build();
    p.start();
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> f.thread != null && f.thread.getState() == Thread.State.WAITING);
    int storedWhileFull = f.stored.get();
    assertThat(storedWhileFull).isBetween(3, 5);
    await().during(Duration.ofMillis(300)).until(() -> f.stored.get() == storedWhileFull);
    // A graceful stop refuses further stores: the blocked store is released with
    // ReceiverStoppedException, and what
    // was stored before is processed.
    p.stopGracefully();
    await().atMost(Duration.ofSeconds(5)).until(() -> f.ended != null);
    assertThat(f.ended).isInstanceOf(ReceiverStoppedException.class);
    assertThat(sunk).hasSize(storedWhileFull);
  }

  @Test
  void gracefulStopDrainsEverythingStoredReliably() throws Exception {
    AtomicInteger acked = new AtomicInteger();
    Receiver r =
        new Receiver() {
          @Override
          public void onStart() throws InterruptedException {
            List<Record> batch = new ArrayList<>();
            for (int i = 0; i < 500; i++) {
              batch.add(Record.ofString("r" + i));
            }
            storeReliably(batch);
            acked.set(batch.size());
          }

          @Override
          public void onStop() {}
        };
    Pipeline p = pipeline("drain").batchInterval(Duration.ofSeconds(30)).source("in", r).build();
    p.start();
    await().atMost(Duration.ofSeconds(10)).until(() -> acked.get() == 500);
    assertThat(sunk).isEmpty(); // no batch ran yet: the interval is 30 s
    p.stopGracefully();
    assertThat(sunk).hasSize(500);
    assertThat(p.status().state()).isEqualTo(PipelineState.STOPPED);
    assertThat(p.status().lastCommittedBatch()).isZero();
  }
}
