package io.tributary.core.internal.wal;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tributary.core.api.DataUnavailableException;
import io.tributary.core.api.StoreFailedException;
import io.tributary.core.runtime.FsyncPolicy;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class WriteAheadLogTest {
  private static final Tags TAGS = Tags.of("pipeline", "test", "receiver", "r0");

  @TempDir Path dir;

  private final MeterRegistry registry = new SimpleMeterRegistry();
  private final List<WriteAheadLog> opened = new ArrayList<>();

  @AfterEach
  void closeAll() throws IOException {
    for (WriteAheadLog wal : opened) {
      wal.close();
    }
  }

  private WriteAheadLog open(FsyncPolicy policy, long segmentBytes) throws IOException {
    return open(new WalConfig(policy, Duration.ofMillis(50), segmentBytes, "tributary-test-wal-0"));
  }

  private WriteAheadLog open(WalConfig config) throws IOException {
    WriteAheadLog wal = WriteAheadLog.open(dir, config, registry, TAGS);
    opened.add(wal);
    return wal;
  }

  private static byte[] payload(int i) {
    // Varying lengths so that frames do not line up with segment boundaries.
    return ("entry-" + i + "-" + "x".repeat(i % 17)).getBytes(UTF_8);
  }

  private static List<WalHandle> appendAll(WriteAheadLog wal, int from, int count) {
    List<CompletableFuture<WalHandle>> futures = new ArrayList<>();
    for (int i = from; i < from + count; i++) {
      futures.add(wal.append(payload(i)));
    }
    return futures.stream().map(CompletableFuture::join).toList();
  }

  private static List<WalEntry> replayAll(WriteAheadLog wal) throws IOException {
    List<WalEntry> entries = new ArrayList<>();
    wal.replay(entries::add);
    return entries;
  }

  private static List<String> payloadsOf(List<WalEntry> entries) {
    return entries.stream().map(e -> new String(e.payload(), UTF_8)).toList();
  }

  private static List<String> expectedPayloads(int from, int count) {
    List<String> out = new ArrayList<>();
    for (int i = from; i < from + count; i++) {
      out.add(new String(payload(i), UTF_8));
    }
    return out;
  }

  private Path segmentFile(long segmentId) {
    return dir.resolve(WalFormat.fileName(segmentId));
  }

  private Timer fsyncTimer() {
    return registry.get("tributary.wal.fsync").tags(TAGS).timer();
  }

  private static void flipByte(Path file, long position) throws IOException {
    try (FileChannel ch =
        FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      ByteBuffer b = ByteBuffer.allocate(1);
      ch.read(b, position);
      b.put(0, (byte) (b.get(0) ^ 0x5A)).rewind();
      ch.write(b, position);
    }
  }

  private static void writeInt(Path file, long position, int value) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.allocate(4).putInt(0, value), position);
    }
  }

  private static void chop(Path file, long bytes) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
      ch.truncate(ch.size() - bytes);
    }
  }

  @Test
  void encoderRunsOnTheWriterAndItsEntryKeepsItsPlaceInAppendOrder() throws Exception {
    WriteAheadLog wal = open(FsyncPolicy.ALWAYS, 1 << 20);
    List<String> encodedOn = Collections.synchronizedList(new ArrayList<>());
    List<CompletableFuture<WalHandle>> futures = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      int n = i;
      futures.add(
          i % 3 == 0
              ? wal.append(
                  () -> {
                    encodedOn.add(Thread.currentThread().getName());
                    return ("entry-" + n).getBytes(UTF_8);
                  },
                  7)
              : wal.append(("entry-" + n).getBytes(UTF_8)));
    }
    for (int i = 0; i < futures.size(); i++) {
      assertThat(wal.read(futures.get(i).get(10, TimeUnit.SECONDS)))
          .isEqualTo(("entry-" + i).getBytes(UTF_8));
    }
    assertThat(encodedOn).hasSize(10).containsOnly("tributary-test-wal-0");
    wal.close();
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      expected.add("entry-" + i);
    }
    assertThat(payloadsOf(replayAll(open(FsyncPolicy.ALWAYS, 1 << 20)))).isEqualTo(expected);
  }

  @Test
  void failingEncoderFailsOnlyItsOwnEntry() throws Exception {
    WriteAheadLog wal = open(FsyncPolicy.ALWAYS, 1 << 20);
    CompletableFuture<WalHandle> before = wal.append("before".getBytes(UTF_8));
    CompletableFuture<WalHandle> broken =
        wal.append(
            () -> {
              throw new IllegalArgumentException("block too large");
            },
            10);
    CompletableFuture<WalHandle> empty = wal.append(() -> new byte[0], 10);
    CompletableFuture<WalHandle> after = wal.append(() -> "after".getBytes(UTF_8), 5);

    assertThat(wal.read(before.get(10, TimeUnit.SECONDS))).isEqualTo("before".getBytes(UTF_8));
    assertThat(wal.read(after.get(10, TimeUnit.SECONDS))).isEqualTo("after".getBytes(UTF_8));
    assertThatThrownBy(() -> broken.get(10, TimeUnit.SECONDS))
        .hasCauseInstanceOf(StoreFailedException.class)
        .hasMessageContaining("block too large");
    assertThatThrownBy(() -> empty.get(10, TimeUnit.SECONDS))
        .hasCauseInstanceOf(StoreFailedException.class)
        .hasMessageContaining("Invalid WAL entry size 0");
    assertThat(wal.append("still open".getBytes(UTF_8)).get(10, TimeUnit.SECONDS)).isNotNull();
    wal.close();
    assertThat(payloadsOf(replayAll(open(FsyncPolicy.ALWAYS, 1 << 20))))
        .containsExactly("before", "after", "still open");
  }

  @Test
  void appendedEntriesReadBackWithTheirHandles() throws IOException {
    WriteAheadLog wal = open(FsyncPolicy.ALWAYS, 1 << 20);
    List<WalHandle> handles = appendAll(wal, 0, 100);

    assertThat(handles).extracting(WalHandle::segmentId).containsOnly(0L);
    assertThat(handles.get(0).position()).isEqualTo(WalFormat.HEADER_BYTES);
    for (int i = 0; i < handles.size(); i++) {
      assertThat(handles.get(i).length()).isEqualTo(payload(i).length);
      assertThat(wal.read(handles.get(i))).isEqualTo(payload(i));
      if (i > 0) {
        WalHandle prev = handles.get(i - 1);
        assertThat(handles.get(i).position()).isEqualTo(prev.position() + 8 + prev.length());
      }
    }
    long frameBytes = handles.stream().mapToLong(h -> 8L + h.length()).sum();
    assertThat(registry.get("tributary.wal.bytes").tags(TAGS).counter().count())
        .isEqualTo(frameBytes);
    assertThat(Files.size(segmentFile(0))).isEqualTo(WalFormat.HEADER_BYTES + frameBytes);
  }

  @Test
  void replaysEveryEntryInOrderAcrossSegmentsAfterReopen() throws IOException {
    WriteAheadLog wal = open(FsyncPolicy.ALWAYS, 256);
    List<WalHandle> handles = appendAll(wal, 0, 300);
    wal.close();

    WriteAheadLog reopened = open(FsyncPolicy.ALWAYS, 256);
    assertThat(reopened.segmentIds()).hasSizeGreaterThan(5);
    assertThat(registry.get("tributary.wal.segments").tags(TAGS).gauge().value())
        .isEqualTo(reopened.segmentIds().size());
    List<WalEntry> replayed = replayAll(reopened);
    assertThat(payloadsOf(replayed)).containsExactlyElementsOf(expectedPayloads(0, 300));
    assertThat(replayed).extracting(WalEntry::handle).containsExactlyElementsOf(handles);
    for (int i = 0; i < handles.size(); i += 37) {
      assertThat(reopened.read(handles.get(i))).isEqualTo(payload(i));
    }
    // Every segment except the active one stays within segmentBytes.
    for (long id : reopened.segmentIds().subList(0, reopened.segmentIds().size() - 1)) {
      assertThat(Files.size(segmentFile(id))).isLessThanOrEqualTo(256);
    }

    List<WalHandle> more = appendAll(reopened, 300, 10);
    assertThat(more.get(0).segmentId()).isEqualTo(handles.get(299).segmentId());
    assertThat(payloadsOf(replayAll(reopened))).containsExactlyElementsOf(expectedPayloads(0, 310));
  }

  @Test
  void entryLargerThanSegmentBytesFitsInOneSegment() throws IOException {
    WriteAheadLog wal = open(FsyncPolicy.ALWAYS, 128);
    byte[] big = new byte[1000];
    Arrays.fill(big, (byte) 7);
    WalHandle small = wal.append(payload(1)).join();
    WalHandle large = wal.append(big).join();
    WalHandle after = wal.append(payload(2)).join();

    assertThat(large.segmentId()).isEqualTo(small.segmentId() + 1);
    assertThat(large.position()).isEqualTo(WalFormat.HEADER_BYTES);
    assertThat(after.segmentId()).isEqualTo(large.segmentId() + 1);
    assertThat(wal.read(large)).isEqualTo(big);
    wal.close();
    assertThat(replayAll(open(FsyncPolicy.ALWAYS, 128)))
        .extracting(WalEntry::handle)
        .containsExactly(small, large, after);
  }

  /** Bytes chopped off the end of the last frame (payload length 27 + 8 header bytes = 35). */
  static Stream<Integer> cutPoints() {
    return Stream.of(1, 2, 13, 26, 27, 28, 31, 34, 35);
  }

  @ParameterizedTest(name = "chop {0} bytes")
  @MethodSource("cutPoints")
  void tornTailOfLastSegmentIsTruncatedAndAppendsContinue(int chopped) throws IOException {
    WriteAheadLog wal = open(FsyncPolicy.ALWAYS, 300);
    byte[] last = "last-entry-of-27-bytes-long".getBytes(UTF_8);
    assertThat(last).hasSize(27);
    appendAll(wal, 0, 30);
    WalHandle lastHandle = wal.append(last).join();
    long segments = wal.segmentIds().size();
    wal.close();
    assertThat(segments).as("the torn segment follows complete ones").isGreaterThan(1);
    Path file = segmentFile(lastHandle.segmentId());
    assertThat(Files.size(file)).isEqualTo(lastHandle.position() + 35);

    chop(file, chopped);
    WriteAheadLog reopened = open(FsyncPolicy.ALWAYS, 300);

    assertThat(payloadsOf(replayAll(reopened))).containsExactlyElementsOf(expectedPayloads(0, 30));
    assertThat(Files.size(file)).isEqualTo(lastHandle.position());
    assertThatThrownBy(() -> reopened.read(lastHandle))
        .isInstanceOf(DataUnavailableException.class);
    WalHandle next = reopened.append(payload(30)).join();
    assertThat(next)
        .isEqualTo(
            new WalHandle(lastHandle.segmentId(), lastHandle.position(), payload(30).length));
    reopened.close();
    assertThat(payloadsOf(replayAll(open(FsyncPolicy.ALWAYS, 300))))
        .containsExactlyElementsOf(expectedPayloads(0, 31));
  }

  @Test
  void finalFrameWithBadChecksumAtEndOfFileIsATornTail() throws IOException {
    WriteAheadLog wal = open(FsyncPolicy.ALWAYS, 1 << 20);
    List<WalHandle> handles = appendAll(wal, 0, 10);
    wal.close();
    flipByte(segmentFile(0), handles.get(9).position() + 8 + 3);

    WriteAheadLog reopened = open(FsyncPolicy.ALWAYS, 1 << 20);
    assertThat(payloadsOf(replayAll(reopened))).containsExactlyElementsOf(expectedPayloads(0, 9));
    assertThat(reopened.append(payload(99)).join())
        .isEqualTo(new WalHandle(0, handles.get(9).position(), payload(99).length));
  }

  @Test
  void zeroFilledTailIsTruncated() throws IOException {
    WriteAheadLog wal = open(FsyncPolicy.ALWAYS, 1 << 20);
    appendAll(wal, 0, 10);
    wal.close();
    long validSize = Files.size(segmentFile(0));
    Files.write(segmentFile(0), new byte[4096], StandardOpenOption.APPEND);

    WriteAheadLog reopened = open(FsyncPolicy.ALWAYS, 1 << 20);
    assertThat(payloadsOf(replayAll(reopened))).containsExactlyElementsOf(expectedPayloads(0, 10));
    assertThat(Files.size(segmentFile(0))).isEqualTo(validSize);
  }

  @ParameterizedTest(name = "entry {0} of the last segment")
  @ValueSource(ints = {0, 2})
  void corruptedEntryFollowedByValidOnesFailsOpenWithFileAndOffset(int entryInSegment)
      throws IOException {
    WriteAheadLog wal = open(FsyncPolicy.ALWAYS, 1 << 20);
    List<WalHandle> handles = appendAll(wal, 0, 10);
    wal.close();
    WalHandle victim = handles.get(entryInSegment);
    flipByte(segmentFile(0), victim.position() + 8 + 1);

    assertThatThrownBy(() -> open(FsyncPolicy.ALWAYS, 1 << 20))
        .isInstanceOfSatisfying(
            WalCorruptedException.class,
            e -> {
              assertThat(e.file()).isEqualTo(segmentFile(0));
              assertThat(e.offset()).isEqualTo(victim.position());
            })
        .hasMessageContaining(segmentFile(0).toString())
        .hasMessageContaining("offset " + victim.position())
        .hasMessageContaining("checksum mismatch")
        .hasMessageContaining("move it aside");
    // The directory lock was released: once the damage is dealt with, the log opens.
    Files.delete(segmentFile(0));
    assertThat(replayAll(open(FsyncPolicy.ALWAYS, 1 << 20))).isEmpty();
  }

  @Test
  void badChecksumInLastFrameOfNonLastSegmentFailsOpen() throws IOException {
    WriteAheadLog wal = open(FsyncPolicy.ALWAYS, 200);
    List<WalHandle> handles = appendAll(wal, 0, 40);
    wal.close();
    WalHandle lastOfFirst =
        handles.stream().filter(h -> h.segmentId() == 0).reduce((a, b) -> b).orElseThrow();
    assertThat(Files.size(segmentFile(0)))
        .isEqualTo(lastOfFirst.position() + 8 + lastOfFirst.length());
    flipByte(segmentFile(0), lastOfFirst.position() + 9);

    assertThatThrownBy(() -> open(FsyncPolicy.ALWAYS, 200))
        .isInstanceOf(WalCorruptedException.class)
        .hasMessageContaining(segmentFile(0).toString())
        .hasMessageContaining("offset " + lastOfFirst.position());
  }

  @Test
  void truncatedNonLastSegmentFailsOpen() throws IOException {
    WriteAheadLog wal = open(FsyncPolicy.ALWAYS, 200);
    appendAll(wal, 0, 40);
    wal.close();
    chop(segmentFile(1), 3);

    assertThatThrownBy(() -> open(FsyncPolicy.ALWAYS, 200))
        .isInstanceOf(WalCorruptedException.class)
        .hasMessageContaining(segmentFile(1).toString())
        .hasMessageContaining("not the last one");
  }

  @Test
  void impossibleLengthFollowedByMoreDataFailsOpen() throws IOException {
    WriteAheadLog wal = open(FsyncPolicy.ALWAYS, 1 << 20);
    List<WalHandle> handles = appendAll(wal, 0, 10);
    wal.close();
    writeInt(segmentFile(0), handles.get(4).position(), -5);

    assertThatThrownBy(() -> open(FsyncPolicy.ALWAYS, 1 << 20))
        .isInstanceOfSatisfying(
            WalCorruptedException.class,
            e -> assertThat(e.offset()).isEqualTo(handles.get(4).position()))
        .hasMessageContaining("impossible frame length -5");
  }

  @Test
  void wrongMagicFailsOpen() throws IOException {
    WriteAheadLog wal = open(FsyncPolicy.ALWAYS, 1 << 20);
    appendAll(wal, 0, 3);
    wal.close();
    writeInt(segmentFile(0), 0, 0x12345678);

    assertThatThrownBy(() -> open(FsyncPolicy.ALWAYS, 1 << 20))
        .isInstanceOfSatisfying(WalCorruptedException.class, e -> assertThat(e.offset()).isZero())
        .hasMessageContaining(segmentFile(0).toString())
        .hasMessageContaining("wrong magic number");
  }

  @Test
  void readDetectsCorruptionOfAnEntryAfterOpen() throws IOException {
    WriteAheadLog wal = open(FsyncPolicy.ALWAYS, 1 << 20);
    List<WalHandle> handles = appendAll(wal, 0, 5);
    flipByte(segmentFile(0), handles.get(2).position() + 8);

    assertThatThrownBy(() -> wal.read(handles.get(2)))
        .isInstanceOf(WalCorruptedException.class)
        .hasMessageContaining("offset " + handles.get(2).position());
    assertThat(wal.read(handles.get(3))).isEqualTo(payload(3));
  }

  @Test
  void groupCommitFsyncsFarLessOftenThanItAppends() throws Exception {
    WriteAheadLog wal = open(FsyncPolicy.ALWAYS, 64 * 1024);
    int threads = 8;
    int perThread = 2_000;
    CountDownLatch start = new CountDownLatch(1);
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<List<CompletableFuture<WalHandle>>>> results = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int thread = t;
        results.add(
            pool.submit(
                () -> {
                  start.await();
                  List<CompletableFuture<WalHandle>> futures = new ArrayList<>();
                  for (int i = 0; i < perThread; i++) {
                    futures.add(wal.append(("t" + thread + "-" + i).getBytes(UTF_8)));
                    if (i % 250 == 249) {
                      // Read while others append: positional reads must see the completed entry.
                      WalHandle h = futures.get(i).join();
                      assertThat(wal.read(h)).isEqualTo(("t" + thread + "-" + i).getBytes(UTF_8));
                    }
                  }
                  return futures;
                }));
      }
      start.countDown();
      List<WalHandle> all = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        List<WalHandle> handles =
            results.get(t).get(60, TimeUnit.SECONDS).stream().map(CompletableFuture::join).toList();
        // One thread's appends get positions in its call order.
        for (int i = 1; i < handles.size(); i++) {
          WalHandle a = handles.get(i - 1);
          WalHandle b = handles.get(i);
          boolean after =
              b.segmentId() > a.segmentId()
                  || (b.segmentId() == a.segmentId() && b.position() > a.position());
          assertThat(after).as("%s after %s", b, a).isTrue();
        }
        for (int i = 0; i < handles.size(); i++) {
          assertThat(wal.read(handles.get(i))).isEqualTo(("t" + t + "-" + i).getBytes(UTF_8));
        }
        all.addAll(handles);
      }
      int appends = threads * perThread;
      assertThat(all).doesNotHaveDuplicates().hasSize(appends);
      long groups = registry.get("tributary.wal.group.entries").tags(TAGS).summary().count();
      double grouped =
          registry.get("tributary.wal.group.entries").tags(TAGS).summary().totalAmount();
      long fsyncs = fsyncTimer().count();
      assertThat(grouped).isEqualTo(appends);
      // ALWAYS: one fsync per group, plus one per segment roll.
      assertThat(fsyncs).isBetween(groups, groups + wal.segmentIds().size());
      assertThat(fsyncs).isLessThan(appends / 10);
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void intervalPolicyCompletesBeforeFsyncAndSyncsWhenIdle() throws IOException {
    WriteAheadLog wal =
        open(
            new WalConfig(
                FsyncPolicy.INTERVAL, Duration.ofMillis(100), 1 << 20, "tributary-t-wal-0"));
    Timer fsync = fsyncTimer();
    List<WalHandle> handles = appendAll(wal, 0, 50);
    assertThat(wal.read(handles.get(49))).isEqualTo(payload(49));
    // No further appends: the idle writer still syncs once the interval has passed.
    await().atMost(Duration.ofSeconds(10)).until(() -> !wal.unsynced());
    long afterIdle = fsync.count();
    assertThat(afterIdle).isPositive();
    assertThat(afterIdle).isLessThan(50);
    wal.close();
    assertThat(fsync.count()).as("nothing dirty at close, no extra fsync").isEqualTo(afterIdle);
  }

  @Test
  void intervalPolicyFsyncsOnClose() throws IOException {
    WriteAheadLog wal =
        open(
            new WalConfig(FsyncPolicy.INTERVAL, Duration.ofHours(1), 1 << 20, "tributary-t-wal-0"));
    Timer fsync = fsyncTimer();
    appendAll(wal, 0, 100);
    assertThat(fsync.count()).isZero();
    wal.close();
    assertThat(fsync.count()).isEqualTo(1);
    assertThat(payloadsOf(replayAll(open(FsyncPolicy.INTERVAL, 1 << 20))))
        .containsExactlyElementsOf(expectedPayloads(0, 100));
  }

  @Test
  void neverPolicyDoesNotFsync() throws IOException {
    WriteAheadLog wal = open(FsyncPolicy.NEVER, 512);
    Timer fsync = fsyncTimer();
    List<WalHandle> handles = appendAll(wal, 0, 200);
    assertThat(wal.segmentIds()).hasSizeGreaterThan(2);
    assertThat(wal.read(handles.get(150))).isEqualTo(payload(150));
    wal.close();
    assertThat(fsync.count()).isZero();
    assertThat(payloadsOf(replayAll(open(FsyncPolicy.NEVER, 512))))
        .containsExactlyElementsOf(expectedPayloads(0, 200));
  }

  @Test
  void deleteSegmentsBeforeKeepsTheActiveSegment() throws IOException {
    WriteAheadLog wal = open(FsyncPolicy.ALWAYS, 256);
    List<WalHandle> handles = appendAll(wal, 0, 100);
    long active = wal.activeSegmentId();
    assertThat(active).isGreaterThan(3);

    assertThat(wal.deleteSegmentsBefore(2)).isEqualTo(2);
    assertThat(wal.segmentIds()).first().isEqualTo(2L);
    assertThat(Files.exists(segmentFile(0))).isFalse();
    assertThat(Files.exists(segmentFile(2))).isTrue();

    assertThat(wal.deleteSegmentsBefore(Long.MAX_VALUE)).isEqualTo((int) active - 2);
    assertThat(wal.segmentIds()).containsExactly(active);
    assertThat(registry.get("tributary.wal.segments").tags(TAGS).gauge().value()).isEqualTo(1.0);
    assertThat(wal.deleteSegmentsBefore(Long.MAX_VALUE)).isZero();

    WalHandle inDeleted = handles.get(0);
    assertThatThrownBy(() -> wal.read(inDeleted))
        .isInstanceOf(DataUnavailableException.class)
        .hasMessageContaining(segmentFile(0).toString())
        .hasMessageContaining("does not exist");
    WalHandle last = handles.get(99);
    assertThat(wal.read(last)).isEqualTo(payload(99));
    appendAll(wal, 100, 50);
    wal.close();
    List<WalEntry> replayed = replayAll(open(FsyncPolicy.ALWAYS, 256));
    assertThat(replayed.get(0).handle().segmentId()).isEqualTo(active);
    assertThat(payloadsOf(replayed)).endsWith(expectedPayloads(100, 50).toArray(String[]::new));
  }

  @Test
  void appendAfterCloseFailsAndCloseIsSafeTwice() throws IOException {
    WriteAheadLog wal = open(FsyncPolicy.ALWAYS, 1 << 20);
    appendAll(wal, 0, 3);
    wal.close();
    wal.close();

    assertThat(wal.deleteSegmentsBefore(Long.MAX_VALUE)).isZero();
    assertThatThrownBy(() -> wal.read(new WalHandle(0, 8, 1)))
        .isInstanceOf(IllegalStateException.class);
    CompletableFuture<WalHandle> late = wal.append(payload(3));
    assertThatThrownBy(late::join)
        .isInstanceOf(CompletionException.class)
        .cause()
        .isInstanceOf(StoreFailedException.class)
        .hasMessageContaining("closed");
  }

  @Test
  void closeCompletesAppendsStillQueued() throws IOException {
    WriteAheadLog wal = open(FsyncPolicy.ALWAYS, 4096);
    List<CompletableFuture<WalHandle>> futures = new ArrayList<>();
    for (int i = 0; i < 500; i++) {
      futures.add(wal.append(payload(i)));
    }
    wal.close();
    assertThat(futures).allMatch(f -> f.isDone() && !f.isCompletedExceptionally());
    assertThat(payloadsOf(replayAll(open(FsyncPolicy.ALWAYS, 4096))))
        .containsExactlyElementsOf(expectedPayloads(0, 500));
  }

  @Test
  void tinyQueueBoundBlocksAppendersWithoutLosingEntries() throws Exception {
    WriteAheadLog wal =
        open(
            new WalConfig(
                FsyncPolicy.ALWAYS, Duration.ofMillis(50), 1 << 20, "tributary-t-wal-0", 100));
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<List<WalHandle>>> results = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        int thread = t;
        results.add(
            pool.submit(
                () -> {
                  List<WalHandle> handles = new ArrayList<>();
                  for (int i = 0; i < 200; i++) {
                    byte[] entry = ("q" + thread + "-" + i + "-" + "y".repeat(40)).getBytes(UTF_8);
                    handles.add(wal.append(entry).join());
                  }
                  return handles;
                }));
      }
      List<WalHandle> all = new ArrayList<>();
      for (Future<List<WalHandle>> r : results) {
        all.addAll(r.get(60, TimeUnit.SECONDS));
      }
      assertThat(all).doesNotHaveDuplicates().hasSize(800);
      // An entry larger than the whole bound is still admitted once the queue is empty.
      byte[] big = new byte[1000];
      assertThat(wal.read(wal.append(big).join())).isEqualTo(big);
      assertThat(registry.get("tributary.wal.group.entries").tags(TAGS).summary().max())
          .isEqualTo(1.0);
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void interruptedAppenderWaitingForRoomGetsAFailedFuture() throws Exception {
    // A queue bound of 1 byte admits one entry at a time; flood it so that an append has to wait.
    WriteAheadLog wal =
        open(
            new WalConfig(
                FsyncPolicy.ALWAYS, Duration.ofMillis(50), 1 << 20, "tributary-t-wal-0", 1));
    List<CompletableFuture<WalHandle>> results = Collections.synchronizedList(new ArrayList<>());
    AtomicBoolean stillInterrupted = new AtomicBoolean();
    Thread appender =
        new Thread(
            () -> {
              Thread.currentThread().interrupt();
              for (int i = 0; i < 1000; i++) {
                results.add(wal.append(payload(i)));
              }
              stillInterrupted.set(Thread.currentThread().isInterrupted());
            },
            "tributary-test-appender-0");
    appender.start();
    appender.join(60_000);

    assertThat(appender.isAlive()).isFalse();
    assertThat(stillInterrupted).as("interrupt flag kept").isTrue();
    List<CompletableFuture<WalHandle>> appended = results;
    assertThat(appended).hasSize(1000);
    CompletableFuture.allOf(
            appended.stream()
                .map(f -> f.exceptionally(e -> null))
                .toArray(CompletableFuture[]::new))
        .join();
    long failed = appended.stream().filter(CompletableFuture::isCompletedExceptionally).count();
    assertThat(failed).as("appends that had to wait for room while interrupted").isPositive();
    for (CompletableFuture<WalHandle> f : appended) {
      if (f.isCompletedExceptionally()) {
        assertThatThrownBy(f::join)
            .cause()
            .isInstanceOf(StoreFailedException.class)
            .hasCauseInstanceOf(InterruptedException.class);
      }
    }
    long ok = appended.size() - failed;
    assertThat(replayAll(wal)).hasSize((int) ok);
  }

  @Test
  void secondOpenOfTheSameDirectoryIsRefused() throws IOException {
    open(FsyncPolicy.ALWAYS, 1 << 20);
    WalConfig config =
        new WalConfig(FsyncPolicy.ALWAYS, Duration.ofMillis(50), 1 << 20, "tributary-t-wal-1");
    assertThatThrownBy(() -> WriteAheadLog.open(dir, config, registry, TAGS))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("already open");
  }

  @Test
  void writerThreadHasTheConfiguredName() throws IOException {
    WriteAheadLog wal =
        open(
            new WalConfig(
                FsyncPolicy.ALWAYS, Duration.ofMillis(50), 1 << 20, "tributary-named-wal-7"));
    String completedOn = wal.append(payload(0)).thenApplyAsync(h -> "", Runnable::run).join();
    assertThat(completedOn).isEmpty();
    assertThat(Thread.getAllStackTraces().keySet())
        .extracting(Thread::getName)
        .contains("tributary-named-wal-7", "tributary-named-wal-complete-7");
    wal.close();
    assertThat(Thread.getAllStackTraces().keySet())
        .extracting(Thread::getName)
        .doesNotContain("tributary-named-wal-7");
  }

  @Test
  void interruptedReaderDoesNotBreakOtherReadersOrTheWriter() throws IOException {
    WriteAheadLog wal = open(FsyncPolicy.ALWAYS, 1 << 20);
    List<WalHandle> handles = appendAll(wal, 0, 5);
    assertThat(wal.read(handles.get(0))).isEqualTo(payload(0)); // opens the shared read channel

    Thread.currentThread().interrupt();
    try {
      assertThatThrownBy(() -> wal.read(handles.get(1)))
          .isInstanceOf(ClosedByInterruptException.class);
      assertThat(Thread.currentThread().isInterrupted()).isTrue();
    } finally {
      Thread.interrupted();
    }
    assertThat(wal.read(handles.get(1))).isEqualTo(payload(1));
    WalHandle next = wal.append(payload(5)).join();
    assertThat(wal.read(next)).isEqualTo(payload(5));
  }

  @Test
  void writeFailureFailsTheGroupAndRefusesLaterAppends() throws IOException {
    WriteAheadLog wal = open(FsyncPolicy.ALWAYS, 128);
    WalHandle first = wal.append(payload(0)).join();
    // A directory where the next segment's temp file must go makes the roll fail with an I/O error.
    Files.createDirectory(dir.resolve(WalFormat.fileName(first.segmentId() + 1) + ".tmp"));
    CompletableFuture<WalHandle> rolling = wal.append(new byte[200]);

    assertThatThrownBy(rolling::join)
        .cause()
        .isInstanceOf(StoreFailedException.class)
        .hasMessageContaining("refuses further appends")
        .hasCauseInstanceOf(IOException.class);
    assertThatThrownBy(() -> wal.append(payload(1)).join())
        .cause()
        .isInstanceOf(StoreFailedException.class)
        .hasMessageContaining("earlier write failure");
    wal.close();

    assertThat(payloadsOf(replayAll(open(FsyncPolicy.ALWAYS, 128))))
        .containsExactly(new String(payload(0), UTF_8));
  }

  @Test
  void emptyAndNullPayloadsAreRejected() throws IOException {
    WriteAheadLog wal = open(FsyncPolicy.ALWAYS, 1 << 20);
    assertThatThrownBy(() -> wal.append(new byte[0]))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Invalid WAL entry size 0");
    assertThatThrownBy(() -> wal.append(null)).isInstanceOf(NullPointerException.class);
  }

  @Test
  void lastSegmentShorterThanItsHeaderIsReinitialised() throws IOException {
    WriteAheadLog wal = open(FsyncPolicy.ALWAYS, 1 << 20);
    appendAll(wal, 0, 3);
    wal.close();
    Files.write(segmentFile(1), new byte[] {0x54, 0x57});

    WriteAheadLog reopened = open(FsyncPolicy.ALWAYS, 1 << 20);
    assertThat(reopened.activeSegmentId()).isEqualTo(1);
    assertThat(reopened.append(payload(3)).join())
        .isEqualTo(new WalHandle(1, WalFormat.HEADER_BYTES, payload(3).length));
    assertThat(payloadsOf(replayAll(reopened))).containsExactlyElementsOf(expectedPayloads(0, 4));
  }

  @Test
  void dependentStageBlockingOnALockHeldByAWaitingAppenderDoesNotDeadlock() throws Exception {
    // The engine's pattern: append under a lock, and the future's stage takes the same lock. With a
    // queue bound
    // of one entry, an appender holding the lock regularly waits for room while a stage waits for
    // the lock.
    WriteAheadLog wal =
        open(
            new WalConfig(
                FsyncPolicy.ALWAYS, Duration.ofMillis(50), 1 << 20, "tributary-t-wal-0", 1));
    Object engineLock = new Object();
    List<Long> registered = new ArrayList<>();
    int threads = 4;
    int perThread = 150;
    ExecutorService pool =
        Executors.newFixedThreadPool(
            threads,
            r -> {
              Thread t = new Thread(r, "tributary-test-appender");
              t.setDaemon(true); // a deadlock must fail the test, not hang the JVM
              return t;
            });
    try {
      List<CompletableFuture<Void>> stages = Collections.synchronizedList(new ArrayList<>());
      List<Future<?>> appenders = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        appenders.add(
            pool.submit(
                () -> {
                  for (int i = 0; i < perThread; i++) {
                    synchronized (engineLock) {
                      stages.add(
                          wal.append(payload(i))
                              .thenAccept(
                                  h -> {
                                    synchronized (engineLock) {
                                      registered.add(h.position());
                                    }
                                  }));
                    }
                  }
                }));
      }
      for (Future<?> f : appenders) {
        f.get(60, TimeUnit.SECONDS);
      }
      CompletableFuture.allOf(stages.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
      synchronized (engineLock) {
        assertThat(registered).hasSize(threads * perThread).doesNotHaveDuplicates();
      }
    } finally {
      pool.shutdownNow();
    }
  }
}
