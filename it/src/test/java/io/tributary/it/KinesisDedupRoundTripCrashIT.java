package io.tributary.it;

import static io.tributary.it.KinesisTestServers.awaitActive;
import static io.tributary.it.KinesisTestServers.loadAverage;
import static io.tributary.it.KinesisTestServers.mergeChildren;
import static io.tributary.it.KinesisTestServers.split;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.GetRecordsResponse;
import software.amazon.awssdk.services.kinesis.model.Shard;
import software.amazon.awssdk.services.kinesis.model.ShardIteratorType;

/**
 * Exactly-once through Kinesis: Tributary → Kinesis → Tributary with the writing gateway SIGKILLed
 * mid-batch. Gateway A (a separate process) reads {@value #RECORDS} numbered lines from {@value
 * #FILES} files with the {@code files} source and writes them to a 4-shard kinesalite stream with
 * the {@code kinesis} sink and {@code dedup-ids: true}; it is SIGKILLed {@value #KILLS} times at
 * seeded random moments (when the stream holds a random target count of records, so while a batch's
 * PutRecords requests are under way) and restarted, and a restart replays the batch a kill
 * interrupted: the stream then really holds copies of records, with the same dedup id. While A is
 * down after its 4th kill shard 0 is split, and after its 7th the two children are merged, so the
 * batch A replays then puts its copies into a child of the shard that holds the first ones. Gateway
 * B (another process, killed {@value #READER_KILLS} times too, which makes it rebuild its window by
 * reading back) reads the stream with the {@code kinesis} source and {@code dedup-window} into the
 * {@code files} sink.
 *
 * <p>Two independent checks: a raw GetRecords reader in this JVM (the AWS SDK, no Tributary code;
 * it decodes the KPL aggregate itself) counts what is physically in the stream and the distinct
 * dedup ids, and the test asserts that copies exist ({@code raw_in_stream > records}), that each
 * number was written under one dedup id only, and that no id carries two numbers; then B's output
 * files must hold every number exactly once. B is known to have read everything when it wrote one
 * sentinel record per open shard put (without a dedup id) after A stopped.
 *
 * <p>Server: kinesalite, as in {@link KinesisGatewayCrashIT} (JSON, not CBOR). Seeded kill moments;
 * rerun with {@code -Dkinesis.dedup.seed=N}.
 */
class KinesisDedupRoundTripCrashIT {
  private static final String CBOR = "aws.cborEnabled";
  private static final int FILES = 600;
  private static final int LINES_PER_FILE = 100;
  private static final int RECORDS = FILES * LINES_PER_FILE;
  private static final int SHARDS = 4;
  private static final int KILLS = 10;
  private static final int READER_KILLS = 3;
  private static final String DEDUP_TAG = "tributary-dedup-id";
  private static final byte[] KPL_MAGIC = {(byte) 0xF3, (byte) 0x89, (byte) 0x9A, (byte) 0xC2};

  private KinesisTestServers servers;

  @AfterEach
  void stopServers() {
    if (servers != null) {
      servers.close();
    }
  }

