package io.tributary.connector.kinesis;

import io.tributary.connector.kinesis.internal.KclClients;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.GetRecordsResponse;
import software.amazon.awssdk.services.kinesis.model.PutRecordsRequestEntry;
import software.amazon.awssdk.services.kinesis.model.PutRecordsResponse;
import software.amazon.awssdk.services.kinesis.model.Shard;
import software.amazon.awssdk.services.kinesis.model.ShardIteratorType;
import software.amazon.kinesis.common.ConfigsBuilder;
import software.amazon.kinesis.common.InitialPositionInStream;
import software.amazon.kinesis.common.InitialPositionInStreamExtended;
import software.amazon.kinesis.coordinator.Scheduler;
import software.amazon.kinesis.lifecycle.events.InitializationInput;
import software.amazon.kinesis.lifecycle.events.LeaseLostInput;
import software.amazon.kinesis.lifecycle.events.ProcessRecordsInput;
import software.amazon.kinesis.lifecycle.events.ShardEndedInput;
import software.amazon.kinesis.lifecycle.events.ShutdownRequestedInput;
import software.amazon.kinesis.metrics.NullMetricsFactory;
import software.amazon.kinesis.processor.ShardRecordProcessor;
import software.amazon.kinesis.retrieval.KinesisClientRecord;
import software.amazon.kinesis.retrieval.polling.PollingConfig;

/**
 * The peers of {@code bench/kinesis-bench.sh} ({@code io.tributary.bench.KinesisBench}), each run
 * as its own JVM on this module's test class path. Not a test.
 *
 * <ul>
 *   <li>{@code put <endpoint> <stream> <shards> <records> <bytes>}: creates the stream and puts the
 *       records (PutRecords of 500, 2 threads, no retries); values are the zero-padded record
 *       number, padded to {@code bytes}.
 *   <li>{@code getrecords <endpoint> <stream> <records> <out> [limit]}: the baseline, a plain
 *       GetRecords loop (one thread per shard, TRIM_HORIZON, {@code limit} (10,000) per call) that
 *       writes each value and a newline to {@code out}, until every record was read.
 *   <li>{@code kcl <endpoint> <dynamo> <stream> <app> <records> <out-dir> [limit]}: a bare KCL 3
 *       application (polling, TRIM_HORIZON) whose ShardRecordProcessor writes each value and a
 *       newline to a file per shard and checkpoints after each batch, until every record was read.
 * </ul>
 *
 * Each prints {@code first-record-ms=<epoch ms> done-ms=<epoch ms> peak-rss-kb=<VmHWM>} on success.
 */
public final class KinesisBenchPeer {
  private KinesisBenchPeer() {}

  public static void main(String[] args) {
    try {
      run(args);
    } catch (Throwable t) {
      t.printStackTrace();
      System.exit(1);
    }
    System.exit(0); // KCL and SDK threads are not all daemons
  }

  private static void run(String[] args) throws Exception {
    switch (args[0]) {
      case "put" ->
          put(
              args[1],
              args[2],
              Integer.parseInt(args[3]),
              Long.parseLong(args[4]),
              Integer.parseInt(args[5]));
      case "getrecords" ->
          getRecords(
              args[1],
              args[2],
              Long.parseLong(args[3]),
              Path.of(args[4]),
              args.length > 5 ? Integer.parseInt(args[5]) : 10_000);
      case "kcl" ->
          kcl(
              args[1],
              args[2],
              args[3],
              args[4],
              Long.parseLong(args[5]),
              Path.of(args[6]),
              args.length > 7 ? Integer.parseInt(args[7]) : 10_000);
      default -> throw new IllegalArgumentException("unknown mode " + args[0]);
    }
  }

  /**
   * A client that waits long for a slow server (kinesis-mock on a loaded machine answers a
   * PutRecords of 500 in seconds) and never retries: a retried PutRecords may store records twice,
   * and the readers count them.
   */
  private static KinesisClient client(String endpoint) {
    return KinesisClient.builder()
        .endpointOverride(java.net.URI.create(endpoint))
        .region(software.amazon.awssdk.regions.Region.US_EAST_1)
        .credentialsProvider(
            software.amazon.awssdk.auth.credentials.StaticCredentialsProvider.create(
                software.amazon.awssdk.auth.credentials.AwsBasicCredentials.create(
                    LocalKinesis.ACCESS_KEY, LocalKinesis.SECRET_KEY)))
        .httpClient(
            software.amazon.awssdk.http.apache.ApacheHttpClient.builder()
                .socketTimeout(Duration.ofMinutes(5))
                .build())
        .overrideConfiguration(
            o ->
                o.retryStrategy(software.amazon.awssdk.awscore.retry.AwsRetryStrategy.doNotRetry()))
        .build();
  }

