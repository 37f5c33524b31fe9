package io.tributary.core.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tributary.core.api.Receiver;
import io.tributary.core.api.ReceiverStoppedException;
import io.tributary.core.api.Record;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The receiver supervisor, driven through a real {@link Pipeline}: restart with exponential
 * backoff, restart and stop requested by the receiver, rate limit, bounded memory, unreliable
 * blocks and graceful draining.
 */
class ReceiverSupervisorPipelineTest {
  @TempDir Path tmp;

  private final List<Pipeline> pipelines = new ArrayList<>();

  @AfterEach
  void stopAll() {
    pipelines.forEach(Pipeline::stopNow);
  }

  /**
   * A receiver whose lifecycle calls are recorded and whose store methods a test thread can call.
   */
  static final class ScriptedReceiver extends Receiver {
    final List<Long> startNanos = new CopyOnWriteArrayList<>();
    final List<String> events = new CopyOnWriteArrayList<>();
    final AtomicInteger stops = new AtomicInteger();
    private final int failingStarts;

    ScriptedReceiver(int failingStarts) {
      this.failingStarts = failingStarts;
    }

    @Override
    public void onStart() throws IOException {
      startNanos.add(System.nanoTime());
      events.add("start");
      if (startNanos.size() <= failingStarts) {
        throw new IOException("simulated connect failure " + startNanos.size());
      }
    }

    @Override
    public void onStop() {
      stops.incrementAndGet();
      events.add("stop");
    }

    void put(Record r) throws InterruptedException {
      store(r);
    }

    void putReliably(List<Record> batch) throws InterruptedException {
      storeReliably(batch);
    }

    void askRestart(String reason) {
      restart(reason, new IOException("connection reset"));
    }

    void askStop(String reason) {
      stop(reason);
    }

    boolean stopped() {
      return isStopped();
    }
  }

  /** Collects every record value handed to the sink, and the batch ids. */
  static final class Collected {
    final List<String> values = new CopyOnWriteArrayList<>();
    final List<Long> batchIds = new CopyOnWriteArrayList<>();

    void add(long batchId, List<Record> records) {
      batchIds.add(batchId);
      records.forEach(r -> values.add(r.valueAsString()));
    }
  }

  private Pipeline.Builder builder(String id) {
    return Pipeline.builder(id)
        .checkpointDir(tmp.resolve(id))
        .batchInterval(Duration.ofMillis(50))
        .set("block-interval", "20ms")
        .set("receiver.restart-delay", "50ms")
        .set("receiver.max-restart-delay", "400ms");
  }

  private Pipeline started(Pipeline.Builder b) {
    Pipeline p = b.build();
    pipelines.add(p);
    p.start();
    return p;
  }

  private static List<Record> records(String prefix, int n) {
    return IntStream.range(0, n).mapToObj(i -> Record.ofString(prefix + i)).toList();
  }

  private static List<String> values(String prefix, int n) {
    return IntStream.range(0, n).mapToObj(i -> prefix + i).toList();
  }

  @Test
  void failingStartIsRetriedWithExponentialBackoffThenWorks() throws Exception {
    ScriptedReceiver rx = new ScriptedReceiver(3);
    Collected out = new Collected();
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    Pipeline p =
        started(builder("backoff").meterRegistry(registry).source("rx", rx).foreachBatch(out::add));

    await().atMost(Duration.ofSeconds(10)).until(() -> rx.startNanos.size() == 4 && !rx.stopped());
    // The delays the supervisor chose, 50, 100 and 200 ms (not, say, 200 ms three times) ...
    Timer delays = registry.get("tributary.receiver.restart.delay").timer();
    assertThat(delays.count()).isEqualTo(3);
    assertThat(delays.totalTime(TimeUnit.MILLISECONDS)).isEqualTo(50 + 100 + 200);
    // ... were waited for.
    List<Long> t = rx.startNanos;
    assertThat(TimeUnit.NANOSECONDS.toMillis(t.get(1) - t.get(0))).isGreaterThanOrEqualTo(50);
    assertThat(TimeUnit.NANOSECONDS.toMillis(t.get(2) - t.get(1))).isGreaterThanOrEqualTo(100);
    assertThat(TimeUnit.NANOSECONDS.toMillis(t.get(3) - t.get(2))).isGreaterThanOrEqualTo(200);
    // onStop runs once per onStart, also after a failed start, before the next start.
    assertThat(rx.events)
        .containsExactly("start", "stop", "start", "stop", "start", "stop", "start");

    rx.putReliably(records("r", 10));
    await().atMost(Duration.ofSeconds(10)).until(() -> out.values.size() == 10);
    assertThat(out.values).containsExactlyElementsOf(values("r", 10));
    assertThat(p.status().state()).isEqualTo(PipelineState.RUNNING);
  }

