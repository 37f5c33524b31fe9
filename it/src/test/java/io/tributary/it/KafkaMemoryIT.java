package io.tributary.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.tributary.testing.kafka.KafkaBroker;
import io.tributary.testing.kafka.KafkaBrokerExtension;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Memory stays flat whatever the backlog: the packaged gateway with {@code -Xmx256m} reads a 1 GiB
 * Kafka backlog (1,048,576 numbered records of 1 KiB in 8 partitions, four times its heap) from
 * {@code earliest} into the {@code files} sink with the default batch bounds, and every record is
 * in the output exactly once.
 *
 * <p>The first batch plans {@code direct.max-records-per-partition} (100,000) records of each
 * partition, about 800 MB: it fits only because the engine streams it to the sink in chunks and the
 * sink appends chunks to its temp files. A sink that collects the whole batch (the default {@code
 * Sink.begin}) fails here with {@code OutOfMemoryError}.
 *
 * <p>The output is checked with a bitset by record number (the test JVM never holds the records
 * either). The test prints the gateway's peak RSS ({@code VmHWM}), the largest heap occupancy after
 * a GC from its GC log, and the throughput.
 */
@ExtendWith(KafkaBrokerExtension.class)
class KafkaMemoryIT {
  private static final int RECORDS = 1 << 20;
  private static final int RECORD_SIZE = 1024;
  private static final int PARTITIONS = 8;
  private static final int DIGITS = 10;
  private static final String HEAP = "-Xmx256m";

  @TempDir Path tmp;