  static byte[] value(long i, int bytes) {
    byte[] v = new byte[bytes];
    Arrays.fill(v, (byte) 'x');
    byte[] n = String.format("%012d", i).getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(n, 0, v, 0, Math.min(n.length, bytes));
    return v;
  }

  private static void put(String endpoint, String stream, int shards, long records, int bytes)
      throws Exception {
    try (KinesisClient k = client(endpoint)) {
      LocalKinesis.createStream(k, stream, shards);
      long t0 = System.nanoTime();
      int threads = 2;
      ExecutorService pool = Executors.newFixedThreadPool(threads);
      AtomicLong next = new AtomicLong();
      List<Future<?>> fs = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        fs.add(
            pool.submit(
                () -> {
                  while (true) {
                    long from = next.getAndAdd(500);
                    if (from >= records) {
                      return null;
                    }
                    List<PutRecordsRequestEntry> entries = new ArrayList<>();
                    for (long i = from; i < Math.min(records, from + 500); i++) {
                      entries.add(
                          PutRecordsRequestEntry.builder()
                              .partitionKey("key-" + i)
                              .data(SdkBytes.fromByteArrayUnsafe(value(i, bytes)))
                              .build());
                    }
                    while (!entries.isEmpty()) {
                      List<PutRecordsRequestEntry> batch = entries;
                      PutRecordsResponse r = k.putRecords(b -> b.streamName(stream).records(batch));
                      List<PutRecordsRequestEntry> failed = new ArrayList<>();
                      for (int i = 0; i < r.records().size(); i++) {
                        if (r.records().get(i).errorCode() != null) {
                          failed.add(batch.get(i));
                        }
                      }
                      entries = failed;
                    }
                  }
                }));
      }
      for (Future<?> f : fs) {
        f.get();
      }
      pool.shutdown();
      double s = (System.nanoTime() - t0) / 1e9;
      System.out.printf("put %,d records in %.1f s (%,.0f records/s)%n", records, s, records / s);
    }
  }

  private static void getRecords(String endpoint, String stream, long records, Path out, int limit)
      throws Exception {
    AtomicLong read = new AtomicLong();
    AtomicLong first = new AtomicLong();
    try (KinesisClient k = client(endpoint);
        OutputStream os = new BufferedOutputStream(Files.newOutputStream(out), 1 << 16)) {
      List<Shard> shards = k.listShards(b -> b.streamName(stream)).shards();
      ExecutorService pool = Executors.newFixedThreadPool(shards.size());
      List<Future<?>> fs = new ArrayList<>();
      for (Shard s : shards) {
        fs.add(
            pool.submit(
                () -> {
                  String it =
                      k.getShardIterator(
                              b ->
                                  b.streamName(stream)
                                      .shardId(s.shardId())
                                      .shardIteratorType(ShardIteratorType.TRIM_HORIZON))
                          .shardIterator();
                  while (it != null && read.get() < records) {
                    String cur = it;
                    GetRecordsResponse r = k.getRecords(b -> b.shardIterator(cur).limit(limit));
                    if (!r.records().isEmpty()) {
                      first.compareAndSet(0, System.currentTimeMillis());
                      synchronized (os) {
                        for (var rec : r.records()) {
                          os.write(rec.data().asByteArrayUnsafe());
                          os.write('\n');
                        }
                      }
                      read.addAndGet(r.records().size());
                    } else if (r.millisBehindLatest() != null && r.millisBehindLatest() == 0) {
                      TimeUnit.MILLISECONDS.sleep(200); // caught up: Kinesis allows 5 calls/s
                    }
                    it = r.nextShardIterator();
                  }
                  return null;
                }));
      }
      for (Future<?> f : fs) {
        f.get();
      }
      pool.shutdownNow();
    }
    done(first.get());
  }

  private static void kcl(
      String endpoint,
      String dynamo,
      String stream,
      String app,
      long records,
      Path outDir,
      int limit)
      throws Exception {
    Files.createDirectories(outDir);
    AtomicLong read = new AtomicLong();
    AtomicLong first = new AtomicLong();
    Object allRead = new Object();
    try (KclClients clients =
        new KclClients(
            "us-east-1",
            endpoint,
            dynamo,
            "http://127.0.0.1:9",
            LocalKinesis.ACCESS_KEY,
            LocalKinesis.SECRET_KEY)) {
      // dynalite cannot add KCL 3's index later (UpdateTable): create the table with it
      clients.ensureLeaseTable(app, Duration.ofSeconds(60));
      ConfigsBuilder cb =
          new ConfigsBuilder(
              stream,
              app,
              clients.kinesis(),
              clients.dynamo(),
              clients.cloudWatch(),
              "bench-worker",
              () ->
                  new ShardRecordProcessor() {
                    private OutputStream os;

                    @Override
                    public void initialize(InitializationInput in) {
                      try {
                        os =
                            new BufferedOutputStream(
                                Files.newOutputStream(outDir.resolve(in.shardId() + ".txt")),
                                1 << 16);
                      } catch (IOException e) {
                        throw new IllegalStateException(e);
                      }
                    }

                    @Override
                    public void processRecords(ProcessRecordsInput in) {
                      try {
                        for (KinesisClientRecord r : in.records()) {
                          byte[] b = new byte[r.data().remaining()];
                          r.data().get(b);
                          os.write(b);
                          os.write('\n');
                        }
                        os.flush();
                        if (!in.records().isEmpty()) {
                          first.compareAndSet(0, System.currentTimeMillis());
                          in.checkpointer().checkpoint();
                          if (read.addAndGet(in.records().size()) >= records) {
                            synchronized (allRead) {
                              allRead.notifyAll();
                            }
                          }
                        }
                      } catch (Exception e) {
                        throw new IllegalStateException(e);
                      }
                    }

                    @Override
                    public void leaseLost(LeaseLostInput in) {}

                    @Override
                    public void shardEnded(ShardEndedInput in) {
                      try {
                        in.checkpointer().checkpoint();
                      } catch (Exception e) {
                        throw new IllegalStateException(e);
                      }
                    }

                    @Override
                    public void shutdownRequested(ShutdownRequestedInput in) {}
                  });
      InitialPositionInStreamExtended trim =
          InitialPositionInStreamExtended.newInitialPosition(InitialPositionInStream.TRIM_HORIZON);
      var leases = cb.leaseManagementConfig().initialPositionInStream(trim);
      leases.workerUtilizationAwareAssignmentConfig().workerMetricsReporterFreqInMillis(10_000);
      Scheduler s =
          new Scheduler(
              cb.checkpointConfig(),
              cb.coordinatorConfig(),
              leases,
              cb.lifecycleConfig(),
              cb.metricsConfig().metricsFactory(new NullMetricsFactory()),
              cb.processorConfig(),
              cb.retrievalConfig()
                  // the retrieval's own initial position defaults to LATEST (nothing of a filled
                  // stream would be read)
                  .initialPositionInStreamExtended(trim)
                  .retrievalSpecificConfig(
                      new PollingConfig(stream, clients.kinesis())
                          .maxRecords(limit)
                          .idleTimeBetweenReadsInMillis(200)));
      Thread t = new Thread(s, "kcl-scheduler");
      t.setDaemon(true);
      t.start();
      synchronized (allRead) {
        while (read.get() < records) {
          allRead.wait(1000);
        }
      }
      done(first.get());
      s.startGracefulShutdown().get(30, TimeUnit.SECONDS);
    }
  }

  private static void done(long firstMs) throws IOException {
    String hwm =
        Files.readAllLines(Path.of("/proc/self/status")).stream()
            .filter(l -> l.startsWith("VmHWM:"))
            .map(l -> l.replaceAll("[^0-9]", ""))
            .findFirst()
            .orElse("0");
    System.out.printf(
        "first-record-ms=%d done-ms=%d peak-rss-kb=%s%n", firstMs, System.currentTimeMillis(), hwm);
    System.out.flush();
  }
}
