package io.tributary.core.internal.receiver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tributary.core.api.OffsetRange;
import io.tributary.core.api.PackedRecords;
import io.tributary.core.api.Receiver;
import io.tributary.core.api.Record;
import io.tributary.core.api.SourcePosition;
import io.tributary.core.api.SupportsPartitionExpiry;
import io.tributary.core.checkpoint.LocalCheckpointStorage;
import io.tributary.core.internal.checkpoint.BatchPlan;
import io.tributary.core.internal.checkpoint.CheckpointLog;
import io.tributary.core.internal.wal.WalConfig;
import io.tributary.core.internal.wal.WriteAheadLog;
import io.tributary.core.runtime.FsyncPolicy;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Receiver positions in the checkpoint: {@code offsets/N} holds only the partitions of batch N, the
 * {@code positions} file and the {@code offsets/N} after it give every position back after a
 * restart, and idle partitions expire.
 */
class ReceiverPositionsTest {
  private static final Duration IDLE_TIMEOUT = Duration.ofHours(1);

  @TempDir Path tmp;

  private final AtomicLong clock = new AtomicLong(1_700_000_000_000L);
  private final List<AutoCloseable> open = new ArrayList<>();
  private CheckpointLog checkpoint;
  private ReceiverSupervisor sup;
  private WriteAheadLog wal;
  private long nextBatch;

  @AfterEach
  void closeAll() throws Exception {
    for (int i = open.size() - 1; i >= 0; i--) {
      open.get(i).close();
    }
  }

  static class IdleReceiver extends Receiver {
    @Override
    public void onStart() {}

    @Override
    public void onStop() {}
  }

  static final class ExpiringReceiver extends IdleReceiver implements SupportsPartitionExpiry {
    @Override
    public Optional<Duration> partitionIdleTimeout() {
      return Optional.of(IDLE_TIMEOUT);
    }
  }

  /**
   * Starts a supervisor as the engine does after a (re)start: recover from the newest offsets/N,
   * then start.
   */
  private ReceiverSupervisor start(Receiver receiver) throws Exception {
    if (sup != null) { // a crash: the old process's supervisor and WAL go away
      sup.close();
      wal.close();
      open.remove(sup);
      open.remove(wal);
    }
    checkpoint = new CheckpointLog(new LocalCheckpointStorage(tmp.resolve("cp")));
    // One block per segment, so a commit deletes the WAL segments of its blocks.
    WalConfig config =
        new WalConfig(
            FsyncPolicy.ALWAYS, Duration.ofMillis(100), WalConfig.MIN_SEGMENT_BYTES, "t-wal-0");
    wal = WriteAheadLog.open(tmp.resolve("wal"), config, new SimpleMeterRegistry(), Tags.empty());
    open.add(wal);
    sup =
        new ReceiverSupervisor(
            "p",
            "rx",
            receiver,
            wal,
            Duration.ofMinutes(1),
            Duration.ofSeconds(1),
            Duration.ofSeconds(1),
            0,
            64 << 20,
            new SimpleMeterRegistry(),
            clock::get);
    open.add(sup);
    OptionalLong latest = checkpoint.latestPlanned();
    BatchPlan lastPlan =
        latest.isPresent() ? checkpoint.readOffsets(latest.getAsLong()).orElseThrow() : null;
    nextBatch = latest.isPresent() ? latest.getAsLong() + 1 : 0;
    sup.recover(checkpoint, lastPlan);
    sup.start();
    ReceiverSupervisor s = sup;
    await().atMost(Duration.ofSeconds(10)).until(() -> !s.isStopped());
    return sup;
  }

  private void store(String partition, long offset) throws Exception {
    storeBlock(List.of(record(partition, offset)));
  }

  private void storeBlock(List<Record> records) throws Exception {
    sup.storeReliablyAsync(records).get(10, TimeUnit.SECONDS);
  }

  private static Record record(String partition, long offset) {
    byte[] value = ("v" + offset).getBytes(StandardCharsets.UTF_8);
    return new Record(null, value, 0L, Map.of(), new SourcePosition("rx", partition, offset));
  }

  /**
   * One batch as the engine runs it: plan, write offsets/N, commit, purge (keeping 2 batches, the
   * minimum).
   */
  private BatchPlan runBatch() {
    BatchPlan plan = sup.plan(nextBatch, clock.get());
    checkpoint.writeOffsets(plan);
    sup.committed(plan.ranges().get(0).untilOffset());
    checkpoint.purgeBefore(nextBatch - 1);
    nextBatch++;
    return plan;
  }

  private long offsetsFileBytes(long batchId) throws Exception {
    return Files.size(tmp.resolve("cp").resolve("offsets").resolve(Long.toString(batchId)));
  }