  @Test
  void aBacklogFourTimesTheHeapReachesTheFilesSinkExactlyOnce(KafkaBroker broker) throws Exception {
    String topic = "kmem-a";
    writeInput(broker, topic);
    Path out = tmp.resolve("out");
    Path log = tmp.resolve("gw.log");
    Path gcLog = tmp.resolve("gc.log");
    long expectedBytes = (long) RECORDS * (RECORD_SIZE + 1);

    try (GatewayProcess gateway =
        new GatewayProcess(
            config(broker, topic, out), log, List.of(HEAP, "-Xlog:gc:file=" + gcLog))) {
      long t0 = System.nanoTime();
      gateway.start();
      long[] peakRssKb = {0};
      try {
        await()
            .atMost(Duration.ofMinutes(5))
            .pollInSameThread()
            .pollInterval(Duration.ofMillis(500))
            .failFast("gateway exited", () -> gateway.exitCode() != null)
            .failFast("gateway logged an OutOfMemoryError", () -> logged(log, "OutOfMemoryError"))
            .until(
                () -> {
                  peakRssKb[0] = Math.max(peakRssKb[0], peakRssKb(gateway.pid()));
                  return publishedBytes(out) >= expectedBytes;
                });
      } catch (RuntimeException | AssertionError e) {
        System.out.printf(
            "KafkaMemoryIT: failed after %d ms with %d of %d bytes published, peak_rss_mib=%d; gateway log:%n%s%n",
            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0),
            publishedBytes(out),
            expectedBytes,
            peakRssKb[0] / 1024,
            errorLines(log));
        throw e;
      }
      long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      peakRssKb[0] =
          Math.max(peakRssKb[0], peakRssKb(gateway.pid())); // VmHWM: the peak over the whole run
      assertThat(gateway.terminate(Duration.ofSeconds(60))).as("exit code after SIGTERM").isZero();
      assertThat(logged(log, "OutOfMemoryError"))
          .as("OutOfMemoryError in the gateway's log")
          .isFalse();

      Check check = check(out);
      long[] heap = heapAroundGc(gcLog);
      System.out.printf(
          "KafkaMemoryIT: records=%d bytes=%d heap=%s gateway_time_ms=%d records_per_s=%d mib_per_s=%.1f"
              + " peak_rss_mib=%d heap_after_gc_max_mib=%d heap_before_gc_max_mib=%d gcs=%d output_files=%d"
              + " lost=%d duplicated=%d corrupt=%d%n",
          RECORDS,
          (long) RECORDS * RECORD_SIZE,
          HEAP,
          elapsedMs,
          RECORDS * 1000L / Math.max(1, elapsedMs),
          (double) RECORDS * RECORD_SIZE / (1 << 20) / Math.max(0.001, elapsedMs / 1000.0),
          peakRssKb[0] / 1024,
          heap[1],
          heap[0],
          heap[2],
          check.files,
          check.lost(),
          check.duplicated,
          check.corrupt);
      assertThat(check.corrupt).as("corrupt lines").isZero();
      assertThat(check.duplicated).as("duplicated records").isZero();
      assertThat(check.lost()).as("lost records").isZero();
    }
  }

  private Path config(KafkaBroker broker, String topic, Path out) throws IOException {
    Path config = tmp.resolve("kmem.yaml");
    // Default batch bounds (100,000 records per partition, 256 MiB per batch), chunk size and read
    // parallelism.
    Files.writeString(
        config,
        String.join(
            "\n",
            "pipelines:",
            "  - id: kmem",
            "    settings:",
            "      batch-interval: 100ms",
            "    checkpoint: " + tmp.resolve("checkpoint"),
            "    source:",
            "      type: kafka",
            "      bootstrap-servers: " + broker.bootstrapServers(),
            "      topics: [" + topic + "]",
            "      starting-position: earliest",
            "    sinks:",
            "      - type: files",
            "        path: " + out,
            ""));
    return config;
  }

  /**
   * Record {@code i}: {@code i} as 10 digits, '-', then a letter chosen by {@code i} up to 1,024
   * bytes.
   */
  static byte[] value(int i) {
    byte[] v = new byte[RECORD_SIZE];
    byte[] digits = String.format("%0" + DIGITS + "d-", i).getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(digits, 0, v, 0, digits.length);
    Arrays.fill(v, digits.length, RECORD_SIZE, pad(i));
    return v;
  }

  private static byte pad(int i) {
    return (byte) ('a' + i % 26);
  }

  private static void writeInput(KafkaBroker broker, String topic) {
    broker.createTopic(topic, PARTITIONS);
    Properties p = new Properties();
    p.put("bootstrap.servers", broker.bootstrapServers());
    p.put("acks", "1");
    p.put("enable.idempotence", "false");
    p.put("compression.type", "none");
    p.put("linger.ms", "20");
    p.put("batch.size", Integer.toString(512 * 1024));
    p.put("buffer.memory", Long.toString(64L * 1024 * 1024));
    long t0 = System.nanoTime();
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
      for (int i = 0; i < RECORDS; i++) {
        producer.send(new ProducerRecord<>(topic, i % PARTITIONS, null, value(i)));
      }
      producer.flush();
    }
    System.out.printf(
        "KafkaMemoryIT: wrote records=%d bytes=%d to %s in %d ms (broker %s)%n",
        RECORDS,
        (long) RECORDS * RECORD_SIZE,
        topic,
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0),
        broker.kind());
  }

  /** Bytes of the published (not hidden) output files. */
  private static long publishedBytes(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return 0;
    }
    long bytes = 0;
    try (Stream<Path> s = Files.list(dir)) {
      for (Path f : s.filter(f -> !f.getFileName().toString().startsWith(".")).toList()) {
        try {
          bytes += Files.size(f);
        } catch (NoSuchFileException replaced) {
          // renamed over between listing and size: counted on the next poll
        }
      }
    }
    return bytes;
  }

  /** The process's peak resident set size in KiB ({@code VmHWM}), 0 when it is gone. */
  private static long peakRssKb(long pid) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
        if (line.startsWith("VmHWM:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
      }
    } catch (IOException gone) {
      // the process ended
    }
    return 0;
  }

  private static boolean logged(Path log, String text) throws IOException {
    if (!Files.exists(log)) {
      return false;
    }
    try (Stream<String> lines = Files.lines(log, StandardCharsets.ISO_8859_1)) {
      return lines.anyMatch(l -> l.contains(text));
    }
  }

  /** The log's lines that name an error or a failure, else its last lines. */
  private static String errorLines(Path log) throws IOException {
    List<String> lines;
    try (Stream<String> s = Files.lines(log, StandardCharsets.ISO_8859_1)) {
      lines = s.filter(l -> l.contains("Error") || l.contains("failed")).limit(20).toList();
    }
    if (lines.isEmpty()) {
      List<String> all = Files.readAllLines(log, StandardCharsets.ISO_8859_1);
      lines = all.subList(Math.max(0, all.size() - 20), all.size());
    }
    return String.join("\n", lines);
  }

  private static final Pattern GC_LINE = Pattern.compile("(\\d+)M->(\\d+)M\\(\\d+M\\)");

  /** {max heap before a GC, max heap after a GC, GC count} in MiB from a {@code -Xlog:gc} file. */
  private static long[] heapAroundGc(Path gcLog) throws IOException {
    long before = 0;
    long after = 0;
    long count = 0;
    for (String line : Files.readAllLines(gcLog)) {
      Matcher m = GC_LINE.matcher(line);
      if (m.find()) {
        before = Math.max(before, Long.parseLong(m.group(1)));
        after = Math.max(after, Long.parseLong(m.group(2)));
        count++;
      }
    }
    return new long[] {before, after, count};
  }

  /** What the output holds: every record number seen, in a bitset. */
  private static final class Check {
    final BitSet seen = new BitSet(RECORDS);
    long duplicated;
    long corrupt;
    int files;

    long lost() {
      return RECORDS - seen.cardinality();
    }

    void line(byte[] line, int len) {
      if (len != RECORD_SIZE || line[DIGITS] != '-') {
        corrupt++;
        return;
      }
      int i = 0;
      for (int k = 0; k < DIGITS; k++) {
        int d = line[k] - '0';
        if (d < 0 || d > 9) {
          corrupt++;
          return;
        }
        i = i * 10 + d;
      }
      if (i < 0 || i >= RECORDS) {
        corrupt++;
        return;
      }
      byte pad = pad(i);
      for (int k = DIGITS + 1; k < RECORD_SIZE; k++) {
        if (line[k] != pad) {
          corrupt++;
          return;
        }
      }
      if (seen.get(i)) {
        duplicated++;
      } else {
        seen.set(i);
      }
    }
  }

  /** Reads every published output file line by line, in fixed buffers. */
  private static Check check(Path dir) throws IOException {
    Check check = new Check();
    byte[] buf = new byte[1 << 20];
    byte[] line = new byte[RECORD_SIZE];
    List<Path> files;
    try (Stream<Path> s = Files.list(dir)) {
      files = s.filter(f -> !f.getFileName().toString().startsWith(".")).sorted().toList();
    }
    for (Path f : files) {
      check.files++;
      int len = 0;
      try (InputStream in = Files.newInputStream(f)) {
        for (int n = in.read(buf); n > 0; n = in.read(buf)) {
          for (int k = 0; k < n; k++) {
            byte c = buf[k];
            if (c == '\n') {
              check.line(line, len);
              len = 0;
            } else {
              if (len < RECORD_SIZE) {
                line[len] = c;
              }
              len++;
            }
          }
        }
      }
      if (len > 0) {
        check.corrupt++; // a last line without its newline
      }
    }
    return check;
  }
}
