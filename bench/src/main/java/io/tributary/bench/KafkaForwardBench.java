package io.tributary.bench;

import io.tributary.testing.kafka.KafkaBroker;
import java.io.File;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Kafka to Kafka forwarding: the gateway against the plain-consumer ceiling and against Kafka
 * Streams, all in the same run, on the same broker and the same input (N records of 100 bytes in an
 * 8-partition topic), each contender in its own JVM with the same heap limit ({@value #CHILD_XMX}).
 *
 * <p>Contenders:
 *
 * <ol>
 *   <li>{@link KafkaPlainRead}: a plain {@code KafkaConsumer} poll loop reading the input (the
 *       ceiling: reading is all a forwarder must do);
 *   <li>the gateway ({@code java -jar tributary-gateway.jar run}), {@code kafka} direct source to
 *       the transactional {@code kafka} sink (exactly-once), {@code partitioning:
 *       source-partition};
 *   <li>the same with {@code kafka-at-least-once} (idempotent producer, no transactions);
 *   <li>{@link KafkaStreamsForward}: Kafka Streams, {@code builder.stream(in).to(out)} with {@code
 *       exactly_once_v2}.
 * </ol>
 *
 * <p>What is measured, the same way for every forwarder, by a watcher in this JVM: the time from
 * launching the process to the first output record a {@code read_committed} consumer receives; then
 * the output topic's last stable offsets (read_committed end offsets) every 20 ms, until they stop
 * moving; then a full {@code read_committed} count of the output topic (it must be N for
 * exactly-once). Records/s is the steady rate after the first committed output: (N - records
 * committed at the first output) / (time the output was complete - time of the first output), so
 * JVM start-up and the consumer-group join are outside it and reported separately as "launch to
 * first committed output". Peak RSS is the process's {@code VmHWM} from {@code /proc/<pid>/status},
 * sampled every 20 ms until it is stopped. The plain consumer reports the same figures itself
 * (first record read instead of first output).
 *
 * <p>Usage: {@code KafkaForwardBench <gateway-jar> [records=2000000]
 * [max-records-per-partition=50000] [batch-interval=200ms]}; see bench/kafka-bench.sh. Not a test:
 * it asserts nothing about speed.
 */
public final class KafkaForwardBench {
  static final String CHILD_XMX = "-Xmx1g";
  private static final int RECORD_SIZE = 100;
  private static final int PARTITIONS = 8;
  private static final long QUIET_NANOS = TimeUnit.SECONDS.toNanos(3);
  private static final Pattern RESULT =
      Pattern.compile(
          "result first-record-epoch-ms=(\\d+) first-poll-records=(\\d+) steady-seconds=([0-9.]+) records=(\\d+)"
              + " bytes=(\\d+) vmhwm-kb=(\\d+)");

  /**
   * Jars the child JVMs of the plain consumer and Kafka Streams need (not the broker's or
   * Hadoop's).
   */
  private static final Pattern CHILD_JARS =
      Pattern.compile(
          ".*/(kafka-clients|kafka-streams|rocksdbjni|slf4j-api|slf4j-simple|zstd-jni|lz4-java|snappy-java"
              + "|jackson-core|jackson-databind|jackson-annotations)-[^/]*\\.jar");

  private KafkaForwardBench() {}

  /** One contender's figures. */
  record Result(
      String name,
      long records,
      double steadyRecordsPerSecond,
      double firstOutputSeconds,
      double allOutputSeconds,
      long peakRssKb,
      long outputRecords,
      double cpuToFirstOutputSeconds,
      double cpuToAllOutputSeconds) {}

  /**
   * CPU seconds (user + system, every thread, those that ended too) {@code p} used so far, from
   * {@code /proc/<pid>/stat}; NaN when it cannot be read. On this shared machine a process's wall
   * time follows the other processes' load; its CPU time much less.
   */
  static double cpuSeconds(Process p) {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(p.pid()), "stat"));
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0;
    } catch (Exception e) {
      return Double.NaN;
    }
  }

  public static void main(String[] args) throws Exception {
    if (args.length < 1) {
      System.err.println(
          "usage: KafkaForwardBench <gateway-jar> [records=2000000] [max-records-per-partition=50000]"
              + " [batch-interval=200ms]");
      System.exit(2);
    }
    Path gatewayArg = Path.of(args[0]);
    int records = args.length > 1 ? Integer.parseInt(args[1]) : 2_000_000;
    long maxPerPartition = args.length > 2 ? Long.parseLong(args[2]) : 50_000;
    String batchInterval = args.length > 3 ? args[3] : "200ms";
    Path work = Files.createTempDirectory("tributary-kafka-bench");
    Path jar = gatewayLauncher(gatewayArg, work);
    System.out.println("gateway: " + jar);
    String loadBefore = Machine.loadAverage();
    try (KafkaBroker broker = KafkaBroker.start()) {
      broker.createTopic("bench-in", PARTITIONS);
      double writeSeconds = write(broker, "bench-in", records);
      double warmupSeconds = warmUpCoordinators(broker);
      System.out.printf(
          Locale.ROOT,
          "records=%d bytes/record=%d total=%.1f MB partitions=%d broker=%s batch-interval=%s"
              + " direct.max-records-per-partition=%d child heap %s (input written in %.2f s)%n",
          records,
          RECORD_SIZE,
          records * (double) RECORD_SIZE / 1e6,
          PARTITIONS,
          broker.kind(),
          batchInterval,
          maxPerPartition,
          CHILD_XMX,
          writeSeconds);
      System.out.printf(
          Locale.ROOT,
          "broker warm-up: transaction and group coordinators (and their internal topics) made ready"
              + " before any contender, in %.2f s%n",
          warmupSeconds);
      System.out.println("load average before: " + loadBefore);

      List<Result> results = new ArrayList<>();
      results.add(plainConsumer(broker, "bench-in", records));
      print(results.get(0), results.get(0));
      Result txnWrite = txnWrite(broker, records, maxPerPartition * PARTITIONS);
      print(txnWrite, results.get(0));
      results.add(
          gateway(
              jar, broker, work, "kafka", "", List.of(), records, maxPerPartition, batchInterval));
      print(results.get(1), results.get(0));
      results.add(
          gateway(
              jar,
              broker,
              work,
              "kafka-at-least-once",
              "",
              List.of(),
              records,
              maxPerPartition,
              batchInterval));
      print(results.get(2), results.get(0));
      results.add(streams(broker, work, records));
      print(results.get(3), results.get(0));
      String variant = System.getenv("BENCH_GATEWAY_VARIANT_OPTS");
      if (variant != null && !variant.isBlank()) {
        // exploration only: the exactly-once gateway once more with other JVM options, same run
        Result v =
            gateway(
                jar,
                broker,
                work,
                "kafka",
                "variant",
                Arrays.asList(variant.trim().split("\\s+")),
                records,
                maxPerPartition,
                batchInterval);
        print(v, results.get(0));
        results.add(v);
      }
      System.out.println("load average after: " + Machine.loadAverage());
      summary(results, records / writeSeconds, txnWrite);
    } finally {
      keepLogs(work);
      try (Stream<Path> walk = Files.walk(work)) {
        walk.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
      }
    }
  }

  private static void print(Result r, Result plain) {
    System.out.printf(
        Locale.ROOT,
        "measured: %s: %.0f records/s (%.2fx plain), first output %.2f s, all %.2f s,"
            + " peak RSS %d MB, output records %d, CPU s to first output %.2f, to all output"
            + " %.2f%n",
        r.name(),
        r.steadyRecordsPerSecond(),
        r.steadyRecordsPerSecond() / plain.steadyRecordsPerSecond(),
        r.firstOutputSeconds(),
        r.allOutputSeconds(),
        r.peakRssKb() / 1024,
        r.outputRecords(),
        r.cpuToFirstOutputSeconds(),
        r.cpuToAllOutputSeconds());
  }

  private static void summary(List<Result> results, double writeRate, Result txnWrite) {
    Result plain = results.get(0);
    Result eos = results.get(1);
    Result streams = results.get(3);
    System.out.println();
    String fmt = "%-52s %11s %9s %14s %13s %13s %12s %12s %10s%n";
    System.out.printf(
        Locale.ROOT,
        fmt,
        "contender",
        "records/s",
        "vs plain",
        "first output s",
        "all output s",
        "peak RSS MB",
        "out records",
        "CPU s first",
        "CPU s all");
    for (Result r : results) {
      System.out.printf(
          Locale.ROOT,
          fmt,
          r.name(),
          String.format(Locale.ROOT, "%.0f", r.steadyRecordsPerSecond()),
          String.format(
              Locale.ROOT, "%.2fx", r.steadyRecordsPerSecond() / plain.steadyRecordsPerSecond()),
          String.format(Locale.ROOT, "%.2f", r.firstOutputSeconds()),
          String.format(Locale.ROOT, "%.2f", r.allOutputSeconds()),
          Long.toString(r.peakRssKb() / 1024),
          Long.toString(r.outputRecords()),
          String.format(Locale.ROOT, "%.2f", r.cpuToFirstOutputSeconds()),
          String.format(Locale.ROOT, "%.2f", r.cpuToAllOutputSeconds()));
    }
    System.out.println(
        "(plain consumer: first output = first record read, out records = records read)");
    System.out.printf(
        Locale.ROOT,
        "write ceiling: the input writer (an idempotent producer, linger 20 ms, 256 KiB batches, no"
            + " reading) wrote %.0f records/s = %.2fx plain; a forwarder must also read and commit%n",
        writeRate,
        writeRate / plain.steadyRecordsPerSecond());
    System.out.printf(
        Locale.ROOT,
        "exactly-once write ceiling: a transactional producer alone (KafkaTxnWrite, its own JVM, the"
            + " sink's producer settings, nothing read) wrote %.0f records/s = %.2fx plain; the"
            + " exactly-once gateway forwarded at %.2fx of that%n",
        txnWrite.steadyRecordsPerSecond(),
        txnWrite.steadyRecordsPerSecond() / plain.steadyRecordsPerSecond(),
        eos.steadyRecordsPerSecond() / txnWrite.steadyRecordsPerSecond());
    System.out.println();
    double vsPlain = eos.steadyRecordsPerSecond() / plain.steadyRecordsPerSecond();
    double vsStreams = eos.steadyRecordsPerSecond() / streams.steadyRecordsPerSecond();
    System.out.printf(Locale.ROOT, TARGET_ROW, "target (issue 7)", "measured", "");
    target(
        "exactly-once forwarding >= 0.5x plain consumer",
        String.format(Locale.ROOT, "%.2fx", vsPlain),
        vsPlain >= 0.5);
    target(
        "exactly-once forwarding >= 1.5x Kafka Streams",
        String.format(Locale.ROOT, "%.2fx", vsStreams),
        vsStreams >= 1.5);
    target(
        "gateway EOS peak RSS < Kafka Streams peak RSS",
        String.format(
            Locale.ROOT, "%d MB vs %d MB", eos.peakRssKb() / 1024, streams.peakRssKb() / 1024),
        eos.peakRssKb() < streams.peakRssKb());
    target(
        "gateway EOS first committed output <= Kafka Streams'",
        String.format(
            Locale.ROOT,
            "%.2f s vs %.2f s",
            eos.firstOutputSeconds(),
            streams.firstOutputSeconds()),
        eos.firstOutputSeconds() <= streams.firstOutputSeconds());
    System.out.printf(
        Locale.ROOT,
        TARGET_ROW,
        "(not a target) CPU s to first committed output, EOS vs Streams",
        String.format(
            Locale.ROOT,
            "%.2f s vs %.2f s",
            eos.cpuToFirstOutputSeconds(),
            streams.cpuToFirstOutputSeconds()),
        "");
    target(
        "exactly-once: output records == input records (EOS, Streams)",
        eos.outputRecords() + ", " + streams.outputRecords() + " of " + eos.records(),
        eos.outputRecords() == eos.records() && streams.outputRecords() == streams.records());
  }

  private static final String TARGET_ROW = "%-62s %-34s %s%n";

  /** One row of the targets table: what, the figure, met or not. */
  private static void target(String what, String measured, boolean met) {
    System.out.printf(Locale.ROOT, TARGET_ROW, what, measured, met ? "met" : "NOT MET");
  }

  /**
   * The first transactional producer and the first consumer group on a fresh broker wait while it
   * creates {@code __transaction_state} and {@code __consumer_offsets} (50 partitions each):
   * whichever contender came first would pay for it. One committed transaction and one group offset
   * commit before the contenders run make every contender meet the same, ready broker. Returns the
   * seconds it took.
   */
  private static double warmUpCoordinators(KafkaBroker broker) {
    long t0 = System.nanoTime();
    broker.createTopic("bench-warmup", 1);
    Properties p = new Properties();
    p.put("bootstrap.servers", broker.bootstrapServers());
    p.put("transactional.id", "bench-warmup");
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
      producer.initTransactions();
      producer.beginTransaction();
      producer.send(new ProducerRecord<>("bench-warmup", 0, null, new byte[] {1}));
      producer.commitTransaction();
    }
    Properties c = new Properties();
    c.put("bootstrap.servers", broker.bootstrapServers());
    c.put("group.id", "bench-warmup");
    c.put("enable.auto.commit", "false");
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      TopicPartition tp = new TopicPartition("bench-warmup", 0);
      consumer.assign(List.of(tp));
      consumer.commitSync(
          Map.of(tp, new org.apache.kafka.clients.consumer.OffsetAndMetadata(0)),
          Duration.ofSeconds(60));
    }
    return (System.nanoTime() - t0) / 1e9;
  }

  /**
   * Copies the contenders' logs to bench/target/kafka-bench-logs/ (the work directory is deleted).
   */
  private static void keepLogs(Path work) {
    try (Stream<Path> files = Files.list(work)) {
      Path dest = Files.createDirectories(Path.of("bench", "target", "kafka-bench-logs"));
      for (Path f : files.filter(f -> f.toString().endsWith(".log")).toList()) {
        Files.copy(
            f, dest.resolve(f.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (Exception e) {
      System.err.println("could not keep the contenders' logs: " + e);
    }
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

  private static String childClasspath() {
    String own =
        Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
            .filter(e -> !e.endsWith(".jar") || CHILD_JARS.matcher(e).matches())
            .collect(Collectors.joining(File.pathSeparator));
    return own;
  }

  private static String java() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  private static final Pattern TXN_RESULT =
      Pattern.compile("result seconds=([0-9.]+) records=(\\d+) vmhwm-kb=(\\d+)");

  /**
   * The exactly-once write ceiling in its own JVM ({@link KafkaTxnWrite}): N records into a fresh
   * topic in transactions of {@code perTxn} records, the sink's producer settings.
   */
  private static Result txnWrite(KafkaBroker broker, int records, long perTxn) throws Exception {
    String topic = "bench-txn-write";
    broker.createTopic(topic, PARTITIONS);
    long launchMs = System.currentTimeMillis();
    Process p =
        new ProcessBuilder(
                java(),
                CHILD_XMX,
                "-cp",
                childClasspath(),
                KafkaTxnWrite.class.getName(),
                broker.bootstrapServers(),
                topic,
                Integer.toString(PARTITIONS),
                Integer.toString(records),
                Long.toString(perTxn),
                "bench-txn-write")
            .redirectErrorStream(true)
            .start();
    RssSampler rss = new RssSampler(p);
    String out = new String(p.getInputStream().readAllBytes());
    if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
      throw new IllegalStateException("transactional writer failed: " + out);
    }
    long endMs = System.currentTimeMillis();
    rss.stop();
    Matcher m = TXN_RESULT.matcher(out);
    if (!m.find()) {
      throw new IllegalStateException("unexpected transactional writer output: " + out);
    }
    double seconds = Double.parseDouble(m.group(1));
    return new Result(
        "transactional producer alone, writes only (ceiling)",
        records,
        Long.parseLong(m.group(2)) / seconds,
        Double.NaN,
        (endMs - launchMs) / 1e3,
        Math.max(rss.peakKb(), Long.parseLong(m.group(3))),
        Long.parseLong(m.group(2)),
        cpuSeconds(p),
        Double.NaN);
  }

  /** The plain consumer in its own JVM; it times itself (see {@link KafkaPlainRead}). */
  private static Result plainConsumer(KafkaBroker broker, String topic, int records)
      throws Exception {
    long launchMs = System.currentTimeMillis();
    Process p =
        new ProcessBuilder(
                java(),
                CHILD_XMX,
                "-cp",
                childClasspath(),
                KafkaPlainRead.class.getName(),
                broker.bootstrapServers(),
                topic,
                Integer.toString(PARTITIONS),
                Integer.toString(records))
            .redirectErrorStream(true)
            .start();
    RssSampler rss = new RssSampler(p);
    String out = new String(p.getInputStream().readAllBytes());
    if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
      throw new IllegalStateException("plain consumer failed: " + out);
    }
    long endMs = System.currentTimeMillis();
    rss.stop();
    Matcher m = RESULT.matcher(out);
    if (!m.find()) {
      throw new IllegalStateException("unexpected plain consumer output: " + out);
    }
    long bytes = Long.parseLong(m.group(5));
    if (bytes != (long) records * RECORD_SIZE) {
      throw new IllegalStateException(
          "plain consumer read " + bytes + " bytes, expected " + (long) records * RECORD_SIZE);
    }
    long firstPoll = Long.parseLong(m.group(2));
    double steady = Double.parseDouble(m.group(3));
    return new Result(
        "plain KafkaConsumer poll loop (ceiling)",
        records,
        (records - firstPoll) / steady,
        (Long.parseLong(m.group(1)) - launchMs) / 1e3,
        (endMs - launchMs) / 1e3,
        Math.max(rss.peakKb(), Long.parseLong(m.group(6))),
        Long.parseLong(m.group(4)),
        Double.NaN,
        Double.NaN);
  }

  private static Result gateway(
      Path jar,
      KafkaBroker broker,
      Path work,
      String sinkType,
      String variant,
      List<String> variantOpts,
      int records,
      long maxPerPartition,
      String batchInterval)
      throws Exception {
    String id = variant.isEmpty() ? sinkType : sinkType + "-" + variant;
    String out = "bench-out-" + id;
    int adminPort;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      adminPort = s.getLocalPort();
    }
    Path config = work.resolve(id + ".yaml");
    Files.writeString(
        config,
        String.join(
            "\n",
            "pipelines:",
            "  - id: bench-" + id,
            "    settings:",
            "      batch-interval: " + batchInterval,
            "      direct.max-records-per-partition: " + maxPerPartition,
            "    checkpoint: " + work.resolve("checkpoint-" + id),
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
    Path log = work.resolve(id + ".log");
    String name =
        "kafka".equals(sinkType)
            ? "gateway kafka -> kafka, exactly-once"
            : "gateway kafka -> " + sinkType;
    if (!variantOpts.isEmpty()) {
      name += " " + String.join(" ", variantOpts);
    }
    return forwarder(name, broker, out, records, log, gatewayCommand(jar, config, variantOpts));
  }

  /**
   * {@code java -Xmx1g [BENCH_GATEWAY_JAVA_OPTS] [variant options] -jar gateway.jar run --config
   * FILE}; the extra options (for example {@code -Xlog:gc}, or a JFR recording in the extra run
   * that {@code BENCH_GATEWAY_VARIANT_OPTS} adds) are for looking into a run, never for the
   * figures.
   */
  private static ProcessBuilder gatewayCommand(Path jar, Path config, List<String> variantOpts) {
    List<String> opts = new ArrayList<>(List.of(CHILD_XMX));
    String extra = System.getenv("BENCH_GATEWAY_JAVA_OPTS");
    if (extra != null && !extra.isBlank()) {
      opts.addAll(Arrays.asList(extra.trim().split("\\s+")));
    }
    opts.addAll(variantOpts);
    if (Files.isExecutable(jar) && !jar.toString().endsWith(".jar")) {
      // the distribution's launcher: its default JVM options, then ours (TRIBUTARY_JAVA_OPTS)
      ProcessBuilder pb = new ProcessBuilder(jar.toString(), "run", "--config", config.toString());
      pb.environment().put("TRIBUTARY_JAVA_OPTS", String.join(" ", opts));
      pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
      return pb;
    }
    List<String> cmd = new ArrayList<>(List.of(java()));
    cmd.addAll(opts);
    cmd.addAll(List.of("-jar", jar.toString(), "run", "--config", config.toString()));
    return new ProcessBuilder(cmd);
  }

  /**
   * The gateway to run: {@code arg} itself when it is a jar ({@code java -jar}), else the
   * distribution archive {@code tributary-gateway-*-dist.tar.gz} unpacked into {@code work}, whose
   * {@code bin/tributary} launcher is returned (the way a user runs the gateway, with the
   * launcher's default JVM options).
   */
  static Path gatewayLauncher(Path arg, Path work) throws Exception {
    if (!arg.toString().endsWith(".tar.gz")) {
      return arg;
    }
    Path dest = Files.createDirectories(work.resolve("dist"));
    Process tar =
        new ProcessBuilder("tar", "xzf", arg.toString(), "-C", dest.toString())
            .redirectErrorStream(true)
            .start();
    String out = new String(tar.getInputStream().readAllBytes());
    if (tar.waitFor() != 0) {
      throw new IllegalStateException("could not unpack " + arg + ": " + out);
    }
    try (Stream<Path> dirs = Files.list(dest)) {
      Path home = dirs.findFirst().orElseThrow();
      return home.resolve("bin").resolve("tributary");
    }
  }

  private static Result streams(KafkaBroker broker, Path work, int records) throws Exception {
    String out = "bench-out-streams";
    return forwarder(
        "Kafka Streams stream(in).to(out), exactly_once_v2",
        broker,
        out,
        records,
        work.resolve("streams.log"),
        new ProcessBuilder(
            java(),
            CHILD_XMX,
            "-cp",
            childClasspath(),
            KafkaStreamsForward.class.getName(),
            broker.bootstrapServers(),
            "bench-in",
            out,
            "bench-streams",
            work.resolve("streams-state").toString()));
  }

  /**
   * Launches a forwarder writing {@code out} and watches that topic as a {@code read_committed}
   * consumer: first output record, then last stable offsets until the output is complete and
   * verified by a full count.
   */
  private static Result forwarder(
      String name, KafkaBroker broker, String out, int records, Path log, ProcessBuilder command)
      throws Exception {
    broker.createTopic(out, PARTITIONS);
    List<TopicPartition> tps = new ArrayList<>();
    for (int i = 0; i < PARTITIONS; i++) {
      tps.add(new TopicPartition(out, i));
    }
    try (KafkaConsumer<byte[], byte[]> watch = readCommitted(broker)) {
      watch.assign(tps);
      watch.seekToBeginning(tps);
      watch.poll(
          Duration
              .ZERO); // connect and find the coordinator-free assignment before the clock starts
      long launch = System.nanoTime();
      java.time.Instant launchedAt = java.time.Instant.now();
      Process p = command.redirectErrorStream(true).redirectOutput(log.toFile()).start();
      RssSampler rss = new RssSampler(p);
      try {
        long deadline = launch + TimeUnit.MINUTES.toNanos(10);
        long first = 0;
        double cpuFirst = Double.NaN;
        while (first == 0) {
          check(p, deadline, name, log);
          ConsumerRecords<byte[], byte[]> got = watch.poll(Duration.ofMillis(20));
          if (!got.isEmpty()) {
            first = System.nanoTime();
            cpuFirst = cpuSeconds(p);
            // where that CPU went, by live thread (kernel names, 15 characters: JIT compiler and GC
            // threads too, which a JFR execution sample never shows)
            ThreadCpu.of(p.pid())
                .printSince(ThreadCpu.none(), (System.nanoTime() - launch) / 1e9, 8, Map.of());
            // for reading the contender's log against the measurement (its lines carry wall-clock
            // times)
            System.out.println(
                name
                    + ": launched "
                    + launchedAt
                    + ", first committed output seen "
                    + java.time.Instant.now());
          }
        }
        watch.pause(tps);
        // (time, last stable offsets summed over partitions); the sum counts transaction markers
        // too, so it only
        // tells when the output stops moving; the full count below says how many records it holds
        List<long[]> samples = new ArrayList<>();
        long lastChange = 0;
        long lastSum = -1;
        while (true) {
          check(p, deadline, name, log);
          long sum = sum(watch.endOffsets(tps));
          long now = System.nanoTime();
          samples.add(new long[] {now, sum});
          if (sum != lastSum) {
            lastSum = sum;
            lastChange = now;
          } else if (sum >= records && now - lastChange > QUIET_NANOS) {
            double cpuAtDone = cpuSeconds(p); // includes the quiet period's idle polling
            long count = countCommitted(broker, tps);
            if (count >= records) {
              long complete = sum;
              long done =
                  samples.stream().filter(s -> s[1] >= complete).findFirst().orElseThrow()[0];
              long[] firstSample = samples.get(0);
              // records visible at the first sample: its LSO sum (which also counts one transaction
              // marker per
              // partition and committed transaction: a few records at most)
              long atFirst = Math.min(records, firstSample[1]);
              double steady = (records - atFirst) / ((done - firstSample[0]) / 1e9);
              if (atFirst * 10 > records * 9L) {
                steady = records / ((done - launch) / 1e9);
                System.out.println(
                    "warning: "
                        + name
                        + " committed "
                        + atFirst
                        + " of "
                        + records
                        + " records in its first output; its records/s is from launch instead (use more records)");
              } else if (atFirst * 2 > records) {
                System.out.println(
                    "warning: "
                        + name
                        + " committed "
                        + atFirst
                        + " of "
                        + records
                        + " records in its first output; its rate covers the rest only (use more records)");
              }
              return new Result(
                  name,
                  records,
                  steady,
                  (first - launch) / 1e9,
                  (done - launch) / 1e9,
                  rss.peakKb(),
                  count,
                  cpuFirst,
                  cpuAtDone);
            }
            lastChange = now; // not complete yet: wait for more movement or another quiet period
          }
          TimeUnit.MILLISECONDS.sleep(20); // sampling interval of the measurement
        }
      } finally {
        rss.stop();
        p.destroy();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
          p.destroyForcibly();
        }
      }
    }
  }

  private static void check(Process p, long deadline, String name, Path log) {
    if (!p.isAlive()) {
      throw new IllegalStateException(name + " exited with " + p.exitValue() + "; log: " + log);
    }
    if (System.nanoTime() > deadline) {
      throw new IllegalStateException(name + " did not complete in 10 minutes; log: " + log);
    }
  }

  private static long sum(Map<TopicPartition, Long> offsets) {
    return offsets.values().stream().mapToLong(Long::longValue).sum();
  }

  private static KafkaConsumer<byte[], byte[]> readCommitted(KafkaBroker broker) {
    Properties p = new Properties();
    p.put("bootstrap.servers", broker.bootstrapServers());
    p.put("isolation.level", "read_committed");
    p.put("max.poll.records", "10000");
    return new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
  }

  /**
   * Records a {@code read_committed} consumer sees in {@code tps} from the beginning to the last
   * stable offsets.
   */
  private static long countCommitted(KafkaBroker broker, List<TopicPartition> tps) {
    try (KafkaConsumer<byte[], byte[]> c = readCommitted(broker)) {
      c.assign(tps);
      c.seekToBeginning(tps);
      Map<TopicPartition, Long> end = c.endOffsets(tps);
      long count = 0;
      while (tps.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
        count += c.poll(Duration.ofMillis(200)).count();
      }
      return count;
    }
  }

  /** Samples a process's peak RSS ({@code VmHWM}) every 20 ms on a daemon thread until stopped. */
  static final class RssSampler {
    private final AtomicLong peakKb = new AtomicLong();
    private final Path status;
    private final Thread thread;
    private volatile boolean stopped;

    RssSampler(Process p) {
      status = Path.of("/proc", Long.toString(p.pid()), "status");
      thread =
          new Thread(
              () -> {
                while (!stopped && p.isAlive()) {
                  peakKb.accumulateAndGet(KafkaPlainRead.vmHwmKb(status), Math::max);
                  try {
                    TimeUnit.MILLISECONDS.sleep(20);
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                  }
                }
              },
              "bench-rss-sampler");
      thread.setDaemon(true);
      thread.start();
    }

    /** Stops sampling after one last sample (call before the process is stopped). */
    void stop() throws InterruptedException {
      stopped = true;
      thread.join();
      peakKb.accumulateAndGet(KafkaPlainRead.vmHwmKb(status), Math::max);
    }

    long peakKb() {
      return peakKb.get();
    }
  }
}