  @Test
  void backoffStartsOverOnceTheReceiverStayedUpForTwiceTheMaxDelay() throws Exception {
    ScriptedReceiver rx = new ScriptedReceiver(3);
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    started(
        builder("backoff-reset")
            .set("receiver.max-restart-delay", "100ms")
            .meterRegistry(registry)
            .source("rx", rx)
            .foreachBatch((id, r) -> {}));
    await().atMost(Duration.ofSeconds(10)).until(() -> rx.startNanos.size() == 4 && !rx.stopped());
    Timer delays = registry.get("tributary.receiver.restart.delay").timer();
    assertThat(delays.count()).isEqualTo(3);
    assertThat(delays.totalTime(TimeUnit.MILLISECONDS)).isEqualTo(50 + 100 + 100);

    // The fourth start succeeded. Once it has been up for more than 2 x 100 ms, a failure is a new
    // incident.
    long upSince = rx.startNanos.get(3);
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> System.nanoTime() - upSince > TimeUnit.MILLISECONDS.toNanos(250));
    rx.askRestart("connection lost");
    await().atMost(Duration.ofSeconds(10)).until(() -> rx.startNanos.size() == 5 && !rx.stopped());
    assertThat(delays.count()).isEqualTo(4);
    assertThat(delays.totalTime(TimeUnit.MILLISECONDS))
        .as("the fourth delay is the initial 50 ms")
        .isEqualTo(300);
    assertThat(rx.events)
        .containsExactly(
            "start", "stop", "start", "stop", "start", "stop", "start", "stop", "start");
  }

  @Test
  void restartRequestedFromReceiverThreadStopsThenStartsAgain() throws Exception {
    ScriptedReceiver rx = new ScriptedReceiver(0);
    Collected out = new Collected();
    started(builder("restart").source("rx", rx).foreachBatch(out::add));
    await().atMost(Duration.ofSeconds(10)).until(() -> rx.startNanos.size() == 1);

    Thread receiverThread =
        new Thread(() -> rx.askRestart("peer closed the connection"), "test-receiver-thread");
    receiverThread.start();
    receiverThread.join();

    await().atMost(Duration.ofSeconds(10)).until(() -> rx.startNanos.size() == 2 && !rx.stopped());
    assertThat(rx.events).containsExactly("start", "stop", "start");
    assertThat(TimeUnit.NANOSECONDS.toMillis(rx.startNanos.get(1) - rx.startNanos.get(0)))
        .isGreaterThanOrEqualTo(50);
    rx.putReliably(records("after-restart-", 3));
    await().atMost(Duration.ofSeconds(10)).until(() -> out.values.size() == 3);
  }

  @Test
  void stopRequestedByReceiverStopsItForGood() throws Exception {
    ScriptedReceiver rx = new ScriptedReceiver(0);
    Pipeline p = started(builder("stop").source("rx", rx).foreachBatch((id, r) -> {}));
    await().atMost(Duration.ofSeconds(10)).until(() -> rx.startNanos.size() == 1);

    rx.askStop("source exhausted");
    assertThat(rx.stopped()).isTrue();
    await().atMost(Duration.ofSeconds(5)).until(() -> rx.stops.get() == 1);
    // Well past several restart delays, it is still stopped and the pipeline still runs.
    await()
        .during(Duration.ofMillis(300))
        .atMost(Duration.ofSeconds(2))
        .until(() -> rx.startNanos.size() == 1 && rx.stopped());
    assertThatThrownBy(() -> rx.put(Record.ofString("x")))
        .isInstanceOf(ReceiverStoppedException.class);
    assertThat(p.status().state()).isEqualTo(PipelineState.RUNNING);
    p.stopGracefully();
    assertThat(rx.events).containsExactly("start", "stop");
  }

  @Test
  void stopAfterARestartWasScheduledDoesNotStopTwice() throws Exception {
    ScriptedReceiver rx = new ScriptedReceiver(0);
    Pipeline p =
        started(
            builder("stop-pending")
                .set("receiver.restart-delay", "5s")
                .set("receiver.max-restart-delay", "10s")
                .source("rx", rx)
                .foreachBatch((id, r) -> {}));
    await().atMost(Duration.ofSeconds(10)).until(() -> rx.startNanos.size() == 1);
    rx.askRestart("flaky");
    await().atMost(Duration.ofSeconds(5)).until(() -> rx.stops.get() == 1);
    rx.askStop("give up"); // while the restart waits: the receiver is already stopped
    p.stopGracefully(); // runs after the stop request on the supervisor's control thread
    assertThat(rx.events).containsExactly("start", "stop");
  }

  @Test
  void storeAfterPipelineStoppedThrowsReceiverStopped() throws Exception {
    ScriptedReceiver rx = new ScriptedReceiver(0);
    Pipeline p = started(builder("after-stop").source("rx", rx).foreachBatch((id, r) -> {}));
    await().atMost(Duration.ofSeconds(10)).until(() -> rx.startNanos.size() == 1);
    p.stopGracefully();

    assertThat(rx.stopped()).isTrue();
    assertThat(rx.events).containsExactly("start", "stop");
    assertThatThrownBy(() -> rx.put(Record.ofString("late")))
        .isInstanceOf(ReceiverStoppedException.class);
    assertThatThrownBy(() -> rx.putReliably(records("late", 2)))
        .isInstanceOf(ReceiverStoppedException.class);
  }

  @Test
  void stopNowStopsTheReceiver() throws Exception {
    ScriptedReceiver rx = new ScriptedReceiver(0);
    Pipeline p = started(builder("stop-now").source("rx", rx).foreachBatch((id, r) -> {}));
    await().atMost(Duration.ofSeconds(10)).until(() -> rx.startNanos.size() == 1);
    p.stopNow();
    // onStop must release what onStart set up (sockets, threads) also on an immediate stop.
    assertThat(rx.events).containsExactly("start", "stop");
    assertThat(rx.stopped()).isTrue();
  }

  @Test
  void rateLimitHoldsStoresBack() throws Exception {
    ScriptedReceiver rx = new ScriptedReceiver(0);
    Collected out = new Collected();
    Pipeline p =
        started(
            builder("rate").set("receiver.max-rate", 500).source("rx", rx).foreachBatch(out::add));
    await().atMost(Duration.ofSeconds(10)).until(() -> rx.startNanos.size() == 1);

    long t0 = System.nanoTime();
    for (Record r : records("v", 1_000)) {
      rx.put(r);
    }
    long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    // 1,000 records at 500/s with a burst of 100 ms worth (50 records): at least 1.9 s; allow slack
    // below.
    assertThat(elapsedMs).isGreaterThanOrEqualTo(1_500);
    p.stopGracefully();
    assertThat(out.values).containsExactlyElementsOf(values("v", 1_000));
  }

  /** Stores 1 KB records one after another, counting them, until the store fails. */
  private static Thread storingThread(
      ScriptedReceiver rx, int n, AtomicInteger stored, AtomicReference<Throwable> err) {
    Thread t =
        new Thread(
            () -> {
              try {
                for (int i = 0; i < n; i++) {
                  byte[] kb = new byte[1024];
                  kb[0] = (byte) 'a';
                  rx.put(Record.of(kb));
                  stored.incrementAndGet();
                }
              } catch (Throwable e) {
                err.set(e);
              }
            },
            "test-storing-thread");
    t.setDaemon(true);
    return t;
  }

  @Test
  void fullBufferBlocksStoreUntilStopNowUnblocksIt() throws Exception {
    ScriptedReceiver rx = new ScriptedReceiver(0);
    Pipeline p =
        started(
            builder("bounded")
                .batchInterval(Duration.ofSeconds(10))
                .set("receiver.buffer-size", "4kb")
                .source("rx", rx)
                .foreachBatch((id, r) -> {}));
    await().atMost(Duration.ofSeconds(10)).until(() -> rx.startNanos.size() == 1);

    AtomicInteger stored = new AtomicInteger();
    AtomicReference<Throwable> err = new AtomicReference<>();
    Thread t = storingThread(rx, 100, stored, err);
    t.start();
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                t.getState() == Thread.State.WAITING || t.getState() == Thread.State.TIMED_WAITING);
    // 4 KB hold four 1 KB records; nothing commits within the 10 s batch interval.
    await()
        .during(Duration.ofMillis(200))
        .atMost(Duration.ofSeconds(2))
        .until(() -> stored.get() == 4);
    assertThat(t.isAlive()).isTrue();

    p.stopNow();
    t.join(5_000);
    assertThat(t.isAlive()).isFalse();
    assertThat(err.get()).isInstanceOf(ReceiverStoppedException.class);
    assertThat(stored.get()).isEqualTo(4);
  }

  @Test
  void fullBufferBlocksStoreAndGracefulStopDeliversWhatWasStored() throws Exception {
    ScriptedReceiver rx = new ScriptedReceiver(0);
    Collected out = new Collected();
    Pipeline p =
        started(
            builder("bounded-graceful")
                .batchInterval(Duration.ofSeconds(10))
                .set("receiver.buffer-size", "4kb")
                .source("rx", rx)
                .foreachBatch(out::add));
    await().atMost(Duration.ofSeconds(10)).until(() -> rx.startNanos.size() == 1);
    AtomicInteger stored = new AtomicInteger();
    AtomicReference<Throwable> err = new AtomicReference<>();
    Thread t = storingThread(rx, 100, stored, err);
    t.start();
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                stored.get() == 4
                    && (t.getState() == Thread.State.WAITING
                        || t.getState() == Thread.State.TIMED_WAITING));

    p.stopGracefully();
    t.join(5_000);
    assertThat(err.get()).isInstanceOf(ReceiverStoppedException.class);
    assertThat(out.values).hasSize(4);
  }

  @Test
  void fullBufferContinuesOnceCommitsFreeMemory() throws Exception {
    ScriptedReceiver rx = new ScriptedReceiver(0);
    Collected out = new Collected();
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    Pipeline p =
        started(
            builder("bounded-flow")
                .set("receiver.buffer-size", "4kb")
                .meterRegistry(registry)
                .source("rx", rx)
                .foreachBatch(out::add));
    await().atMost(Duration.ofSeconds(10)).until(() -> rx.startNanos.size() == 1);

    double maxHeld = 0;
    for (int i = 0; i < 40; i++) {
      rx.put(Record.ofString(String.format("%04d", i) + "x".repeat(1020)));
      maxHeld = Math.max(maxHeld, registry.get("tributary.receiver.buffer.bytes").gauge().value());
    }
    assertThat(maxHeld).isLessThanOrEqualTo(4096);
    await().atMost(Duration.ofSeconds(10)).until(() -> out.values.size() == 40);
    assertThat(out.values)
        .extracting(v -> v.substring(0, 4))
        .containsExactlyElementsOf(
            IntStream.range(0, 40).mapToObj(i -> String.format("%04d", i)).toList());
    assertThat(out.batchIds.size()).isGreaterThan(1);
    p.stopGracefully();
  }

  @Test
  void unreliableStoresAreCutIntoBlocksAndAllReachTheSink() throws Exception {
    ScriptedReceiver rx = new ScriptedReceiver(0);
    Collected out = new Collected();
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    started(builder("blocks").meterRegistry(registry).source("rx", rx).foreachBatch(out::add));
    await().atMost(Duration.ofSeconds(10)).until(() -> rx.startNanos.size() == 1);

    for (Record r : records("u", 500)) {
      rx.put(r);
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> out.values.size() >= 500);
    assertThat(out.values).containsExactlyElementsOf(values("u", 500));
    assertThat(registry.get("tributary.receiver.records.stored").counter().count())
        .isEqualTo(500.0);
    // Batch ids grow by one per batch that had data.
    assertThat(out.batchIds).isSorted().doesNotHaveDuplicates();
  }

  @Test
  void gracefulStopDeliversEverythingStoredBeforeIt() throws Exception {
    ScriptedReceiver rx = new ScriptedReceiver(0);
    Collected out = new Collected();
    // A 20 s batch interval: nothing is processed before the stop, so the stop itself must drain.
    Pipeline p =
        started(
            builder("drain")
                .batchInterval(Duration.ofSeconds(20))
                .source("rx", rx)
                .foreachBatch(out::add));
    await().atMost(Duration.ofSeconds(10)).until(() -> rx.startNanos.size() == 1);

    List<String> expected = new ArrayList<>();
    for (int c = 0; c < 5; c++) {
      rx.putReliably(records("c" + c + "-", 100));
      expected.addAll(values("c" + c + "-", 100));
    }
    for (Record r : records("loose-", 50)) {
      rx.put(r);
    }
    expected.addAll(values("loose-", 50));
    assertThat(out.values).isEmpty();

    p.stopGracefully();
    assertThat(p.status().state()).isEqualTo(PipelineState.STOPPED);
    assertThat(out.values).containsExactlyElementsOf(expected);
    assertThat(p.status().lastCommittedBatch()).isEqualTo(p.status().lastPlannedBatch());
  }
}