  @Test
  void offsetsFileStaysSmallWith5000ProducersAndEveryPositionSurvivesARestart() throws Exception {
    start(new IdleReceiver());
    List<Record> hello = new ArrayList<>();
    for (int i = 0; i < 5_000; i++) {
      hello.add(record("producer-" + i, 41));
    }
    storeBlock(hello);
    runBatch(); // batch 0: every producer
    long first = offsetsFileBytes(0);
    for (int b = 1; b <= 25; b++) {
      store("producer-7", 41 + b);
      runBatch();
    }

    long later = offsetsFileBytes(25);
    System.out.printf(
        "offsets/0 (5000 producers) = %d bytes, offsets/25 (1 producer) = %d bytes, positions = %d bytes%n",
        first, later, Files.size(tmp.resolve("cp").resolve("positions")));
    assertThat(later).as("offsets/25 holds only producer-7").isLessThan(1_024);
    assertThat(checkpoint.readOffsets(25).orElseThrow().positions()).containsOnlyKeys("producer-7");
    assertThat(Files.exists(tmp.resolve("cp").resolve("offsets").resolve("0")))
        .as("offsets/0 purged")
        .isFalse();

    start(new IdleReceiver());
    assertThat(sup.lastStoredOffset("producer-4999")).hasValue(41);
    assertThat(sup.lastStoredOffset("producer-7")).hasValue(66);
  }

  @Test
  void restartDedupesAProducerStoredThreeBatchesAgo() throws Exception {
    start(new IdleReceiver());
    store("old", 9);
    runBatch();
    for (int b = 0; b < 3; b++) {
      store("busy", b);
      runBatch();
    }
    assertThat(checkpoint.readOffsets(3).orElseThrow().positions()).containsOnlyKeys("busy");

    start(new IdleReceiver());

    assertThat(sup.lastStoredOffset("old")).hasValue(9);
    assertThat(sup.lastStoredOffset("busy")).hasValue(2);
  }

  @Test
  void callerMayReuseItsListOnceStoreReliablyAsyncReturns() throws Exception {
    // The WAL writer encodes the block later, on its own thread: what it writes must be the
    // records passed, not what the caller's list holds by then.
    start(new IdleReceiver());
    List<Record> group = new ArrayList<>(List.of(record("m", 1), record("m", 2)));
    CompletableFuture<Void> stored = sup.storeReliablyAsync(group);
    group.clear();
    group.add(record("m", 99));
    stored.get(10, TimeUnit.SECONDS);
    assertThat(sup.lastStoredOffset("m")).hasValue(2);

    start(new IdleReceiver()); // a crash: the positions come back from the WAL's block
    assertThat(sup.lastStoredOffset("m")).hasValue(2);
    assertThat(runBatch().positions()).containsExactly(Map.entry("m", 2L));
  }

  @Test
  void blockWithInterleavedPartitionsKeepsTheHighestOffsetOfEach() throws Exception {
    start(new IdleReceiver());
    storeBlock(
        List.of(
            record("a", 5),
            record("b", 3),
            record(new String("a"), 2),
            record("a", 7),
            record("a", 6),
            record("b", 1),
            record("c", 4)));
    storeBlock(List.of(record("c", 2), record("c", 3))); // lower than the earlier block's 4

    assertThat(sup.lastStoredOffset("a")).hasValue(7);
    assertThat(sup.lastStoredOffset("b")).hasValue(3);
    assertThat(sup.lastStoredOffset("c")).hasValue(4);
    assertThat(runBatch().positions())
        .containsExactlyInAnyOrderEntriesOf(Map.of("a", 7L, "b", 3L, "c", 4L));
  }

  @Test
  void packedBlockIsStoredPlannedAndReadBackFromMemoryAndAfterACrashFromTheWal() throws Exception {
    start(new IdleReceiver());
    byte[] first = "a\nbb\r\nc\n".getBytes(StandardCharsets.UTF_8);
    byte[] second = "dd\nbad\ne\n".getBytes(StandardCharsets.UTF_8);
    PackedRecords packed =
        new PackedRecords.Builder("rx", "m", Map.of("remote", new byte[] {1, 2}), 1)
            .add(first, new int[] {0, 2, 6}, new int[] {1, 4, 7}, 3, 7, 100L)
            .add(second, new int[] {0, 7}, new int[] {2, 8}, 2, 30, 200L)
            .build();
    List<Record> records = new ArrayList<>(packed);
    storeBlock(packed);
    assertThat(sup.lastStoredOffset("m")).hasValue(31);

    BatchPlan plan = sup.plan(nextBatch, clock.get());
    assertThat(plan.positions()).containsExactly(Map.entry("m", 31L));
    assertThat(sup.readBlocks(plan.ranges().get(0))).singleElement().isSameAs(packed);
    assertThat(sup.read(plan.ranges().get(0))).containsExactlyElementsOf(records);
    checkpoint.writeOffsets(plan); // the process dies before the batch commits

    start(new IdleReceiver());
    assertThat(sup.read(plan.ranges().get(0))).containsExactlyElementsOf(records);
    assertThat(sup.lastStoredOffset("m")).hasValue(31);
  }

