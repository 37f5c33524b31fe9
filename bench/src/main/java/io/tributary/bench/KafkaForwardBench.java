package io.tributary.bench;

import io.tributary.testing.kafka.KafkaBroker;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Kafka to Kafka forwarding throughput of the gateway, 100-byte records, next to the ceiling measured in the same run
 * on the same broker: a plain {@link KafkaConsumer} poll loop reading the same input topic ({@code read_committed},
 * {@code max.poll.records} 2000 like the source's default, no processing).
 *
 * <p>Cases: the gateway ({@code java -jar tributary-gateway.jar run}) with source {@code kafka} (direct) and sink
 * {@code kafka} (transactional, exactly-once) or {@code kafka-at-least-once} (idempotent producer), both with
 * {@code partitioning: source-partition}. Gateway timing runs from the first answer of its admin {@code /status}
 * (pipelines are running by then; JVM start-up is outside) until {@code recordsOut} reaches N, i.e. every record is
 * written and its batch committed (Kafka transaction and checkpoint). The broker is {@link KafkaBroker#start()}: a local
 * KRaft broker in a child JVM on this machine unless {@code -Dtributary.kafka.broker=docker}.
 *
 * <p>Usage: {@code KafkaForwardBench <gateway-jar> [records=2000000] [max-records-per-partition=50000]
 * [batch-interval=200ms]}; see bench/kafka-bench.sh. Not a test: it asserts nothing about speed.
 */
public final class KafkaForwardBench {
  private static final int RECORD_SIZE = 100;
  private static final int PARTITIONS = 8;
  private static final Pattern RECORDS_OUT = Pattern.compile("\"recordsOut\":(\\d+)");

  private KafkaForwardBench() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 1) {
      System.err.println("usage: KafkaForwardBench <gateway-jar> [records=2000000] [max-records-per-partition=50000]"
          + " [batch-interval=200ms]");
      System.exit(2);
    }
    Path jar = Path.of(args[0]);
    int records = args.length > 1 ? Integer.parseInt(args[1]) : 2_000_000;
    long maxPerPartition = args.length > 2 ? Long.parseLong(args[2]) : 50_000;
    String batchInterval = args.length > 3 ? args[3] : "200ms";
    Path work = Files.createTempDirectory("tributary-kafka-bench");
    try (KafkaBroker broker = KafkaBroker.start()) {
      broker.createTopic("bench-in", PARTITIONS);
      double writeSeconds = write(broker, "bench-in", records);
      System.out.printf(Locale.ROOT,
          "records=%d bytes/record=%d total=%.1f MB partitions=%d broker=%s batch-interval=%s"
              + " direct.max-records-per-partition=%d (input written in %.2f s)%n",
          records, RECORD_SIZE, records * (double) RECORD_SIZE / 1e6, PARTITIONS, broker.kind(), batchInterval,
          maxPerPartition, writeSeconds);

      List<String[]> rows = new ArrayList<>();
      double ceiling = plainConsumer(broker, "bench-in", records);
      rows.add(row("plain KafkaConsumer poll loop (ceiling)", records, ceiling, ceiling));
      double eo = gateway(jar, broker, work, "kafka", records, maxPerPartition, batchInterval);
      rows.add(row("gateway kafka -> kafka, exactly-once", records, eo, ceiling));
      double alo = gateway(jar, broker, work, "kafka-at-least-once", records, maxPerPartition, batchInterval);
      rows.add(row("gateway kafka -> kafka-at-least-once", records, alo, ceiling));

      System.out.printf(Locale.ROOT, "%-45s %9s %12s %8s %12s%n", "case", "seconds", "records/s", "MB/s",
          "vs ceiling");
      for (String[] r : rows) {
        System.out.printf(Locale.ROOT, "%-45s %9s %12s %8s %12s%n", (Object[]) r);
      }
    } finally {
      try (Stream<Path> walk = Files.walk(work)) {
        walk.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
      }
    }
  }

  private static String[] row(String name, int records, double seconds, double ceiling) {
    return new String[] {
      name,
      String.format(Locale.ROOT, "%.2f", seconds),
      String.format(Locale.ROOT, "%.0f", records / seconds),
      String.format(Locale.ROOT, "%.1f", records * (double) RECORD_SIZE / seconds / 1e6),
      String.format(Locale.ROOT, "%.2fx", ceiling / seconds)
    };
  }

  private static double write(KafkaBroker broker, String topic, int records) {
    Properties p = new Properties();
    p.put("bootstrap.servers", broker.bootstrapServers());
    p.put("enable.idempotence", "true");
    p.put("acks", "all");
    p.put("linger.ms", "20");
    p.put("batch.size", Integer.toString(256 * 1024));
    p.put("buffer.memory", Long.toString(64L * 1024 * 1024));
    byte[] value = new byte[RECORD_SIZE];
    Arrays.fill(value, (byte) 'x');
    long t0 = System.nanoTime();
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
      for (int i = 0; i < records; i++) {
        producer.send(new ProducerRecord<>(topic, i % PARTITIONS, null, value));
      }
      producer.flush();
    }
    return (System.nanoTime() - t0) / 1e9;
  }

  /** Seconds for a plain consumer to read every record of {@code topic} from the beginning. */
  private static double plainConsumer(KafkaBroker broker, String topic, int records) {
    Properties p = new Properties();
    p.put("bootstrap.servers", broker.bootstrapServers());
    p.put("isolation.level", "read_committed");
    p.put("max.poll.records", "2000");
    try (KafkaConsumer<byte[], byte[]> c =
        new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> tps = new ArrayList<>();
      for (int i = 0; i < PARTITIONS; i++) {
        tps.add(new TopicPartition(topic, i));
      }
      c.assign(tps);
      c.seekToBeginning(tps);
      long count = 0;
      long bytes = 0;
      long t0 = System.nanoTime();
      while (count < records) {
        ConsumerRecords<byte[], byte[]> batch = c.poll(Duration.ofMillis(500));
        count += batch.count();
        for (var r : batch) {
          bytes += r.value().length;
        }
      }
      double seconds = (System.nanoTime() - t0) / 1e9;
      if (bytes != (long) records * RECORD_SIZE) {
        throw new IllegalStateException("plain consumer read " + bytes + " bytes, expected "
            + (long) records * RECORD_SIZE);
      }
      return seconds;
    }
  }

  /** Seconds from the gateway's first /status answer until it reports {@code records} written and committed. */
  private static double gateway(Path jar, KafkaBroker broker, Path work, String sinkType, int records,
      long maxPerPartition, String batchInterval) throws Exception {
    String out = "bench-out-" + sinkType;
    broker.createTopic(out, PARTITIONS);
    int adminPort;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      adminPort = s.getLocalPort();
    }
    Path config = work.resolve(sinkType + ".yaml");
    Files.writeString(config, String.join("\n",
        "pipelines:",
        "  - id: bench-" + sinkType,
        "    settings:",
        "      batch-interval: " + batchInterval,
        "      direct.max-records-per-partition: " + maxPerPartition,
        "    checkpoint: " + work.resolve("checkpoint-" + sinkType),
        "    source:",
        "      type: kafka",
        "      bootstrap-servers: " + broker.bootstrapServers(),
        "      topics: [bench-in]",
        "      starting-position: earliest",
        "    sinks:",
        "      - type: " + sinkType,
        "        bootstrap-servers: " + broker.bootstrapServers(),
        "        topic: " + out,
        "        partitioning: source-partition",
        "admin: { host: 127.0.0.1, port: " + adminPort + " }",
        ""));
    Path log = work.resolve(sinkType + ".log");
    Process gw = new ProcessBuilder(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx1g", "-jar", jar.toString(),
            "run", "--config", config.toString())
        .redirectErrorStream(true)
        .redirectOutput(log.toFile())
        .start();
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(500)).build();
    HttpRequest status = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + "/status")).build();
    try {
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
      long t0 = 0;
      long c0 = 0;
      while (System.nanoTime() < deadline) {
        if (!gw.isAlive()) {
          throw new IllegalStateException("gateway exited with " + gw.exitValue() + "; log: " + log);
        }
        long out0;
        try {
          HttpResponse<String> r = http.send(status, HttpResponse.BodyHandlers.ofString());
          Matcher m = RECORDS_OUT.matcher(r.body());
          if (!m.find()) {
            throw new IllegalStateException("unexpected /status answer: " + r.body());
          }
          out0 = Long.parseLong(m.group(1));
        } catch (IOException e) {
          // admin endpoint not up yet: the gateway is still starting; wait for the process a little
          gw.waitFor(20, TimeUnit.MILLISECONDS);
          continue;
        }
        long now = System.nanoTime();
        if (t0 == 0) {
          t0 = now;
          c0 = out0;
        }
        if (out0 >= records) {
          if (out0 != records) {
            throw new IllegalStateException("gateway wrote " + out0 + " records, expected " + records);
          }
          if (c0 * 2 > records) {
            throw new IllegalStateException("the gateway had forwarded " + c0 + " of " + records + " records before"
                + " its first /status answer: too few records for a measurement (use more)");
          }
          // Seconds for all records at the rate measured over what was forwarded after the first answer.
          return (now - t0) / 1e9 * records / (double) (records - c0);
        }
        gw.waitFor(20, TimeUnit.MILLISECONDS);
      }
      throw new IllegalStateException("gateway did not forward " + records + " records in 10 minutes; log: " + log);
    } finally {
      gw.destroy();
      if (!gw.waitFor(60, TimeUnit.SECONDS)) {
        gw.destroyForcibly();
      }
    }
  }
}
