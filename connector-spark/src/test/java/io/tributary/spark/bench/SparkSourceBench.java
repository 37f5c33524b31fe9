package io.tributary.spark.bench;

import io.tributary.testing.kafka.KafkaBroker;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.apache.spark.sql.streaming.StreamingQueryProgress;
import org.apache.spark.sql.streaming.Trigger;

/**
 * Not a test: Spark's own sources against the Tributary ones inside the same local[2] Spark
 * session, printed as ratios (run with {@code bench/spark-bench.sh}).
 *
 * <ol>
 *   <li>files: a directory with 1,000 / 10,000 / 100,000 old files; per cycle 10 new files appear
 *       and the query's next micro-batch must find them. Per micro-batch, the {@code latestOffset}
 *       time of the query progress (the source finding what is new: Spark's file source lists the
 *       directory and checks its seen-files map; the Tributary files source runs its listing cycle)
 *       and the whole trigger. Spark's query first reads the old files (not measured); the
 *       Tributary one starts with {@code include-existing false}, so both have N old files in the
 *       directory and find the same new ones.
 *   <li>kafka: one topic of R records of 100 bytes (2 partitions) read to its end with {@code
 *       Trigger.AvailableNow} into the {@code noop} sink, by Spark's Kafka source and by the
 *       Tributary kafka source, alternating, best of the runs.
 * </ol>
 *
 * Arguments: {@code counts} (e.g. 1000,10000,100000), {@code cycles}, {@code records}, {@code
 * runs}, work directory.
 */
public final class SparkSourceBench {
  private SparkSourceBench() {}

  public static void main(String[] args) throws Exception {
    if (args.length > 0 && args[0].equals("kafka-child")) {
      kafkaChild(args);
      return;
    }
    String counts = args.length > 0 ? args[0] : "1000,10000,100000";
    int cycles = args.length > 1 ? Integer.parseInt(args[1]) : 10;
    int records = args.length > 2 ? Integer.parseInt(args[2]) : 1_000_000;
    int runs = args.length > 3 ? Integer.parseInt(args[3]) : 2;
    Path work = Path.of(args.length > 4 ? args[4] : "connector-spark/target/spark-bench");
    Files.createDirectories(work);
    SparkSession spark =
        SparkSession.builder()
            .master("local[2]")
            .appName("tributary-spark-bench")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "2")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .getOrCreate();
    spark.sparkContext().setLogLevel("WARN");
    System.out.println("machine: " + Runtime.getRuntime().availableProcessors() + " cores");

    List<String> lines = new ArrayList<>();
    lines.add(
        "| old files | Spark file source: latestOffset ms (median) | Tributary files:"
            + " latestOffset ms (median) | ratio Tributary/Spark | Spark trigger ms | Tributary"
            + " trigger ms |");
    lines.add("| ---: | ---: | ---: | ---: | ---: | ---: |");
    for (String c : counts.split(",")) {
      int n = Integer.parseInt(c.trim());
      Path dir = work.resolve("files-" + n);
      createOldFiles(dir, n);
      double[] s = filesCycles(spark, "spark", dir, work.resolve("cp-spark-" + n), cycles);
      double[] t = filesCycles(spark, "tributary", dir, work.resolve("cp-trib-" + n), cycles);
      lines.add(
          String.format(
              Locale.ROOT,
              "| %,d | %.0f | %.0f | %.2f | %.0f | %.0f |",
              n,
              s[0],
              t[0],
              t[0] / Math.max(1, s[0]),
              s[1],
              t[1]));
      System.out.println(lines.get(lines.size() - 1));
    }

