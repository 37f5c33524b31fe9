package io.tributary.core.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tributary.core.api.IdempotentSink;
import io.tributary.core.api.Receiver;
import io.tributary.core.api.Record;
import io.tributary.core.api.SinkContext;
import io.tributary.core.internal.BlockCodec;
import io.tributary.core.internal.wal.WalConfig;
import io.tributary.core.internal.wal.WriteAheadLog;
import io.tributary.core.runtime.TestSupport.SimulatedCrash;
import io.tributary.core.sinks.RollingFileSink;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * WAL cleanup in a running pipeline: segments whose blocks all committed are deleted after the
 * commits, the segments that stay hold uncommitted blocks, and a restart on the same checkpoint
 * still finds every block it needs.
 */
class ReceiverWalCleanupTest {
  private static final Pattern SEGMENT = Pattern.compile("wal-(\\d{20})\\.log");

  @TempDir Path tmp;

  private final List<Pipeline> pipelines = new ArrayList<>();
  private final CountDownLatch release = new CountDownLatch(1);

  @AfterEach
  void stopAll() {
    release.countDown();
    pipelines.forEach(Pipeline::stopNow);
  }

  /** A receiver whose reliable store a test thread calls. */
  static final class TestReceiver extends Receiver {
    volatile boolean started;

    @Override
    public void onStart() {
      started = true;
    }

    @Override
    public void onStop() {}

    void putReliably(List<Record> batch) throws InterruptedException {
      storeReliably(batch);
    }
  }

  /**
   * The file sink, holding batch {@code holdBatch} until released and crashing on batch {@code
   * crashBatch}.
   */
  static final class HoldingSink implements IdempotentSink {
    final RollingFileSink files;
    final long holdBatch;
    final long crashBatch;
    final CountDownLatch holding = new CountDownLatch(1);
    final CountDownLatch release;

    HoldingSink(RollingFileSink files, long holdBatch, long crashBatch, CountDownLatch release) {
      this.files = files;
      this.holdBatch = holdBatch;
      this.crashBatch = crashBatch;
      this.release = release;
    }

    @Override
    public void open(SinkContext context) throws Exception {
      files.open(context);
    }

    @Override
    public void write(long batchId, List<Record> records) throws Exception {
      if (batchId == holdBatch) {
        holding.countDown();
        release.await();
      }
      if (batchId == crashBatch) {
        throw new SimulatedCrash("in the sink write of batch " + batchId);
      }
      files.write(batchId, records);
    }

    @Override
    public void close() throws Exception {
      files.close();
    }
  }

  /**
   * Block {@code b}: three records of about 600 bytes, so two blocks fill most of a 4 KiB segment.
   */
  private static List<Record> block(int b) {
    return IntStream.range(0, 3).mapToObj(j -> Record.ofString(line(b, j))).toList();
  }

  private static String line(int b, int j) {
    return String.format("b%02d-r%d-", b, j) + "x".repeat(590);
  }

  private static List<String> lines(int fromBlock, int untilBlock) {
    List<String> out = new ArrayList<>();
    for (int b = fromBlock; b < untilBlock; b++) {
      for (int j = 0; j < 3; j++) {
        out.add(line(b, j));
      }
    }
    return out;
  }

  private static List<Long> segmentIds(Path walDir) throws IOException {
    try (Stream<Path> files = Files.list(walDir)) {
      return files
          .map(f -> SEGMENT.matcher(f.getFileName().toString()))
          .filter(Matcher::matches)
          .map(m -> Long.parseLong(m.group(1)))
          .sorted()
          .toList();
    }
  }

  /**
   * Block sequence number to the segment holding it, read from the (closed) pipeline's WAL
   * directory.
   */
  private static TreeMap<Long, Long> blockSegments(Path walDir) throws IOException {
    TreeMap<Long, Long> segments = new TreeMap<>();
    WalConfig config =
        new WalConfig(FsyncPolicy.ALWAYS, Duration.ofMillis(100), 4096, "test-wal-0");
    try (WriteAheadLog wal =
        WriteAheadLog.open(walDir, config, new SimpleMeterRegistry(), Tags.empty())) {
      wal.replay(e -> segments.put(BlockCodec.decode(e.payload()).seq(), e.handle().segmentId()));
    }
    return segments;
  }

