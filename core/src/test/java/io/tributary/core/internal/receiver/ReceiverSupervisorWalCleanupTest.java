package io.tributary.core.internal.receiver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tributary.core.api.OffsetRange;
import io.tributary.core.api.Receiver;
import io.tributary.core.api.Record;
import io.tributary.core.internal.checkpoint.BatchPlan;
import io.tributary.core.internal.wal.WalConfig;
import io.tributary.core.internal.wal.WriteAheadLog;
import io.tributary.core.runtime.FsyncPolicy;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * WAL cleanup after a commit must keep the segments of blocks whose append is still in flight:
 * written by the WAL, but not yet handed back to the supervisor because the WAL's completion thread
 * is behind.
 */
class ReceiverSupervisorWalCleanupTest {
  @TempDir Path tmp;

  private final List<AutoCloseable> open = new ArrayList<>();
  private final CountDownLatch gate = new CountDownLatch(1);

  @AfterEach
  void closeAll() throws Exception {
    gate.countDown();
    for (int i = open.size() - 1; i >= 0; i--) {
      open.get(i).close();
    }
  }

  static final class IdleReceiver extends Receiver {
    @Override
    public void onStart() {}

    @Override
    public void onStop() {}
  }

  private WriteAheadLog openWal() throws IOException {
    // Segments of the smallest size: every block is larger, so block n is alone in segment n.
    WalConfig config =
        new WalConfig(
            FsyncPolicy.ALWAYS, Duration.ofMillis(100), WalConfig.MIN_SEGMENT_BYTES, "t-wal-0");
    WriteAheadLog wal =
        WriteAheadLog.open(tmp.resolve("wal"), config, new SimpleMeterRegistry(), Tags.empty());
    open.add(wal);
    return wal;
  }

  private ReceiverSupervisor supervisor(WriteAheadLog wal, BatchPlan lastPlan) throws IOException {
    ReceiverSupervisor s =
        new ReceiverSupervisor(
            "p",
            "rx",
            new IdleReceiver(),
            wal,
            Duration.ofMinutes(1),
            Duration.ofSeconds(1),
            Duration.ofSeconds(1),
            0,
            1 << 20,
            new SimpleMeterRegistry());
    open.add(s);
    s.recover(lastPlan);
    s.start();
    await().atMost(Duration.ofSeconds(10)).until(() -> !s.isStopped());
    return s;
  }

  private static List<Record> block(String value) {
    return List.of(Record.ofString(value + "-" + "x".repeat(100)));
  }

  @Test
  void cleanupAfterACommitKeepsSegmentsOfAppendsStillInFlight() throws Exception {
    WriteAheadLog wal = openWal();
    ReceiverSupervisor sup = supervisor(wal, null);
    sup.storeReliablyAsync(block("committed-0")).get(10, TimeUnit.SECONDS);
    long stored = 1;

    // Park the WAL's completion thread in a dependent stage of one store. A stage attached after
    // its future completed
    // runs at once on this thread instead; then try again with another store.
    Thread self = Thread.currentThread();
    CompletableFuture<Void> parked = new CompletableFuture<>();
    for (boolean attachedInTime = false; !attachedInTime; stored++) {
      if (stored > 100) {
        fail("every store completed before a stage could be attached to it");
      }
      AtomicBoolean ranHere = new AtomicBoolean();
      sup.storeReliablyAsync(block("committed-" + stored))
          .thenRun(
              () -> {
                if (Thread.currentThread() == self) {
                  ranHere.set(true);
                  return;
                }
                parked.complete(null);
                try {
                  gate.await();
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              });
      attachedInTime = !ranHere.get();
    }
    parked.get(10, TimeUnit.SECONDS);
    long inFlight = stored; // blocks [0, inFlight) are durable and known to the supervisor

    // Two more blocks: the WAL writes them (rolling to their own segments), their completion waits
    // behind the gate.
    CompletableFuture<Void> a = sup.storeReliablyAsync(block("in-flight-a"));
    CompletableFuture<Void> b = sup.storeReliablyAsync(block("in-flight-b"));
    await().atMost(Duration.ofSeconds(10)).until(() -> wal.activeSegmentId() == inFlight + 1);
    assertThat(a).isNotDone();

    // The batch of every known block commits; its cleanup runs while a and b are in flight.
    BatchPlan plan = sup.plan(0, System.currentTimeMillis());
    assertThat(plan.ranges()).containsExactly(new OffsetRange(BatchPlan.BLOCKS, 0, inFlight));
    sup.committed(inFlight);
    assertThat(wal.segmentIds()).as("committed segments deleted").doesNotContain(0L);
    assertThat(wal.segmentIds()).as("segments of a and b kept").contains(inFlight, inFlight + 1);

    gate.countDown();
    a.get(10, TimeUnit.SECONDS);
    b.get(10, TimeUnit.SECONDS); // both acknowledged to the source

    // A crash now: the restarted supervisor must find a and b in the WAL.
    sup.close();
    wal.close();
    ReceiverSupervisor restarted = supervisor(openWal(), plan);
    BatchPlan next = restarted.plan(1, System.currentTimeMillis());
    assertThat(next.ranges())
        .containsExactly(new OffsetRange(BatchPlan.BLOCKS, inFlight, inFlight + 2));
    assertThat(restarted.read(next.ranges().get(0)))
        .extracting(r -> r.valueAsString().substring(0, 11))
        .containsExactly("in-flight-a", "in-flight-b");
  }
}