    List<String> kafkaLines = new ArrayList<>();
    if (records > 0) {
      try (KafkaBroker broker = KafkaBroker.start()) {
        String topic = "bench-" + System.nanoTime();
        broker.createTopic(topic, 2);
        produce(broker.bootstrapServers(), topic, records);
        spark.stop(); // each Kafka case runs in a JVM of its own (below)
        long bestSpark = Long.MAX_VALUE;
        long bestTrib = Long.MAX_VALUE;
        for (int r = 0; r < runs; r++) {
          bestSpark = Math.min(bestSpark, kafkaChildRun("spark", broker, topic, records, work));
          bestTrib = Math.min(bestTrib, kafkaChildRun("tributary", broker, topic, records, work));
        }
        kafkaLines.add(
            "| records | Spark Kafka source ms | Tributary kafka ms | Spark rec/s | Tributary rec/s |"
                + " ratio Tributary/Spark (time) |");
        kafkaLines.add("| ---: | ---: | ---: | ---: | ---: | ---: |");
        kafkaLines.add(
            String.format(
                Locale.ROOT,
                "| %,d | %,d | %,d | %,.0f | %,.0f | %.2f |",
                records,
                bestSpark,
                bestTrib,
                records * 1000.0 / bestSpark,
                records * 1000.0 / bestTrib,
                (double) bestTrib / bestSpark));
      }
    }
    System.out.println();
    System.out.println(
        "New-file discovery per micro-batch (" + cycles + " cycles of 10 new files each):");
    lines.forEach(System.out::println);
    if (!kafkaLines.isEmpty()) {
      System.out.println();
      System.out.println(
          "Kafka topic read to its end (AvailableNow, noop sink, best of " + runs + "):");
      kafkaLines.forEach(System.out::println);
    }
    spark.stop();
  }

  /**
   * The kafka-clients version Spark 4.0's Kafka source is built for (4.x removed APIs it calls).
   */
  static final String SPARK_KAFKA_CLIENTS = "3.9.0";

  /**
   * Runs one Kafka case in a child JVM: Spark's Kafka source cannot run on the project's
   * kafka-clients 4 (it calls methods 4.0 removed), so its JVM gets kafka-clients {@value
   * #SPARK_KAFKA_CLIENTS} instead; the Tributary source's JVM keeps the project's class path.
   */
  private static long kafkaChildRun(
      String which, KafkaBroker broker, String topic, int records, Path work) throws Exception {
    String cp = System.getProperty("java.class.path");
    if (which.equals("spark")) {
      java.util.regex.Matcher m =
          java.util.regex.Pattern.compile("([^:]*)/kafka-clients/([^/:]+)/kafka-clients-\\2\\.jar")
              .matcher(cp);
      if (!m.find()) {
        throw new IllegalStateException("no kafka-clients jar on the class path");
      }
      Path jar =
          Path.of(
              m.group(1),
              "kafka-clients",
              SPARK_KAFKA_CLIENTS,
              "kafka-clients-" + SPARK_KAFKA_CLIENTS + ".jar");
      if (!Files.exists(jar)) {
        throw new IllegalStateException(
            jar
                + " is missing: mvn dependency:get -Dartifact=org.apache.kafka:kafka-clients:"
                + SPARK_KAFKA_CLIENTS);
      }
      cp = cp.replace(m.group(), jar.toString());
    }
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments());
    cmd.add("-cp");
    cmd.add(cp);
    cmd.add(SparkSourceBench.class.getName());
    cmd.add("kafka-child");
    cmd.add(which);
    cmd.add(broker.bootstrapServers());
    cmd.add(topic);
    cmd.add(Integer.toString(records));
    cmd.add(work.toString());
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    long result = -1;
    try (var r =
        new java.io.BufferedReader(
            new java.io.InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        if (line.startsWith("RESULT ")) {
          result = Long.parseLong(line.substring(7).trim());
        } else if (!line.contains(" INFO ") && !line.contains(" WARN ")) {
          System.out.println("  [" + which + "] " + line);
        }
      }
    }
    if (p.waitFor() != 0 || result < 0) {
      throw new IllegalStateException("the " + which + " Kafka run failed");
    }
    System.out.println("kafka " + which + ": " + result + " ms for " + records + " records");
    return result;
  }

  /**
   * In the child JVM: a local[2] session, the query twice (the first warms up), the second timed.
   */
  private static void kafkaChild(String[] args) throws Exception {
    SparkSession spark =
        SparkSession.builder()
            .master("local[2]")
            .appName("tributary-spark-bench-kafka")
            .config("spark.ui.enabled", "false")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .getOrCreate();
    spark.sparkContext().setLogLevel("WARN");
    String which = args[1];
    int records = Integer.parseInt(args[4]);
    Path work = Path.of(args[5]);
    kafkaRun(spark, which, args[2], args[3], records, work);
    long ms = kafkaRun(spark, which, args[2], args[3], records, work);
    System.out.println("RESULT " + ms);
    spark.stop();
  }

  private static void createOldFiles(Path dir, int n) throws Exception {
    Files.createDirectories(dir);
    try (var s = Files.list(dir)) {
      if (s.count() >= n) {
        return; // made by an earlier run
      }
    }
    FileTime old = FileTime.from(Instant.now().minusSeconds(3600));
    for (int i = 0; i < n; i++) {
      Path f = dir.resolve(String.format("old-%07d.txt", i));
      Files.writeString(f, "old line " + i + "\n", StandardCharsets.UTF_8);
      Files.setLastModifiedTime(f, old);
    }
  }

  /** Median latestOffset ms and median trigger ms of the micro-batches that found new files. */
  private static double[] filesCycles(
      SparkSession spark, String which, Path dir, Path cp, int cycles) throws Exception {
    deleteRecursively(cp);
    Dataset<Row> df;
    if (which.equals("spark")) {
      df = spark.readStream().format("text").load(dir.toString());
    } else {
      df =
          spark
              .readStream()
              .format("tributary")
              .option("source.type", "files")
              .option("paths", dir.toString())
              .option("include-existing", "false")
              .option("stable-for", "0s")
              .load();
    }
    StreamingQuery q =
        df.writeStream()
            .format("noop")
            .option("checkpointLocation", cp.toString())
            .trigger(Trigger.ProcessingTime(0))
            .start();
    q.processAllAvailable(); // Spark's file source reads the old files here: not measured
    int before = q.recentProgress().length;
    for (int c = 0; c < cycles; c++) {
      for (int i = 0; i < 10; i++) {
        Files.writeString(
            dir.resolve(String.format("new-%s-%d-%d-%d.txt", which, System.nanoTime(), c, i)),
            "new line\n",
            StandardCharsets.UTF_8);
      }
      q.processAllAvailable();
    }
    List<Double> latest = new ArrayList<>();
    List<Double> trigger = new ArrayList<>();
    StreamingQueryProgress[] all = q.recentProgress();
    for (int i = Math.max(0, before); i < all.length; i++) {
      StreamingQueryProgress p = all[i];
      if (p.numInputRows() > 0) {
        Map<String, Long> d = p.durationMs();
        latest.add(d.getOrDefault("latestOffset", 0L).doubleValue());
        trigger.add(d.getOrDefault("triggerExecution", 0L).doubleValue());
      }
    }
    q.stop();
    // the new files are deleted so that every source and count starts from N old files
    try (var s = Files.list(dir)) {
      for (Path f : s.filter(f -> f.getFileName().toString().startsWith("new-")).toList()) {
        Files.delete(f);
      }
    }
    return new double[] {median(latest), median(trigger)};
  }

  private static long kafkaRun(
      SparkSession spark, String which, String bootstrap, String topic, int records, Path work)
      throws Exception {
    Path cp = work.resolve("cp-kafka-" + which);
    deleteRecursively(cp);
    Dataset<Row> df;
    if (which.equals("spark")) {
      df =
          spark
              .readStream()
              .format("kafka")
              .option("kafka.bootstrap.servers", bootstrap)
              .option("subscribe", topic)
              .option("startingOffsets", "earliest")
              .load();
    } else {
      df =
          spark
              .readStream()
              .format("tributary")
              .option("source.type", "kafka")
              .option("bootstrap-servers", bootstrap)
              .option("topics", topic)
              .option("starting-position", "earliest")
              .load();
    }
    long start = System.nanoTime();
    StreamingQuery q =
        df.writeStream()
            .format("noop")
            .option("checkpointLocation", cp.toString())
            .trigger(Trigger.AvailableNow())
            .start();
    q.awaitTermination();
    long ms = (System.nanoTime() - start) / 1_000_000;
    long rows = 0;
    for (StreamingQueryProgress p : q.recentProgress()) {
      rows += p.numInputRows();
    }
    if (q.exception().isDefined()) {
      throw new IllegalStateException(which + " failed", q.exception().get());
    }
    if (rows != records) {
      throw new IllegalStateException(which + " read " + rows + " rows, expected " + records);
    }
    return ms;
  }

  private static void produce(String bootstrap, String topic, int records) {
    byte[] value = "x".repeat(100).getBytes(StandardCharsets.UTF_8);
    try (KafkaProducer<byte[], byte[]> p =
        new KafkaProducer<>(
            Map.of(
                "bootstrap.servers", bootstrap,
                "acks", "all",
                "linger.ms", "20",
                "batch.size", "262144"),
            new ByteArraySerializer(),
            new ByteArraySerializer())) {
      for (int i = 0; i < records; i++) {
        p.send(new ProducerRecord<>(topic, i % 2, null, value));
      }
      p.flush();
    }
  }

  private static double median(List<Double> xs) {
    if (xs.isEmpty()) {
      return Double.NaN;
    }
    List<Double> s = new ArrayList<>(xs);
    Collections.sort(s);
    return s.get(s.size() / 2);
  }

  private static void deleteRecursively(Path p) throws Exception {
    if (!Files.exists(p)) {
      return;
    }
    try (var s = Files.walk(p)) {
      for (Path f : s.sorted(Collections.reverseOrder()).toList()) {
        Files.delete(f);
      }
    }
  }
}