  private static List<Throwable> causes(Throwable t) {
    List<Throwable> chain = new ArrayList<>();
    for (Throwable c = t; c != null && !chain.contains(c); c = c.getCause()) {
      chain.add(c);
    }
    return chain;
  }

  private Pipeline.Builder builder(Path ckpt, Path walDir) {
    return Pipeline.builder("walclean")
        .checkpointDir(ckpt)
        .walDir(walDir)
        .batchInterval(Duration.ofMillis(50))
        .set("block-interval", "20ms")
        .set("wal.segment-size", "4kb");
  }

  private Pipeline started(Pipeline.Builder b) {
    Pipeline p = b.build();
    pipelines.add(p);
    p.start();
    return p;
  }

  @Test
  void committedSegmentsAreDeletedWhileRunningAndRestartFindsEveryUncommittedBlock()
      throws Exception {
    Path ckpt = tmp.resolve("checkpoint");
    Path walDir = tmp.resolve("wal");
    Path out = tmp.resolve("out");
    RollingFileSink files = RollingFileSink.builder(out).fsync(false).build();
    HoldingSink sink = new HoldingSink(files, 10, 11, release);
    TestReceiver rx = new TestReceiver();
    Pipeline first = started(builder(ckpt, walDir).source("rx", rx).sink("files", sink));
    await().atMost(Duration.ofSeconds(10)).until(() -> rx.started);

    // Blocks 0..9, one batch each (the next block is stored once the batch committed): about five
    // segments' worth.
    for (int b = 0; b < 10; b++) {
      rx.putReliably(block(b));
      long batch = b;
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> first.status().lastCommittedBatch() == batch);
    }
    // Everything committed: only the active segment, which holds block 9, is left of the segments
    // written so far.
    await().atMost(Duration.ofSeconds(10)).until(() -> segmentIds(walDir).size() == 1);
    assertThat(segmentIds(walDir).get(0)).as("the WAL rolled").isGreaterThanOrEqualTo(4);

    // Batch 10 plans block 10 alone and waits in the sink, while blocks 11..15 are stored
    // (acknowledged, not planned).
    rx.putReliably(block(10));
    await().atMost(Duration.ofSeconds(10)).until(() -> sink.holding.getCount() == 0);
    for (int b = 11; b < 16; b++) {
      rx.putReliably(block(b));
    }
    // Batch 10 commits, its cleanup runs, then batch 11 (blocks 11..15) crashes before commits/11.
    release.countDown();
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> first.status().state() == PipelineState.FAILED);
    assertThat(first.failure())
        .get()
        .satisfies(f -> assertThat(causes(f)).anyMatch(c -> c instanceof SimulatedCrash));
    assertThat(first.status().lastCommittedBatch()).isEqualTo(10);

    TreeMap<Long, Long> segmentOf = blockSegments(walDir);
    List<Long> present = segmentIds(walDir);
    assertThat(segmentOf)
        .as("every uncommitted block is in the WAL")
        .containsKeys(11L, 12L, 13L, 14L, 15L);
    long firstNeeded = segmentOf.get(11L);
    assertThat(present)
        .as(
            "the segments left run from the one holding the first uncommitted block to the active one")
        .isEqualTo(LongStream.rangeClosed(firstNeeded, segmentOf.get(15L)).boxed().toList());
    assertThat(firstNeeded).as("older segments were deleted").isPositive();
    // Committed blocks are left only where they share that first segment with an uncommitted one.
    assertThat(segmentOf.headMap(11L).values()).allMatch(s -> s == firstNeeded);

    // A restart on the same checkpoint replays batch 11 from the WAL and goes on; every record
    // arrives once.
    TestReceiver rx2 = new TestReceiver();
    Pipeline second = started(builder(ckpt, walDir).source("rx", rx2).sink("files", files));
    await().atMost(Duration.ofSeconds(10)).until(() -> rx2.started);
    await().atMost(Duration.ofSeconds(10)).until(() -> second.status().lastCommittedBatch() == 11);
    for (int b = 16; b < 20; b++) {
      rx2.putReliably(block(b));
    }
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> TestSupport.outputLines(out).size() >= lines(0, 20).size());
    second.stopGracefully();
    assertThat(second.status().state()).isEqualTo(PipelineState.STOPPED);
    assertThat(TestSupport.outputLines(out)).containsExactlyInAnyOrderElementsOf(lines(0, 20));
    assertThat(segmentIds(walDir)).as("all committed: only the active segment is left").hasSize(1);
  }
}
