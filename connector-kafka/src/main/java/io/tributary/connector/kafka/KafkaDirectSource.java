package io.tributary.connector.kafka;

import io.tributary.connector.kafka.KafkaOptions.Isolation;
import io.tributary.connector.kafka.KafkaOptions.StartingPosition;
import io.tributary.connector.kafka.internal.KafkaClients;
import io.tributary.connector.kafka.internal.KafkaPeerProbe;
import io.tributary.connector.kafka.internal.ReplacedOnFailures;
import io.tributary.core.api.CloseableIterator;
import io.tributary.core.api.Config;
import io.tributary.core.api.DataUnavailableException;
import io.tributary.core.api.DirectSource;
import io.tributary.core.api.OffsetRange;
import io.tributary.core.api.PartitionInfo;
import io.tributary.core.api.Record;
import io.tributary.core.api.RetriableException;
import io.tributary.core.api.Secrets;
import io.tributary.core.api.SourceContext;
import io.tributary.core.api.SourcePosition;
import io.tributary.core.api.TributaryException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetOutOfRangeException;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads Kafka topics as a {@link DirectSource}: the runtime plans offset ranges per partition
 * ({@code topic-N}), writes them to the checkpoint, and this source reads exactly those ranges, so
 * a replayed batch reads the same records.
 *
 * <p>{@link #partitions()} describes the configured topics on every batch (so partitions added
 * later are picked up) and reports as end offset the end of the log under the configured isolation:
 * with {@code read_committed} (the default) that is the last stable offset, so open transactions
 * are never planned. {@link #read(OffsetRange)} assigns the partition, seeks to {@code from} and
 * polls until the consumer's position reaches {@code until}. Offsets taken by transaction markers
 * or aborted records are skipped without stalling; a range may therefore yield fewer records than
 * {@link OffsetRange#count()}.
 *
 * <p>A range that starts below the partition's log start offset (deleted by retention) fails with
 * {@link DataUnavailableException}; no data is silently skipped.
 *
 * <p>No consumer group is used and the checkpoint is the only truth. With {@code commit-group-id}
 * set, {@link #onBatchCommitted} also writes the batch's end offsets to that group through the
 * admin client, only for lag monitoring; a failure there is logged and changes nothing.
 *
 * <p>Starting positions (for partitions the checkpoint does not know yet): {@code earliest}, {@code
 * latest}, {@code timestamp} (first offset at or after {@code starting-timestamp}) or {@code
 * offsets} (explicit per partition). They apply to the partitions of the first listing; partitions
 * discovered later start at earliest.
 *
 * <p>Memory: each range read uses a consumer of its own assigned to that one partition, so it
 * buffers at most one fetch response of {@code max.partition.fetch.bytes} (256 KiB under G1, 1 MiB
 * under the serial or parallel collector, see {@link #readerFetchBytes(List)}) plus one poll's
 * records; {@code fetch.max.bytes} (50 MiB), which caps a response over many partitions, is never
 * reached, so no fetch size is set here.
 *
 * <p>Outages: every client call is bounded by the client's timeouts and fails with a {@link
 * RetriableException}, which the runtime retries. A client instance is never trusted across an
 * outage longer than a couple of calls: the admin client and the source's own consumer are closed
 * and built anew after {@value #REPLACE_AFTER_FAILURES} failed calls in a row ({@code
 * event=kafka_client_replaced}), and a range reader whose read failed is closed instead of going
 * back to the pool. The clients usually reconnect by themselves, but after a network partition an
 * instance was seen failing every call long after the broker was reachable again.
 *
 * <p>Thread safety: {@link #partitions()} is called from the batch thread and uses the source's own
 * consumer. {@link #read(OffsetRange)} may be called from several threads at once: each read takes
 * an idle range-read consumer (or creates one) until the returned iterator is closed; reads block,
 * honouring interruption. The iterator itself is used by one thread.
 */
public final class KafkaDirectSource implements DirectSource {
  private static final Logger LOG = LoggerFactory.getLogger(KafkaDirectSource.class);
  private static final Duration POLL = Duration.ofMillis(200);
  private static final long METADATA_TIMEOUT_MS = 30_000;

  private final String bootstrapServers;
  private final List<String> topics;
  private final StartingPosition startingPosition;
  private final Isolation isolation;
  private final int maxPollRecords;
  private final Duration readTimeout;
  private final Duration connectTimeout;
  private final Map<String, String> clientProperties;
  private final Long startingTimestamp;
  private final Map<String, Long> startingOffsets;
  private final String commitGroupId;
  private final Semaphore consumerLock = new Semaphore(1);
  private final Map<String, Long> initialOffsets = new HashMap<>();
  private final Set<String> missingTopicsWarned = new HashSet<>();

  private String sourceName = "kafka";
  private String pipelineId = "";
  private ReplacedOnFailures<KafkaConsumer<byte[], byte[]>> consumer;

  /** Consumers for range reads, one per concurrent read; created on demand, kept until close. */
  private final java.util.concurrent.ConcurrentLinkedDeque<KafkaConsumer<byte[], byte[]>>
      idleReaders = new java.util.concurrent.ConcurrentLinkedDeque<>();

  private final List<KafkaConsumer<byte[], byte[]>> allReaders =
      new java.util.concurrent.CopyOnWriteArrayList<>();
  private java.util.Properties consumerProperties;

  /** Numbers reader consumers' client ids (two readers created at once must not share one). */
  private final java.util.concurrent.atomic.AtomicInteger readerIds =
      new java.util.concurrent.atomic.AtomicInteger();

  /**
   * The consumers' default {@code max.partition.fetch.bytes} under G1 and any collector not known
   * to take a 1 MiB array in its young generation, see {@link #readerFetchBytes}.
   */
  static final int READER_FETCH_BYTES = 256 * 1024;

  /**
   * The consumers' default {@code max.partition.fetch.bytes} under the serial and the parallel
   * collector: Kafka's own default.
   */
  static final int READER_FETCH_BYTES_NO_HUMONGOUS = 1024 * 1024;

  /**
   * The consumers' default {@code max.partition.fetch.bytes} for a JVM whose collectors have these
   * names ({@code GarbageCollectorMXBean} names). A fetch response is one heap buffer of up to that
   * size. Under G1 one of 1 MiB is a "humongous" object (half a region or more; regions are 1 MiB
   * for heaps up to 2 GiB): each one takes whole old-generation regions and starts a concurrent
   * cycle, and the heap grows; 256 KiB stays below that threshold for every region size. The serial
   * and the parallel collector (the gateway launcher's default is the serial one) allocate such a
   * buffer in the young generation like any other, so there the reads take Kafka's 1 MiB: a range
   * read is one partition on one consumer with one fetch in flight, so 4x the bytes per fetch is 4x
   * fewer fetch round trips per range. Other or unknown collectors get 256 KiB.
   */
  static int readerFetchBytes(List<String> collectorNames) {
    if (collectorNames.isEmpty()) {
      return READER_FETCH_BYTES;
    }
    for (String name : collectorNames) {
      boolean young = name.equals("Copy") || name.equals("PS Scavenge");
      boolean old = name.equals("MarkSweepCompact") || name.equals("PS MarkSweep");
      if (!young && !old) {
        return READER_FETCH_BYTES;
      }
    }
    return READER_FETCH_BYTES_NO_HUMONGOUS;
  }

  /** {@link #readerFetchBytes(List)} for this JVM. */
  static int readerFetchBytes() {
    List<String> names = new ArrayList<>();
    for (java.lang.management.GarbageCollectorMXBean gc :
        java.lang.management.ManagementFactory.getGarbageCollectorMXBeans()) {
      names.add(gc.getName());
    }
    return readerFetchBytes(names);
  }

  /** At most this long {@link #open} spends connecting the clients ahead of the first batch. */
  private static final long WARM_UP_MS = 2_000;

  /**
   * Failed calls in a row after which the admin client (or the source's own consumer) is closed and
   * built anew, see {@link ReplacedOnFailures}.
   */
  static final int REPLACE_AFTER_FAILURES = 2;

  private String clientId;
  private ReplacedOnFailures<Admin> admin;
  private boolean firstListing = true;
  private volatile boolean closed;

  /**
   * Creates the source from options validated by {@link KafkaOptions#SOURCE}. Connects only in
   * {@link #open}.
   */
  public KafkaDirectSource(Config config) {
    this(config, true);
  }

  /**
   * With {@code lagCommits} false the config need not declare {@code commit-group-id} (the group
   * source).
   */
  KafkaDirectSource(Config config, boolean lagCommits) {
    KafkaOptions.checkStartingPosition(config);
    String ts = config.get(KafkaOptions.STARTING_TIMESTAMP);
    this.startingTimestamp = ts == null ? null : KafkaOptions.parseTimestamp(ts);
    this.startingOffsets = KafkaOptions.startingOffsets(config);
    this.commitGroupId = lagCommits ? config.get(KafkaOptions.COMMIT_GROUP_ID) : null;
    this.bootstrapServers = config.get(KafkaOptions.BOOTSTRAP_SERVERS);
    this.topics = List.copyOf(config.get(KafkaOptions.TOPICS));
    this.startingPosition = config.get(KafkaOptions.STARTING_POSITION);
    this.isolation = config.get(KafkaOptions.ISOLATION);
    this.maxPollRecords = config.get(KafkaOptions.MAX_POLL_RECORDS);
    this.readTimeout = config.get(KafkaOptions.READ_TIMEOUT);
    this.clientProperties = KafkaOptions.clientProperties(config);
    this.connectTimeout = config.get(KafkaOptions.CONNECT_TIMEOUT);
  }

  @Override
  public void open(SourceContext context) throws InterruptedException {
    this.sourceName = context.sourceName();
    this.pipelineId = context.pipelineId();
    clientId = "tributary-" + pipelineId + "-" + sourceName;
    String component = "Kafka source " + sourceName + " of pipeline " + pipelineId;
    KafkaPeerProbe.awaitBrokers(component, bootstrapServers, clientProperties, connectTimeout);
    Map<String, Object> fixed = new LinkedHashMap<>();
    fixed.put("client.id", clientId);
    fixed.put("key.deserializer", ByteArrayDeserializer.class.getName());
    fixed.put("value.deserializer", ByteArrayDeserializer.class.getName());
    fixed.put("enable.auto.commit", "false");
    fixed.put("auto.offset.reset", "none");
    fixed.put("isolation.level", isolation.name().toLowerCase(Locale.ROOT));
    fixed.put("max.poll.records", Integer.toString(maxPollRecords));
    // The source polls only for offsets it knows exist (below the end offset it listed), so
    // long-polling buys nothing;
    // a prefetch parked at the end of another partition would otherwise delay the next read by up
    // to 500 ms.
    Map<String, String> user = new LinkedHashMap<>();
    user.put("fetch.max.wait.ms", "20");
    // A fetch response is one heap buffer: 256 KiB under G1 (no humongous objects), Kafka's 1 MiB
    // under the serial or parallel collector (fewer fetch round trips per range read).
    user.put("max.partition.fetch.bytes", Integer.toString(readerFetchBytes()));
    user.putAll(clientProperties);
    consumerProperties = KafkaClients.properties(bootstrapServers, user, fixed);
    consumer =
        new ReplacedOnFailures<>(
            "pipeline=" + pipelineId + " source=" + sourceName + " client=consumer",
            REPLACE_AFTER_FAILURES,
            () ->
                KafkaClients.create(
                    component,
                    bootstrapServers,
                    clientProperties,
                    () -> new KafkaConsumer<byte[], byte[]>(consumerProperties)),
            c -> KafkaClients.closeUninterrupted(() -> c.close(Duration.ZERO)));
    Map<String, Object> adminFixed = new LinkedHashMap<>();
    adminFixed.put("client.id", clientId + "-admin");
    admin =
        new ReplacedOnFailures<>(
            "pipeline=" + pipelineId + " source=" + sourceName + " client=admin",
            REPLACE_AFTER_FAILURES,
            () ->
                KafkaClients.create(
                    component,
                    bootstrapServers,
                    clientProperties,
                    () ->
                        Admin.create(
                            KafkaClients.properties(
                                bootstrapServers, clientProperties, adminFixed))),
            a -> KafkaClients.closeUninterrupted(() -> a.close(Duration.ZERO)));
    warmUp();
    LOG.info(
        "event=kafka_source_opened pipeline={} source={} bootstrap={} topics={} isolation={} starting_position={}"
            + " commit_group={} client_settings={}",
        pipelineId,
        sourceName,
        bootstrapServers,
        topics,
        isolation,
        startingPosition,
        commitGroupId,
        Secrets.describe(clientProperties));
  }

  /**
   * Connects both clients before the first batch needs them: describes the topics (admin) and asks
   * their end offsets (consumer), and drops the answers, so nothing is decided here (the starting
   * offsets are still fixed by the first listing). The engine opens a direct source while the sinks
   * open, so this takes nothing off the first batch's time, it only moves the connection set-up
   * there. Bounded by {@value #WARM_UP_MS} ms; a failure is only logged: the first batch lists
   * again and retries as usual.
   */
  private void warmUp() {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WARM_UP_MS);
    try {
      List<TopicPartition> tps = new ArrayList<>();
      Map<String, TopicDescription> found =
          admin.get().describeTopics(topics).allTopicNames().get(WARM_UP_MS, TimeUnit.MILLISECONDS);
      found
          .values()
          .forEach(
              d ->
                  d.partitions()
                      .forEach(p -> tps.add(new TopicPartition(d.name(), p.partition()))));
      long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
      if (!tps.isEmpty() && left > 0) {
        consumer.get().endOffsets(tps, Duration.ofMillis(left));
      }
      // The range readers too: a new consumer connects on its first read, and the first batch
      // would wait for as many connection set-ups as it reads ranges at once (the engine's default
      // read parallelism: one per processor). Idle readers are kept anyway until close.
      int readers = Math.min(tps.size(), Runtime.getRuntime().availableProcessors());
      for (int i = 0; i < readers && idleReaders.size() < readers; i++) {
        left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
        if (left <= 0) {
          break;
        }
        KafkaConsumer<byte[], byte[]> r = takeReader();
        try {
          r.endOffsets(List.of(tps.get(i)), Duration.ofMillis(left));
        } finally {
          releaseReader(r);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      LOG.debug(
          "event=kafka_source_warm_up_failed pipeline={} source={} error=\"{}\"",
          pipelineId,
          sourceName,
          e.toString());
    }
  }

  /** The pipeline and source this instance was opened for, for log lines of a wrapping source. */
  String describe() {
    return "pipeline=" + pipelineId + " source=" + sourceName;
  }

  /**
   * Where each of {@code tps} starts when nothing is known about it: the starting-position setting
   * when {@code applySetting}, else earliest. Takes the consumer.
   */
  Map<TopicPartition, Long> startOffsets(List<TopicPartition> tps, boolean applySetting)
      throws Exception {
    acquire();
    KafkaConsumer<byte[], byte[]> c = null;
    try {
      c = consumer.get();
      Map<TopicPartition, Long> out = startOffsetsLocked(c, tps, applySetting);
      consumer.succeeded(c);
      return out;
    } catch (KafkaException e) {
      if (c != null && KafkaClients.isTransient(e)) {
        consumer.failed(c, e);
      }
      throw e;
    } finally {
      consumerLock.release();
    }
  }

  private Map<TopicPartition, Long> startOffsetsLocked(
      KafkaConsumer<byte[], byte[]> consumer, List<TopicPartition> tps, boolean applySetting) {
    Duration timeout = Duration.ofMillis(METADATA_TIMEOUT_MS);
    Map<TopicPartition, Long> starts = consumer.beginningOffsets(tps, timeout);
    Map<TopicPartition, Long> out = new HashMap<>(starts);
    if (!applySetting || tps.isEmpty()) {
      return out;
    }
    switch (startingPosition) {
      case EARLIEST -> {}
      case LATEST -> out.putAll(consumer.endOffsets(tps, timeout));
      case TIMESTAMP -> {
        Map<TopicPartition, Long> query = new HashMap<>();
        tps.forEach(tp -> query.put(tp, startingTimestamp));
        Map<TopicPartition, org.apache.kafka.clients.consumer.OffsetAndTimestamp> found =
            consumer.offsetsForTimes(query, timeout);
        Map<TopicPartition, Long> ends = consumer.endOffsets(tps, timeout);
        for (TopicPartition tp : tps) {
          org.apache.kafka.clients.consumer.OffsetAndTimestamp o = found.get(tp);
          out.put(tp, o == null ? ends.get(tp) : o.offset());
        }
      }
      case OFFSETS -> {
        for (TopicPartition tp : tps) {
          Long explicit = startingOffsets.get(KafkaClients.partitionId(tp));
          if (explicit != null) {
            // An offset below the log start would fail the first read with
            // DataUnavailableException: say so early.
            if (explicit < starts.get(tp)) {
              LOG.warn(
                  "event=kafka_starting_offset_deleted pipeline={} source={} partition={} offset={} log_start={}"
                      + " action=\"the first batch fails; choose an offset >= log_start\"",
                  pipelineId,
                  sourceName,
                  KafkaClients.partitionId(tp),
                  explicit,
                  starts.get(tp));
            }
            out.put(tp, explicit);
          }
        }
      }
      default -> throw new IllegalStateException(startingPosition.toString());
    }
    return out;
  }

  @Override
  public List<PartitionInfo> partitions() throws Exception {
    List<TopicPartition> tps = listPartitions();
    if (tps.isEmpty()) {
      return List.of();
    }
    acquire();
    KafkaConsumer<byte[], byte[]> c = null;
    try {
      c = consumer.get();
      Duration timeout = Duration.ofMillis(METADATA_TIMEOUT_MS);
      Map<TopicPartition, Long> ends = c.endOffsets(tps, timeout);
      List<TopicPartition> unknown = new ArrayList<>();
      for (TopicPartition tp : tps) {
        if (!initialOffsets.containsKey(KafkaClients.partitionId(tp))) {
          unknown.add(tp);
        }
      }
      // Decided once per partition, so a later listing cannot move it. Partitions that appear after
      // the first listing
      // start at earliest whatever the setting: everything written to a new partition is new data.
      Map<TopicPartition, Long> starts =
          unknown.isEmpty() ? Map.of() : startOffsetsLocked(c, unknown, firstListing);
      List<PartitionInfo> out = new ArrayList<>(tps.size());
      for (TopicPartition tp : tps) {
        String id = KafkaClients.partitionId(tp);
        long end = ends.get(tp);
        Long initial = initialOffsets.get(id);
        if (initial == null) {
          initial = starts.get(tp);
          initialOffsets.put(id, initial);
          if (!firstListing) {
            LOG.info(
                "event=kafka_partition_discovered pipeline={} source={} partition={} initial_offset={}",
                pipelineId,
                sourceName,
                id,
                initial);
          }
        }
        out.add(PartitionInfo.open(id, initial, end));
      }
      firstListing = false;
      consumer.succeeded(c);
      return out;
    } catch (KafkaException e) {
      if (c != null && KafkaClients.isTransient(e)) {
        consumer.failed(c, e);
      }
      throw transientOrFatal("list the end offsets of " + tps.size() + " partitions", e);
    } finally {
      consumerLock.release();
    }
  }

  /**
   * A {@link RetriableException} when Kafka says {@code e} is transient (brokers restarting or
   * unreachable: the runtime retries the batch step), else {@code e} itself.
   */
  private RuntimeException transientOrFatal(String what, KafkaException e) {
    if (KafkaClients.isTransient(e)) {
      return new RetriableException(
          "Kafka source "
              + sourceName
              + " of pipeline "
              + pipelineId
              + " could not "
              + what
              + " at "
              + bootstrapServers
              + ": "
              + e
              + " (transient: the brokers may be restarting; if it lasts, "
              + KafkaClients.connectionHint(bootstrapServers, clientProperties)
              + ")",
          e);
    }
    return e;
  }

  private List<TopicPartition> listPartitions() throws Exception {
    List<TopicPartition> tps = new ArrayList<>();
    Admin a = admin.get();
    for (String topic : topics) {
      TopicDescription d;
      try {
        d =
            a.describeTopics(List.of(topic))
                .allTopicNames()
                .get(METADATA_TIMEOUT_MS, TimeUnit.MILLISECONDS)
                .get(topic);
      } catch (ExecutionException e) {
        if (e.getCause() instanceof UnknownTopicOrPartitionException) {
          if (missingTopicsWarned.add(topic)) {
            LOG.warn(
                "event=kafka_topic_missing pipeline={} source={} topic={} action=\"read once it exists\"",
                pipelineId,
                sourceName,
                topic);
          }
          continue;
        }
        if (KafkaClients.isTransient(e.getCause())) {
          admin.failed(a, e.getCause());
        }
        throw new RetriableException(
            "Could not describe Kafka topic "
                + topic
                + " at "
                + bootstrapServers
                + ": "
                + e.getCause()
                + " ("
                + KafkaClients.connectionHint(bootstrapServers, clientProperties)
                + ")",
            e.getCause());
      } catch (TimeoutException e) {
        admin.failed(a, e);
        throw new RetriableException(
            "Timed out describing Kafka topic "
                + topic
                + " at "
                + bootstrapServers
                + " after "
                + METADATA_TIMEOUT_MS
                + " ms ("
                + KafkaClients.connectionHint(bootstrapServers, clientProperties)
                + ")",
            e);
      }
      admin.succeeded(a);
      missingTopicsWarned.remove(topic);
      d.partitions().forEach(p -> tps.add(new TopicPartition(topic, p.partition())));
    }
    return tps;
  }

  @Override
  public CloseableIterator<Record> read(OffsetRange range) throws Exception {
    TopicPartition tp = KafkaClients.topicPartition(range.partition());
    if (range.isEmpty()) {
      return CloseableIterator.of(List.of());
    }
    if (closed) {
      throw new IllegalStateException(
          "Kafka source " + sourceName + " of pipeline " + pipelineId + " is closed");
    }
    KafkaConsumer<byte[], byte[]> reader = takeReader();
    boolean handedOver = false;
    try {
      // No log-start lookup first (a round trip per range): with auto.offset.reset=none a range
      // below the log start
      // makes the first poll throw OffsetOutOfRangeException, reported as DataUnavailableException.
      reader.assign(List.of(tp));
      reader.seek(tp, range.fromOffset());
      RangeIterator it = new RangeIterator(reader, tp, range);
      handedOver = true;
      return it;
    } catch (KafkaException e) {
      discardReader(reader); // not back to the pool: see RangeIterator#failed
      handedOver = true;
      throw transientOrFatal("start reading " + range, e);
    } finally {
      if (!handedOver) {
        releaseReader(reader);
      }
    }
  }

  /**
   * An idle range-read consumer, or a new one: reads of different ranges run at once, each on its
   * own consumer.
   */
  private KafkaConsumer<byte[], byte[]> takeReader() {
    KafkaConsumer<byte[], byte[]> c = idleReaders.poll();
    if (c != null) {
      return c;
    }
    java.util.Properties props = new java.util.Properties();
    props.putAll(consumerProperties);
    props.put("client.id", clientId + "-reader-" + readerIds.getAndIncrement());
    c = new KafkaConsumer<>(props);
    allReaders.add(c);
    if (closed) {
      closeReader(c);
      throw new IllegalStateException(
          "Kafka source " + sourceName + " of pipeline " + pipelineId + " is closed");
    }
    return c;
  }

  private void releaseReader(KafkaConsumer<byte[], byte[]> c) {
    if (closed) {
      closeReader(c);
    } else {
      idleReaders.push(c);
    }
  }

  private void closeReader(KafkaConsumer<byte[], byte[]> c) {
    closeReader(c, Duration.ofSeconds(5));
  }

  /** Closes a reader that failed: it has nothing to flush, so no wait for a broker. */
  private void discardReader(KafkaConsumer<byte[], byte[]> c) {
    closeReader(c, Duration.ZERO);
  }

  private void closeReader(KafkaConsumer<byte[], byte[]> c, Duration timeout) {
    if (allReaders.remove(c)) {
      KafkaClients.closeUninterrupted(() -> c.close(timeout));
    }
  }

  @Override
  public void onBatchCommitted(long batchId, List<OffsetRange> ranges) throws Exception {
    if (commitGroupId == null) {
      return;
    }
    Map<TopicPartition, org.apache.kafka.clients.consumer.OffsetAndMetadata> offsets =
        new HashMap<>();
    for (OffsetRange r : ranges) {
      if (!r.isEmpty()) {
        offsets.put(
            KafkaClients.topicPartition(r.partition()),
            new org.apache.kafka.clients.consumer.OffsetAndMetadata(r.untilOffset()));
      }
    }
    if (offsets.isEmpty()) {
      return;
    }
    Admin a = admin.get();
    try {
      a.alterConsumerGroupOffsets(commitGroupId, offsets)
          .all()
          .get(METADATA_TIMEOUT_MS, TimeUnit.MILLISECONDS);
      admin.succeeded(a);
    } catch (ExecutionException e) {
      if (KafkaClients.isTransient(e.getCause())) {
        admin.failed(a, e.getCause());
      }
      throw new RetriableException(
          "Kafka source "
              + sourceName
              + " of pipeline "
              + pipelineId
              + " could not commit batch "
              + batchId
              + " offsets to group "
              + commitGroupId
              + " for lag monitoring: "
              + e.getCause()
              + " (only monitoring is"
              + " affected; make sure no consumer is an active member of that group)",
          e.getCause());
    } catch (TimeoutException e) {
      admin.failed(a, e);
      throw e;
    }
    LOG.debug(
        "event=kafka_lag_offsets_committed pipeline={} source={} group={} batch={} partitions={}",
        pipelineId,
        sourceName,
        commitGroupId,
        batchId,
        offsets.size());
  }

  @Override
  public String toString() {
    return "KafkaDirectSource{bootstrap="
        + bootstrapServers
        + ", topics="
        + topics
        + ", starting-position="
        + startingPosition
        + ", isolation="
        + isolation
        + ", commit-group-id="
        + commitGroupId
        + ", client-settings="
        + Secrets.describe(clientProperties)
        + "}";
  }

  /** The partition's log start offset for an error message, or -1 when even that cannot be had. */
  private static long logStartOrUnknown(KafkaConsumer<byte[], byte[]> c, TopicPartition tp) {
    try {
      return c.beginningOffsets(List.of(tp), Duration.ofSeconds(5)).get(tp);
    } catch (RuntimeException e) {
      return -1;
    }
  }

  private DataUnavailableException unavailable(
      TopicPartition tp, OffsetRange range, long logStart, Throwable cause) {
    return new DataUnavailableException(
        "Kafka topic "
            + tp.topic()
            + " partition "
            + tp.partition()
            + ": planned offsets ["
            + range.from()
            + ", "
            + range.until()
            + ") of pipeline "
            + pipelineId
            + " source "
            + sourceName
            + " are no longer available"
            + (logStart >= 0 ? " (log start offset is now " + logStart + ")" : "")
            + ", they were deleted by retention. Raise the topic's retention.ms/retention.bytes so that the pipeline"
            + " keeps up, and to go on despite the loss start from a new checkpoint location",
        cause);
  }

  private void acquire() throws InterruptedException {
    if (closed) {
      throw new IllegalStateException(
          "Kafka source " + sourceName + " of pipeline " + pipelineId + " is closed");
    }
    consumerLock.acquire();
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    // Wait briefly for a read in progress so the consumer is not closed under it.
    boolean locked = false;
    try {
      locked = consumerLock.tryAcquire(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    // The clients refuse to close on an interrupted thread (stopNow interrupts the batch thread);
    // clear the flag for
    // the close and restore it afterwards so the caller still sees the interruption.
    boolean interrupted = Thread.interrupted();
    try {
      for (KafkaConsumer<byte[], byte[]> r : allReaders) {
        if (idleReaders.remove(r)) {
          closeReader(r);
        }
      }
      if (consumer != null) {
        consumer.close(c -> c.close(Duration.ofSeconds(5)));
      }
    } finally {
      try {
        if (admin != null) {
          admin.close(a -> a.close(Duration.ofSeconds(5)));
        }
      } finally {
        if (locked) {
          consumerLock.release();
        }
        if (interrupted) {
          Thread.currentThread().interrupt();
        }
      }
    }
    LOG.info("event=kafka_source_closed pipeline={} source={}", pipelineId, sourceName);
  }

  /**
   * Polls one partition from {@code from} until the position reaches {@code until}, on its own
   * reader consumer.
   */
  private final class RangeIterator implements CloseableIterator<Record> {
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final TopicPartition tp;
    private final OffsetRange range;
    private final String partitionId;
    private final ArrayDeque<ConsumerRecord<byte[], byte[]>> buffer = new ArrayDeque<>();
    private boolean reachedEnd;
    private boolean released;

    /**
     * Whether a call of this reader failed or made no progress: then {@link #close()} closes it
     * instead of handing it to the next read, so a reader that kept a dead connection (or any other
     * state from an outage) is never reused.
     */
    private boolean failed;

    private final long from;
    private final long until;

    RangeIterator(KafkaConsumer<byte[], byte[]> consumer, TopicPartition tp, OffsetRange range) {
      this.consumer = consumer;
      this.from = range.fromOffset();
      this.until = range.untilOffset();
      this.tp = tp;
      this.range = range;
      this.partitionId = range.partition();
    }

    @Override
    public boolean hasNext() {
      while (buffer.isEmpty() && !reachedEnd) {
        fill();
      }
      return !buffer.isEmpty();
    }

    private void fill() {
      long deadline = System.nanoTime() + readTimeout.toNanos();
      long lastPosition = -1;
      while (true) {
        if (Thread.currentThread().isInterrupted()) {
          throw new TributaryException(
              "Interrupted while reading "
                  + range
                  + " of Kafka source "
                  + sourceName
                  + " in pipeline "
                  + pipelineId);
        }
        long position;
        try {
          position = consumer.position(tp);
        } catch (KafkaException e) {
          failed = true;
          throw transientOrFatal("read " + range, e);
        }
        if (position >= until) {
          reachedEnd = true;
          return;
        }
        if (position != lastPosition) {
          lastPosition = position;
          deadline = System.nanoTime() + readTimeout.toNanos();
        } else if (System.nanoTime() > deadline) {
          failed = true;
          throw new RetriableException(
              "No progress reading "
                  + range
                  + " of Kafka source "
                  + sourceName
                  + " in pipeline "
                  + pipelineId
                  + " for "
                  + readTimeout.toMillis()
                  + " ms (stuck at offset "
                  + position
                  + "); check the brokers and"
                  + " raise read-timeout if they are just slow");
        }
        ConsumerRecords<byte[], byte[]> polled;
        try {
          polled = consumer.poll(POLL);
        } catch (OffsetOutOfRangeException e) {
          throw unavailable(tp, range, logStartOrUnknown(consumer, tp), e);
        } catch (KafkaException e) {
          failed = true;
          throw transientOrFatal("read " + range, e);
        }
        for (ConsumerRecord<byte[], byte[]> r : polled.records(tp)) {
          if (r.offset() >= from && r.offset() < until) {
            buffer.add(r);
          }
        }
        if (!buffer.isEmpty()) {
          return;
        }
      }
    }

    @Override
    public Record next() {
      if (!hasNext()) {
        throw new NoSuchElementException(range.toString());
      }
      return toRecord(buffer.poll());
    }

    private Record toRecord(ConsumerRecord<byte[], byte[]> r) {
      Map<String, byte[]> headers;
      Header[] hs = r.headers().toArray();
      if (hs.length == 0) {
        headers = Map.of();
      } else {
        headers = new LinkedHashMap<>();
        for (Header h : hs) {
          headers.put(h.key(), h.value() == null ? new byte[0] : h.value());
        }
      }
      byte[] value = r.value() == null ? new byte[0] : r.value();
      return new Record(
          r.key(),
          value,
          r.timestamp(),
          headers,
          new SourcePosition(sourceName, partitionId, r.offset()));
    }

    @Override
    public void close() {
      if (!released) {
        released = true;
        if (failed) {
          discardReader(consumer);
        } else {
          releaseReader(consumer);
        }
      }
    }
  }
}