  @Test
  void positionsStoredButNotYetPlannedReachTheNextPlanAfterARestart() throws Exception {
    start(new IdleReceiver());
    store("a", 1);
    runBatch();
    store("b", 5); // durable in the WAL, never planned: the process dies here

    start(new IdleReceiver());
    BatchPlan next = runBatch();
    assertThat(next.positions()).containsExactly(Map.entry("b", 5L));
    for (int i = 0;
        i < 12;
        i++) { // past the next positions file and the purge of the batch that planned b
      store("c", i);
      runBatch();
    }

    start(new IdleReceiver());
    assertThat(sup.lastStoredOffset("a")).hasValue(1);
    assertThat(sup.lastStoredOffset("b")).hasValue(5);
  }

  @Test
  void emptyPlansThatAreNotWrittenDoNotAdvanceThePositionsFile() throws Exception {
    start(new IdleReceiver());
    for (int i = 0; i < 9; i++) {
      store("a", i);
      runBatch();
    }
    // The engine drops an empty plan (blocks only in flight) and asks again with the same batch id.
    assertThat(sup.plan(nextBatch, clock.get()).plannedRecords()).isZero();
    store("late", 1);
    runBatch(); // batch 9; it writes the positions file as of batch 8 before planning
    store("a", 100);
    runBatch(); // batch 10: a restart now reads the positions file, offsets/9 and offsets/10

    start(new IdleReceiver());
    assertThat(sup.lastStoredOffset("late")).hasValue(1);
  }

  @Test
  void idleProducerExpiresAndStaysForgottenAfterARestart() throws Exception {
    start(new ExpiringReceiver());
    store("idle", 3);
    runBatch();
    clock.addAndGet(Duration.ofMinutes(40).toMillis());
    store("active", 1);
    runBatch();
    assertThat(sup.lastStoredOffset("idle")).hasValue(3);

    clock.addAndGet(Duration.ofMinutes(20).toMillis()); // idle for 60 min, active for 20
    assertThat(sup.lastStoredOffset("idle")).isEmpty();
    assertThat(sup.lastStoredOffset("active")).hasValue(1);

    for (int i = 0; i < 12; i++) { // a positions file is written without the idle producer
      store("active", 2 + i);
      runBatch();
    }
    String file = Files.readString(tmp.resolve("cp").resolve("positions"));
    assertThat(new ObjectMapper().readTree(file).get("positions").has("idle")).isFalse();

    start(new ExpiringReceiver());
    assertThat(sup.lastStoredOffset("idle")).isEmpty();
    assertThat(sup.lastStoredOffset("active")).hasValue(13);
  }

  @Test
  void producerReturningAfterExpiryStartsOverInsteadOfKeepingItsOldOffset() throws Exception {
    start(new ExpiringReceiver());
    store("p", 1_000);
    runBatch();
    clock.addAndGet(IDLE_TIMEOUT.toMillis() + 1);

    store("p", 0); // a new client process numbering from 0; no batch swept the expired entry yet

    assertThat(sup.lastStoredOffset("p")).hasValue(0);
    assertThat(runBatch().positions()).containsExactly(Map.entry("p", 0L));
    assertThat(sup.lastStoredOffset("p")).hasValue(0);
  }

  @Test
  void checkpointWhoseOffsetsFilesHoldEveryPositionStillLoads() throws Exception {
    // Written before the positions file existed: every offsets/N holds all positions, no positions
    // file.
    checkpoint = new CheckpointLog(new LocalCheckpointStorage(tmp.resolve("cp")));
    checkpoint.writeOffsets(
        BatchPlan.receiver("p", 40, clock.get(), "rx", 0, 0, Map.of("a", 1L, "b", 7L)));
    checkpoint.writeOffsets(
        BatchPlan.receiver("p", 41, clock.get(), "rx", 0, 0, Map.of("a", 3L, "b", 7L, "c", 0L)));
    checkpoint.writeCommit(new CheckpointLog.Commit(1, 41, clock.get(), 0));

    start(new IdleReceiver());

    assertThat(sup.lastStoredOffset("a")).hasValue(3);
    assertThat(sup.lastStoredOffset("b")).hasValue(7);
    assertThat(sup.lastStoredOffset("c")).hasValue(0);
    assertThat(runBatch().ranges()).containsExactly(new OffsetRange(BatchPlan.BLOCKS, 0, 0));
  }
}