  @Test
  void everyRecordOnceThroughKinesisWhileTheWritingGatewayIsKilledMidBatch() throws Exception {
    long seed = Long.getLong("kinesis.dedup.seed", System.nanoTime());
    Random random = new Random(seed);
    Path tmp = Files.createDirectories(Path.of("target", "kinesis-dedup-" + seed).toAbsolutePath());
    System.out.printf(
        "KinesisDedupRoundTripCrashIT: seed=%d work=%s load=%s%n", seed, tmp, loadAverage());
    servers = new KinesisTestServers(tmp);
    String endpoint = servers.startKinesalite();
    String stream = "kdedup";
    Path in = Files.createDirectories(tmp.resolve("in"));
    Path out = tmp.resolve("out");
    for (int f = 0; f < FILES; f++) {
      StringBuilder sb = new StringBuilder(LINES_PER_FILE * 8);
      for (int l = 0; l < LINES_PER_FILE; l++) {
        sb.append(f * LINES_PER_FILE + l).append('\n');
      }
      Files.writeString(in.resolve(String.format("part-%04d.txt", f)), sb);
    }
    String cborBefore = System.setProperty(CBOR, "false"); // kinesalite: JSON; restored below
    long started = System.nanoTime();
    ScheduledExecutorService tail =
        Executors.newSingleThreadScheduledExecutor(r -> new Thread(r, "kdedup-raw-reader"));
    try (KinesisClient k = KinesisTestServers.client(endpoint)) {
      k.createStream(b -> b.streamName(stream).shardCount(SHARDS));
      awaitActive(k, stream);
      Path writerConfig = tmp.resolve("writer.yaml");
      Files.writeString(
          writerConfig,
          String.join(
              "\n",
              "pipelines:",
              "  - id: kdedup-a",
              "    settings:",
              "      batch-interval: 200ms",
              "    checkpoint: " + tmp.resolve("checkpoint-a"),
              "    source:",
              "      type: files",
              "      paths: [" + in + "]",
              "      include-existing: true",
              // written before the start, complete: no need to watch them settle between batches
              "      stable-for: 0s",
              // 2,000 records a batch: four PutRecords requests of 500, so a kill lands between
              // or inside them and the restart puts the batch again
              "      max-files-per-batch: 20",
              "    sinks:",
              "      - type: kinesis",
              "        stream: " + stream,
              "        endpoint: " + endpoint,
              "        access-key-id: " + KinesisTestServers.ACCESS_KEY,
              "        secret-access-key: " + KinesisTestServers.SECRET_KEY,
              "        partition-key: hash",
              "        dedup-ids: true",
              ""));
      Path readerConfig = tmp.resolve("reader.yaml");
      Files.writeString(
          readerConfig,
          String.join(
              "\n",
              "pipelines:",
              "  - id: kdedup-b",
              "    settings:",
              "      batch-interval: 200ms",
              "      direct.max-records-per-partition: 2500",
              "    checkpoint: " + tmp.resolve("checkpoint-b"),
              "    source:",
              "      type: kinesis",
              "      stream: " + stream,
              "      endpoint: " + endpoint,
              "      access-key-id: " + KinesisTestServers.ACCESS_KEY,
              "      secret-access-key: " + KinesisTestServers.SECRET_KEY,
              "      starting-position: trim-horizon",
              // longer than a restart of A (the copy of a record comes a few seconds after it)
              "      dedup-window: 1m",
              "    sinks:",
              "      - { type: files, path: " + out + ", max-file-size: 4mb }",
              ""));

      RawReader raw = new RawReader(k, stream);
      ScheduledFuture<?> tailing =
          tail.scheduleWithFixedDelay(raw::pollQuietly, 0, 100, TimeUnit.MILLISECONDS);
      List<String> jvm = List.of("-Xmx384m", "-D" + CBOR + "=false");
      int kills = 0;
      int readerKills = 0;
      int openShards;
      Path writerLog = tmp.resolve("a.log");
      try (GatewayProcess writer = new GatewayProcess(writerConfig, writerLog, jvm);
          GatewayProcess reader = new GatewayProcess(readerConfig, tmp.resolve("b.log"), jvm)) {
        writer.start();
        reader.start();
        int readerLinesAtStart = 0;
        for (int n = 0; n < KILLS; n++) {
          long atStart = raw.records.get();
          long target =
              (long) RECORDS * (n + 1) / (KILLS + 1)
                  + random.nextInt(RECORDS / (KILLS * 3))
                  - RECORDS / (KILLS * 6);
          int kill = n;
          await()
              .atMost(Duration.ofSeconds(120))
              .pollInterval(Duration.ofMillis(20 + random.nextInt(200)))
              .failFast("writer gateway exited", () -> writer.exitCode() != null)
              .failFast("reader gateway exited", () -> reader.exitCode() != null)
              .failFast("raw reader failed", () -> tailing.isDone())
              .conditionEvaluationListener(
                  c -> {
                    if (c.getRemainingTimeInMS() < 1000) {
                      System.out.printf(
                          "KinesisDedupRoundTripCrashIT: waiting for kill %d: raw=%d target=%d"
                              + " at_start=%d%n",
                          kill, raw.records.get(), target, atStart);
                    }
                  })
              // the running process has started its pipeline (records of the one killed before
              // may still reach the raw reader after atStart) and the stream grew since
              .until(
                  () ->
                      raw.records.get() >= target
                          && raw.records.get() > atStart
                          && started(writerLog) == writer.starts());
          writer.kill();
          kills++;
          // resharding while the writer is down: the batch it replays goes to the children of
          // the shard that holds the first copies (the reader's window must span parents)
          if (n == 3) {
            split(k, stream);
          } else if (n == 6) {
            mergeChildren(k, stream);
          }
          writer.start();
          if (n % 3 == 2 && readerKills < READER_KILLS) {
            int since = readerLinesAtStart;
            await()
                .atMost(Duration.ofSeconds(120))
                .pollInterval(Duration.ofMillis(20 + random.nextInt(200)))
                .failFast("reader gateway exited", () -> reader.exitCode() != null)
                .until(() -> GatewayProcess.outputLines(out).size() > since);
            reader.kill();
            readerKills++;
            readerLinesAtStart = GatewayProcess.outputLines(out).size();
            reader.start();
          }
        }
        // A is done once every number is in the stream, the running process has started (a
        // SIGTERM before its shutdown hook exists ends it with 143) and every planned batch is
        // committed (so the replay of the batch the last kill interrupted is in the stream too)
        Path checkpointA = tmp.resolve("checkpoint-a");
        await()
            .atMost(Duration.ofMinutes(3))
            .pollInterval(Duration.ofMillis(200))
            .failFast("writer gateway exited", () -> writer.exitCode() != null)
            .failFast("raw reader failed", () -> tailing.isDone())
            .until(
                () ->
                    raw.distinctValues() >= RECORDS
                        && started(writerLog) == writer.starts()
                        && allCommitted(checkpointA));
        assertThat(writer.terminate(Duration.ofSeconds(60)))
            .as("writer exit code after SIGTERM; log:\n%s", writer.logTail())
            .isZero();
        tailing.cancel(false);
        tail.shutdown();
        assertThat(tail.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
        raw.poll(); // the rest, on this thread now that the tailing task has ended
        System.out.printf(
            "KinesisDedupRoundTripCrashIT: writer done after %d s, raw_in_stream=%d%n",
            (System.nanoTime() - started) / 1_000_000_000, raw.records.get());
        // One sentinel per shard, after everything A wrote: B's output holds it once B has read
        // its shard to there. No dedup id, so B keeps it.
        List<Shard> shards =
            k.listShards(b -> b.streamName(stream)).shards().stream()
                .filter(s -> s.sequenceNumberRange().endingSequenceNumber() == null)
                .toList();
        openShards = shards.size();
        for (Shard s : shards) {
          k.putRecord(
              b ->
                  b.streamName(stream)
                      .partitionKey("end")
                      .explicitHashKey(s.hashKeyRange().startingHashKey())
                      .data(SdkBytes.fromString("end-" + s.shardId(), StandardCharsets.US_ASCII)));
        }
        await()
            .atMost(Duration.ofMinutes(3))
            .pollInterval(Duration.ofMillis(300))
            .failFast("reader gateway exited", () -> reader.exitCode() != null)
            .until(
                () ->
                    GatewayProcess.outputLines(out).stream()
                            .filter(l -> l.startsWith("end-"))
                            .count()
                        >= shards.size());
        assertThat(reader.terminate(Duration.ofSeconds(60)))
            .as("reader exit code after SIGTERM; log:\n%s", reader.logTail())
            .isZero();
      }

      List<String> lines = GatewayProcess.outputLines(out);
      Map<Integer, Integer> counts = new HashMap<>();
      List<String> unexpected = new ArrayList<>();
      int sentinels = 0;
      for (String l : lines) {
        if (l.startsWith("end-")) {
          sentinels++;
        } else if (l.matches("[0-9]+") && Integer.parseInt(l) < RECORDS) {
          counts.merge(Integer.parseInt(l), 1, Integer::sum);
        } else {
          unexpected.add(l);
        }
      }
      long duplicated = counts.values().stream().filter(c -> c > 1).mapToLong(c -> c - 1).sum();
      long lost = RECORDS - counts.size();
      long rawDuplicates = raw.records.get() - raw.ids.size();
      System.out.printf(
          "KinesisDedupRoundTripCrashIT: records=%d kills=%d writer_replays=%d reader_kills=%d"
              + " shards=%d raw_in_stream=%d raw_distinct_ids=%d raw_duplicates=%d"
              + " raw_copies_in_child_shards=%d read=%d lost=%d"
              + " duplicated=%d seed=%d seconds=%d kinesalite_cpu_seconds=%d load=%s%n",
          RECORDS,
          kills,
          logged(writerLog, "event=batch_replay"),
          readerKills,
          shards(k, stream),
          raw.records.get(),
          raw.ids.size(),
          rawDuplicates,
          raw.copiesInOtherShard,
          lines.size() - sentinels,
          lost,
          duplicated,
          seed,
          (System.nanoTime() - started) / 1_000_000_000,
          servers.kinesaliteCpuSeconds(),
          loadAverage());
      assertThat(kills).isGreaterThanOrEqualTo(10);
      assertThat(shards(k, stream)).as("4 shards + 2 split children + 1 merged child").isEqualTo(7);
      assertThat(raw.notAggregated).as("raw records without a KPL aggregate and dedup id").isZero();
      assertThat(raw.idsWithTwoValues).as("dedup ids carrying two different numbers").isEmpty();
      assertThat(raw.valuesWithTwoIds)
          .as("numbers written under two dedup ids (a replay must reuse the ids)")
          .isEmpty();
      assertThat(raw.ids).as("distinct dedup ids in the stream").hasSize(RECORDS);
      assertThat(rawDuplicates)
          .as("copies in the stream: without them the test proves nothing (seed %d)", seed)
          .isPositive();
      assertThat(unexpected).as("output lines that are no input number").isEmpty();
      assertThat(sentinels).as("one sentinel per open shard").isEqualTo(openShards);
      assertThat(lost).as("lost records (seed %d)", seed).isZero();
      assertThat(duplicated).as("duplicated records (seed %d)", seed).isZero();
    } finally {
      tail.shutdownNow();
      if (cborBefore == null) {
        System.clearProperty(CBOR);
      } else {
        System.setProperty(CBOR, cborBefore);
      }
    }
  }

  /** How many times the gateway logging to {@code log} has started. */
  private static long started(Path log) throws IOException {
    return logged(log, "event=gateway_started");
  }

  private static long logged(Path log, String event) throws IOException {
    try (Stream<String> lines = Files.lines(log)) {
      return lines.filter(l -> l.contains(event)).count();
    }
  }

  /** Whether every batch planned in {@code checkpoint} ({@code offsets/N}) has its commit. */
  private static boolean allCommitted(Path checkpoint) throws IOException {
    Path offsets = checkpoint.resolve("offsets");
    if (!Files.isDirectory(offsets)) {
      return false;
    }
    try (Stream<Path> planned = Files.list(offsets)) {
      return planned
          .map(Path::getFileName)
          .filter(n -> n.toString().matches("[0-9]+"))
          .allMatch(n -> Files.exists(checkpoint.resolve("commits").resolve(n)));
    }
  }

  private static int shards(KinesisClient k, String stream) {
    return k.listShards(b -> b.streamName(stream)).shards().size();
  }

  /**
   * Tails every shard of the stream with GetRecords from TRIM_HORIZON (the SDK only) and decodes
   * each record's KPL aggregate itself: the number and the dedup id. Used by one thread at a time
   * (the scheduled task, then the test thread after it ended).
   */
  private static final class RawReader {
    final AtomicLong records = new AtomicLong();
    final Map<String, Integer> ids = new HashMap<>();
    final Map<Integer, String> idOfValue = new HashMap<>();
    final Set<String> idsWithTwoValues = new HashSet<>();
    final Set<Integer> valuesWithTwoIds = new HashSet<>();
    final Map<String, String> shardOfId = new HashMap<>();
    long notAggregated;
    long copiesInOtherShard;
    private volatile int distinctValues;
    private final KinesisClient k;
    private final String stream;
    private final Map<String, String> iterators = new LinkedHashMap<>();

    RawReader(KinesisClient k, String stream) {
      this.k = k;
      this.stream = stream;
    }

    int distinctValues() {
      return distinctValues;
    }

    void pollQuietly() {
      try {
        poll();
      } catch (RuntimeException e) {
        // a failed call is tried again at the next poll with the same iterator
        System.out.printf("KinesisDedupRoundTripCrashIT: raw reader: %s%n", e);
      }
    }

    /** Reads every shard (those created by a split or merge too) up to its current end. */
    void poll() {
      for (Shard s : k.listShards(b -> b.streamName(stream)).shards()) {
        if (!iterators.containsKey(s.shardId())) {
          iterators.put(
              s.shardId(),
              k.getShardIterator(
                      b ->
                          b.streamName(stream)
                              .shardId(s.shardId())
                              .shardIteratorType(ShardIteratorType.TRIM_HORIZON))
                  .shardIterator());
        }
      }
      for (Map.Entry<String, String> e : iterators.entrySet()) {
        while (e.getValue() != null) {
          String it = e.getValue();
          GetRecordsResponse r = k.getRecords(b -> b.shardIterator(it).limit(10_000));
          String shard = e.getKey();
          r.records().forEach(rec -> count(shard, rec.data().asByteArray()));
          e.setValue(r.nextShardIterator());
          Long behind = r.millisBehindLatest();
          if (r.records().isEmpty() || behind == null || behind == 0) {
            break;
          }
        }
      }
    }

    private void count(String shard, byte[] data) {
      records.incrementAndGet();
      String[] decoded = decode(data);
      if (decoded == null || decoded[1] == null) {
        notAggregated++;
        return;
      }
      int value = Integer.parseInt(decoded[0]);
      String id = decoded[1];
      Integer before = ids.putIfAbsent(id, value);
      if (before != null && before != value) {
        idsWithTwoValues.add(id);
      }
      String firstShard = shardOfId.putIfAbsent(id, shard);
      if (firstShard != null && !firstShard.equals(shard)) {
        copiesInOtherShard++; // written again after a split or merge: in a child shard
      }
      String idBefore = idOfValue.putIfAbsent(value, id);
      if (idBefore == null) {
        distinctValues = idOfValue.size();
      } else if (!idBefore.equals(id)) {
        valuesWithTwoIds.add(value);
      }
    }

    /**
     * {data, dedup id} of a one-record KPL aggregate (magic, protobuf AggregatedRecord, MD5 of the
     * protobuf; the published format), or null when {@code b} is none.
     */
    static String[] decode(byte[] b) {
      int end = b.length - 16;
      if (end < KPL_MAGIC.length || !Arrays.equals(b, 0, 4, KPL_MAGIC, 0, 4)) {
        return null;
      }
      try {
        byte[] md5 = MessageDigest.getInstance("MD5").digest(Arrays.copyOfRange(b, 4, end));
        if (!Arrays.equals(md5, 0, 16, b, end, b.length)) {
          return null;
        }
      } catch (java.security.NoSuchAlgorithmException e) {
        throw new IllegalStateException(e);
      }
      String[] result = null;
      int[] pos = {4};
      while (pos[0] < end) {
        long key = varint(b, pos);
        int len = (int) varint(b, pos);
        if (key == ((3 << 3) | 2)) { // records
          if (result != null) {
            return null; // the sink writes one record per aggregate
          }
          result = record(b, pos[0], pos[0] + len);
        } else if ((key & 7) != 2) {
          return null; // the table fields are strings; anything else is not the sink's
        }
        pos[0] += len;
      }
      return result;
    }

    /** {data, dedup id} of a Record message: field 3 data, field 4 tags (1 key, 2 value). */
    private static String[] record(byte[] b, int from, int to) {
      String[] out = new String[2];
      int[] pos = {from};
      while (pos[0] < to) {
        long key = varint(b, pos);
        if ((key & 7) == 0) {
          varint(b, pos);
          continue;
        }
        int len = (int) varint(b, pos);
        if (key == ((3 << 3) | 2)) {
          out[0] = new String(b, pos[0], len, StandardCharsets.UTF_8);
        } else if (key == ((4 << 3) | 2)) {
          String[] tag = new String[2];
          int[] t = {pos[0]};
          while (t[0] < pos[0] + len) {
            long tk = varint(b, t);
            int tl = (int) varint(b, t);
            tag[(int) (tk >>> 3) - 1] = new String(b, t[0], tl, StandardCharsets.UTF_8);
            t[0] += tl;
          }
          if (DEDUP_TAG.equals(tag[0])) {
            out[1] = tag[1];
          }
        }
        pos[0] += len;
      }
      return out[0] == null ? null : out;
    }

    private static long varint(byte[] b, int[] pos) {
      long v = 0;
      for (int shift = 0; ; shift += 7) {
        byte x = b[pos[0]++];
        v |= (long) (x & 0x7f) << shift;
        if (x >= 0) {
          return v;
        }
      }
    }
  }
}
