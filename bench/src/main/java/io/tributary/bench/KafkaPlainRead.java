package io.tributary.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * The ceiling of the Kafka forwarding benchmark, run as its own process so that its peak RSS is
 * measured like the forwarders': a plain {@link KafkaConsumer} poll loop ({@code read_committed},
 * {@code max.poll.records} 2000 like the source's default, no processing) reading every partition
 * of a topic from the beginning to the last record.
 *
 * <p>Prints one line {@code result first-record-epoch-ms=... first-poll-records=...
 * steady-seconds=... vmhwm-kb=...}: the wall-clock time of the first record read, the records of
 * that first poll, the seconds from that poll to the last record, and its own peak RSS.
 *
 * <p>Usage: {@code KafkaPlainRead <bootstrap-servers> <topic> <partitions> <records>}.
 */
public final class KafkaPlainRead {
  private KafkaPlainRead() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 4) {
      System.err.println(
          "usage: KafkaPlainRead <bootstrap-servers> <topic> <partitions> <records>");
      System.exit(2);
    }
    String topic = args[1];
    int partitions = Integer.parseInt(args[2]);
    long records = Long.parseLong(args[3]);
    Properties p = new Properties();
    p.put("bootstrap.servers", args[0]);
    p.put("isolation.level", "read_committed");
    p.put("max.poll.records", "2000");
    try (KafkaConsumer<byte[], byte[]> c =
        new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> tps = new ArrayList<>();
      for (int i = 0; i < partitions; i++) {
        tps.add(new TopicPartition(topic, i));
      }
      c.assign(tps);
      c.seekToBeginning(tps);
      long count = 0;
      long bytes = 0;
      long firstEpochMs = 0;
      long firstNanos = 0;
      long firstCount = 0;
      while (count < records) {
        ConsumerRecords<byte[], byte[]> batch = c.poll(Duration.ofMillis(500));
        count += batch.count();
        for (var r : batch) {
          bytes += r.value().length;
        }
        if (firstNanos == 0 && count > 0) {
          firstNanos = System.nanoTime();
          firstEpochMs = System.currentTimeMillis();
          firstCount = count;
        }
      }
      double steady = (System.nanoTime() - firstNanos) / 1e9;
      System.out.printf(
          "result first-record-epoch-ms=%d first-poll-records=%d steady-seconds=%.6f records=%d"
              + " bytes=%d vmhwm-kb=%d%n",
          firstEpochMs, firstCount, steady, count, bytes, vmHwmKb(Path.of("/proc/self/status")));
    }
  }

  /**
   * Peak resident set size (VmHWM) in kB from a {@code /proc/<pid>/status} file, 0 when it cannot
   * be read.
   */
  static long vmHwmKb(Path status) {
    try {
      for (String line : Files.readAllLines(status)) {
        if (line.startsWith("VmHWM:")) {
          return Long.parseLong(line.substring(6).trim().split("\\s+")[0]);
        }
      }
    } catch (Exception e) {
      // the process is gone: the caller keeps its last sample
    }
    return 0;
  }
}
