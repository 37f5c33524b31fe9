package io.tributary.connector.kafka;

import io.tributary.connector.kafka.internal.GroupOffsetsHandoff;
import io.tributary.connector.kafka.internal.KafkaClients;
import io.tributary.connector.kafka.internal.KafkaPeerProbe;
import io.tributary.connector.kafka.internal.RecordRouting;
import io.tributary.core.api.BatchWriter;
import io.tributary.core.api.CarriesSourcePositions;
import io.tributary.core.api.Config;
import io.tributary.core.api.Position;
import io.tributary.core.api.Record;
import io.tributary.core.api.RetriableException;
import io.tributary.core.api.Secrets;
import io.tributary.core.api.SharedPositions;
import io.tributary.core.api.SharedPositionsStore;
import io.tributary.core.api.Sink;
import io.tributary.core.api.SinkBatch;
import io.tributary.core.api.SinkContext;
import io.tributary.core.api.TransactionalSink;
import io.tributary.core.api.TributaryException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.ListTransactionsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.ProducerState;
import org.apache.kafka.clients.admin.TransactionListing;
import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.InvalidRecordException;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.FencedInstanceIdException;
import org.apache.kafka.common.errors.InvalidConfigurationException;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.RebalanceInProgressException;
import org.apache.kafka.common.errors.RecordBatchTooLargeException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes each batch to a Kafka topic in one Kafka transaction, together with a marker record {@code
 * (pipeline, sink) -> batchId} in a compacted marker topic: the batch's records and its marker
 * become visible to {@code read_committed} consumers together or not at all. Exactly-once with a
 * replayable source.
 *
 * <p>Recovery: {@link #open} creates a transactional producer with the stable {@code
 * transactional.id} {@code <prefix>-<pipeline>-<sink>} and calls {@code initTransactions()}, which
 * fences any older instance still running with that id (a zombie) and aborts the transaction a
 * crashed instance left open. {@link #lastCommittedBatch()} then reads the marker topic with {@code
 * read_committed} and returns the highest batch id committed for this pipeline and sink; the
 * runtime does not write those batches again.
 *
 * <p>With a {@link KafkaGroupSource} and this sink as the pipeline's only sink, the runtime makes
 * the transaction also carry the batch's consumed offsets ({@code sendOffsetsToTransaction} with
 * the group consumer's metadata), so output and group offsets commit together and an instance
 * expelled from the group cannot commit. With other sinks beside it, the group offsets are
 * committed by the source after the batch commit instead (no sink's transaction can cover the
 * others' output).
 *
 * <p>As the only sink of a pipeline whose source shares leased partitions ({@link
 * io.tributary.core.api.SharedPositionsSource}, the {@code kinesis-kcl} source), the transaction
 * also carries the batch's {@link SharedPositions} as marker-topic records {@code
 * positions|<scope>|<partition>}, which every instance reads back through {@link
 * #committedPositions} (a new lease owner starts after them).
 *
 * <p>Batches stream: records are sent as the runtime hands over chunks, inside the open
 * transaction, so memory does not grow with the batch.
 *
 * <p>Consumers of the output topic must use {@code isolation.level=read_committed} to see
 * exactly-once output.
 *
 * <p>Retries: a transaction that fails with a transient error (brokers restarting or unreachable, a
 * transaction the broker aborted; see {@code KafkaClients.isTransient}) throws {@link
 * RetriableException} and drops the producer without aborting. The runtime then runs the batch
 * again with the same plan; {@link #begin} first creates a new producer ({@code initTransactions()}
 * completes an in-doubt commit or aborts the rest) and reads the marker again, so a batch that did
 * commit is skipped, not written twice. Other failures abort the transaction and are retried too
 * (an abortable error such as records unacknowledged after {@code delivery.timeout.ms}), except
 * those the batch would meet again on every attempt (a record too large, an invalid topic,
 * serialization) and a fenced producer, authentication or authorization errors, which are fatal.
 *
 * <p>Thread safety: not thread-safe; the runtime calls it from the batch thread only. {@link
 * #write} blocks until the transaction committed.
 */
public final class KafkaSink
    implements TransactionalSink, CarriesSourcePositions, SharedPositionsStore {
  private static final Logger LOG = LoggerFactory.getLogger(KafkaSink.class);
  private static final long ADMIN_TIMEOUT_MS = 30_000;

  private final String bootstrapServers;
  private final String topic;
  private final String markerTopic;
  private final String transactionalIdPrefix;
  private final Duration transactionTimeout;
  private final Map<String, String> clientProperties;
  private final RecordRouting routing;
  private final boolean needsPartitionCount;
  private final Duration connectTimeout;
  private final Duration markerReadTimeout;

  private String pipelineId;
  private String sinkName;
  private String transactionalId;
  private byte[] markerKey;
  private KafkaProducer<byte[], byte[]> producer;
  private java.util.Properties producerProperties;
  private long lastCommitted = -1;
  private boolean closed;

  /**
   * Creates the sink from options validated by {@link KafkaOptions#SINK}. Connects only in {@link
   * #open}.
   */
  public KafkaSink(Config config) {
    this.bootstrapServers = config.get(KafkaOptions.BOOTSTRAP_SERVERS);
    this.topic = config.get(KafkaOptions.TOPIC);
    this.markerTopic = config.get(KafkaOptions.MARKER_TOPIC);
    this.transactionalIdPrefix = config.get(KafkaOptions.TRANSACTIONAL_ID_PREFIX);
    this.transactionTimeout = config.get(KafkaOptions.TRANSACTION_TIMEOUT);
    this.clientProperties = KafkaOptions.clientProperties(config);
    this.connectTimeout = config.get(KafkaOptions.CONNECT_TIMEOUT);
    this.markerReadTimeout = config.get(KafkaOptions.MARKER_READ_TIMEOUT);
    this.routing = new RecordRouting(topic, config.get(KafkaOptions.PARTITIONING));
    this.needsPartitionCount =
        config.get(KafkaOptions.PARTITIONING) == KafkaOptions.Partitioning.SOURCE_PARTITION;
  }

  private String component() {
    return "Kafka sink " + sinkName + " of pipeline " + pipelineId;
  }

  /** The transactional.id this sink uses for {@code pipelineId} and {@code sinkName}. */
  public String transactionalId(String pipelineId, String sinkName) {
    return transactionalIdPrefix + "-" + pipelineId + "-" + sinkName;
  }

  @Override
  public void open(SinkContext context) throws Exception {
    this.pipelineId = context.pipelineId();
    this.sinkName = context.sinkName();
    this.transactionalId = transactionalId(pipelineId, sinkName);
    this.markerKey = (pipelineId + "/" + sinkName).getBytes(StandardCharsets.UTF_8);
    KafkaPeerProbe.awaitBrokers(component(), bootstrapServers, clientProperties, connectTimeout);
    // Creating the marker topic (a controller round trip, about a second on a fresh cluster) and
    // starting the transactional producer (coordinator look-up, fencing) do not depend on each
    // other: a short-lived thread creates the topic and opens the consumer that reads it while this
    // one initializes the producer. The markers themselves are read only after initTransactions(),
    // as on every producer reset, so an in-doubt commit is resolved before the read; the admin
    // client that created the topic stays open for that read (its end offsets), so the start
    // builds one admin client, not two.
    FutureTask<MarkerClients> markerReader =
        new FutureTask<>(
            () -> {
              Admin admin = ensureMarkerTopic();
              try {
                return new MarkerClients(admin, openMarkerReader());
              } catch (RuntimeException | Error e) {
                KafkaClients.closeUninterrupted(() -> admin.close(Duration.ZERO));
                throw e;
              }
            });
    Thread t = new Thread(markerReader, "tributary-" + pipelineId + "-" + sinkName + "-markers-0");
    t.setDaemon(true);
    t.start();
    startProducer(markerReader);
    LOG.info(
        "event=kafka_sink_opened pipeline={} sink={} topic={} transactional_id={} marker_topic={} last_committed_batch={}",
        pipelineId,
        sinkName,
        topic,
        transactionalId,
        markerTopic,
        lastCommitted);
  }

  /** The marker topic's admin client and reader, opened while the producer initializes. */
  private record MarkerClients(Admin admin, KafkaConsumer<byte[], byte[]> reader) {
    void close() {
      KafkaClients.closeUninterrupted(() -> reader.close(Duration.ZERO));
      KafkaClients.closeUninterrupted(() -> admin.close(Duration.ZERO));
    }
  }

  /**
   * A new transactional producer, initialized, and the last committed batch read from the marker
   * topic. {@code initTransactions()} fences an older producer with the same id (this sink's
   * previous producer, or a zombie) and resolves the transaction it left: completed if its commit
   * had reached the coordinator, else aborted. Only then is the marker read, so it tells whether
   * such an in-doubt commit happened.
   */
  private void startProducer(FutureTask<MarkerClients> markerReader) throws InterruptedException {
    Map<String, Object> fixed = new LinkedHashMap<>();
    fixed.put("client.id", "tributary-" + pipelineId + "-" + sinkName);
    fixed.put("key.serializer", ByteArraySerializer.class.getName());
    fixed.put("value.serializer", ByteArraySerializer.class.getName());
    fixed.put("transactional.id", transactionalId);
    fixed.put("enable.idempotence", "true");
    fixed.put("acks", "all");
    fixed.put("transaction.timeout.ms", Long.toString(transactionTimeout.toMillis()));
    Map<String, String> user = KafkaClients.sinkProducerSettings(clientProperties);
    producerProperties = KafkaClients.properties(bootstrapServers, user, fixed);
    KafkaProducer<byte[], byte[]> p;
    try {
      p = initializedProducer();
    } catch (RuntimeException e) {
      closeMarkerReader(markerReader);
      throw e;
    }
    try {
      MarkerClients clients;
      try {
        clients = markerReader.get();
      } catch (ExecutionException e) {
        Throwable cause = e.getCause();
        if (cause instanceof RuntimeException re) {
          throw re;
        }
        if (cause instanceof Error err) {
          throw err;
        }
        throw new TributaryException(
            "Kafka sink " + sinkName + " of pipeline " + pipelineId + ": " + cause, cause);
      }
      try {
        lastCommitted = readLastMarker(clients.reader(), clients.admin());
      } finally {
        clients.close();
      }
    } catch (RuntimeException e) {
      KafkaClients.closeUninterrupted(() -> p.close(Duration.ZERO));
      throw transientStart(e);
    } catch (InterruptedException e) {
      KafkaClients.closeUninterrupted(() -> p.close(Duration.ZERO));
      throw e;
    }
    logStarted();
    producer = p;
  }

  /** Closes the marker reader of {@code task} once it is done, whatever its outcome. */
  private static void closeMarkerReader(FutureTask<MarkerClients> task) {
    try {
      task.get(ADMIN_TIMEOUT_MS * 2, TimeUnit.MILLISECONDS).close();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      // it failed or is stuck: nothing to close, or its thread (a daemon) gives up on its own
    }
  }

  private void logStarted() {
    LOG.info(
        "event=kafka_sink_producer_started pipeline={} sink={} last_committed_batch={}",
        pipelineId,
        sinkName,
        lastCommitted);
  }

  /**
   * (Re)creates the transactional producer: {@code initTransactions()} fences an older producer
   * with the same id and completes or aborts what a crashed instance (or this one, before a
   * transient failure) left open; then the marker topic says which batch committed last. Used at
   * open and after a failure that left the producer unusable.
   */
  private void resetProducer() {
    if (producer != null) {
      KafkaProducer<byte[], byte[]> old = producer;
      producer = null;
      KafkaClients.closeUninterrupted(() -> old.close(Duration.ZERO));
    }
    KafkaProducer<byte[], byte[]> p = initializedProducer();
    try (KafkaConsumer<byte[], byte[]> reader = openMarkerReader()) {
      long read = readLastMarker(reader, null);
      if (read < lastCommitted) {
        // This process saw commitTransaction() succeed for lastCommitted, so that batch is
        // committed whatever the read says; writing it again would duplicate it.
        LOG.warn(
            "event=kafka_marker_behind pipeline={} sink={} marker_batch={} committed_here={}"
                + " action=\"keeping the batch this process committed\"",
            pipelineId,
            sinkName,
            read,
            lastCommitted);
      }
      lastCommitted = Math.max(lastCommitted, read);
    } catch (RuntimeException e) {
      KafkaClients.closeUninterrupted(() -> p.close(Duration.ZERO));
      throw transientStart(e);
    }
    logStarted();
    producer = p;
  }

  /**
   * A new transactional producer after {@code initTransactions()}: older producers with the same id
   * are fenced and what they left open is committed or aborted.
   */
  private KafkaProducer<byte[], byte[]> initializedProducer() {
    KafkaProducer<byte[], byte[]> p =
        KafkaClients.create(
            component(),
            bootstrapServers,
            clientProperties,
            () -> new KafkaProducer<>(producerProperties));
    try {
      p.initTransactions();
    } catch (RuntimeException e) {
      KafkaClients.closeUninterrupted(() -> p.close(Duration.ZERO));
      throw transientStart(e);
    }
    return p;
  }

  private TributaryException authenticationFailed(Throwable cause) {
    return new TributaryException(
        "Kafka sink "
            + sinkName
            + " of pipeline "
            + pipelineId
            + " could not authenticate to "
            + bootstrapServers
            + ": "
            + cause
            + " (check the kafka.security.protocol, kafka.sasl.* and"
            + " kafka.ssl.* settings of the sink)",
        cause);
  }

  /**
   * {@code e} as a {@link RetriableException} when Kafka calls it transient, with the settings to
   * check when it is an authentication failure (the producer, which starts while the marker topic
   * is created, often meets it first), else itself.
   */
  private RuntimeException transientStart(RuntimeException e) {
    for (Throwable c = e; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof AuthenticationException) {
        return authenticationFailed(c);
      }
    }
    if (e instanceof RetriableException || !KafkaClients.isTransient(e)) {
      return e;
    }
    return new RetriableException(
        "Kafka sink "
            + sinkName
            + " of pipeline "
            + pipelineId
            + " could not start a transactional producer at "
            + bootstrapServers
            + ": "
            + e
            + " (retried; "
            + KafkaClients.connectionHint(bootstrapServers, clientProperties)
            + ")",
        e);
  }

  /** Creates the marker topic unless it exists; returns the admin client used, open. */
  private Admin ensureMarkerTopic() throws Exception {
    Map<String, Object> fixed = new LinkedHashMap<>();
    fixed.put("client.id", "tributary-" + pipelineId + "-" + sinkName + "-admin");
    Admin admin =
        KafkaClients.create(
            component(),
            bootstrapServers,
            clientProperties,
            () -> Admin.create(KafkaClients.properties(bootstrapServers, clientProperties, fixed)));
    try {
      NewTopic t =
          new NewTopic(markerTopic, Optional.of(1), Optional.empty())
              .configs(
                  Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT));
      try {
        try {
          admin.createTopics(List.of(t)).all().get(ADMIN_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
          throw new RetriableException(
              component()
                  + " could not create or find marker topic "
                  + markerTopic
                  + " within "
                  + ADMIN_TIMEOUT_MS
                  + " ms ("
                  + KafkaClients.connectionHint(bootstrapServers, clientProperties)
                  + ")",
              e);
        }
        LOG.info(
            "event=kafka_marker_topic_created pipeline={} sink={} topic={}",
            pipelineId,
            sinkName,
            markerTopic);
      } catch (ExecutionException e) {
        if (e.getCause() instanceof AuthenticationException) {
          throw authenticationFailed(e.getCause());
        }
        if (!(e.getCause() instanceof TopicExistsException)) {
          throw new TributaryException(
              "Kafka sink "
                  + sinkName
                  + " of pipeline "
                  + pipelineId
                  + " could not create marker topic "
                  + markerTopic
                  + ": "
                  + e.getCause()
                  + " (create it yourself, compacted, or grant CREATE on it)",
              e.getCause());
        }
      }
      return admin;
    } catch (Exception | Error e) {
      KafkaClients.closeUninterrupted(() -> admin.close(Duration.ZERO));
      throw e;
    }
  }

  /**
   * A consumer assigned to the marker topic's partitions, positioned nowhere yet; it may be opened
   * before the producer's {@code initTransactions()}, {@link #readLastMarker} must run after it.
   */
  private KafkaConsumer<byte[], byte[]> openMarkerReader() {
    Map<String, Object> fixed = new LinkedHashMap<>();
    fixed.put("client.id", "tributary-" + pipelineId + "-" + sinkName + "-markers");
    fixed.put("key.deserializer", ByteArrayDeserializer.class.getName());
    fixed.put("value.deserializer", ByteArrayDeserializer.class.getName());
    fixed.put("enable.auto.commit", "false");
    fixed.put("isolation.level", "read_committed");
    fixed.put("auto.offset.reset", "earliest");
    KafkaConsumer<byte[], byte[]> c =
        KafkaClients.create(
            component(),
            bootstrapServers,
            clientProperties,
            () ->
                new KafkaConsumer<>(
                    KafkaClients.properties(bootstrapServers, clientProperties, fixed)));
    try {
      List<TopicPartition> tps = new ArrayList<>();
      long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ADMIN_TIMEOUT_MS);
      while (true) {
        c.partitionsFor(markerTopic, Duration.ofMillis(ADMIN_TIMEOUT_MS))
            .forEach(p -> tps.add(new TopicPartition(markerTopic, p.partition())));
        if (!tps.isEmpty() || System.nanoTime() > deadline) {
          break;
        }
        // a topic created a moment ago may not be in the brokers' metadata yet
        Thread.sleep(100);
      }
      if (tps.isEmpty()) {
        // Read as "no marker", an empty list would make a replayed batch that did commit look
        // uncommitted. The topic exists (open created it), so the brokers do not know it yet, as
        // right after a restart.
        throw new RetriableException(
            component()
                + ": the brokers report no partition of marker topic "
                + markerTopic
                + " (restarting brokers, or the topic was deleted: then create it again, compacted)");
      }
      c.assign(tps);
      return c;
    } catch (RuntimeException e) {
      KafkaClients.closeUninterrupted(() -> c.close(Duration.ZERO));
      throw e;
    } catch (InterruptedException e) {
      KafkaClients.closeUninterrupted(() -> c.close(Duration.ZERO));
      Thread.currentThread().interrupt();
      throw new TributaryException(component() + ": interrupted opening the marker reader", e);
    }
  }

  /**
   * Reads the marker topic with {@code c} (from {@link #openMarkerReader}) from its beginning to
   * the end it had when the read began; the highest batch id under this sink's key, or -1. Call
   * after the producer's {@code initTransactions()}, which resolves this sink's own transaction
   * left in doubt (its commit completed or aborted, markers written).
   *
   * <p>The end is the partition's high watermark, not its last stable offset: a {@code
   * read_committed} consumer stops at the first offset of any transaction still open on the
   * partition, and the marker topic is shared by every sink writing to it. Another sink's open
   * transaction (one that began before this sink's last commit, and is slow, or was left by a
   * crashed process until the broker aborts it) would hide this sink's last marker, and the batch
   * would be written twice. So the read waits until every transaction below the high watermark has
   * ended, at most {@code marker-read-timeout}; then it fails as retriable and names the producer
   * that holds the partition.
   */
  private long readLastMarker(KafkaConsumer<byte[], byte[]> c, Admin admin) {
    long[] max = {-1};
    scanMarkers(
        c,
        admin,
        (key, value) -> {
          if (java.util.Arrays.equals(key, markerKey)) {
            max[0] = Math.max(max[0], Long.parseLong(new String(value, StandardCharsets.UTF_8)));
          }
        });
    return max[0];
  }

  /**
   * Reads the marker topic with {@code c} from its beginning to the high watermark it had when the
   * read began (waiting for open transactions below it, see {@link #readLastMarker}), handing every
   * committed record with a key and a value to {@code each} in offset order. {@code admin}, when
   * not null, is used for the high watermarks (and left open), else one is created for them.
   */
  private void scanMarkers(
      KafkaConsumer<byte[], byte[]> c,
      Admin admin,
      java.util.function.BiConsumer<byte[], byte[]> each) {
    Duration timeout = Duration.ofMillis(ADMIN_TIMEOUT_MS);
    List<TopicPartition> tps = new ArrayList<>(c.assignment());
    Map<TopicPartition, Long> ends;
    if (admin != null) {
      ends = markerHighWatermarks(tps, admin);
    } else {
      try (Admin own = markerAdmin()) {
        ends = markerHighWatermarks(tps, own);
      }
    }
    c.seekToBeginning(tps);
    long deadline = System.nanoTime() + markerReadTimeout.toNanos();
    for (TopicPartition tp : tps) {
      long position;
      while ((position = c.position(tp, timeout)) < ends.get(tp)) {
        if (System.nanoTime() > deadline) {
          throw markerReadBlocked(tp, position, ends.get(tp));
        }
        for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
          if (r.key() != null && r.value() != null) {
            each.accept(r.key(), r.value());
          }
        }
      }
    }
  }

  /**
   * The marker-topic key of one shared partition's position: {@code positions|<scope>|<partition>}.
   */
  private static byte[] sharedPositionKey(String scope, String partition) {
    return ("positions|" + scope + "|" + partition).getBytes(StandardCharsets.UTF_8);
  }

  /**
   * Reads the positions of {@code scope} that any pipeline committed through a Kafka sink writing
   * to this marker topic: the marker topic holds, beside each sink's batch marker, one record per
   * partition a batch read ({@code positions|<scope>|<partition>} -> position), written in the
   * batch's transaction; the last committed one of each key wins. Uses its own consumer, so it may
   * run on any thread, also while a batch is in flight. Waits for transactions still open on the
   * marker topic (at most {@code marker-read-timeout}, then {@link RetriableException}), so a batch
   * whose commit completed before the call is always seen.
   */
  @Override
  public Map<String, Position> committedPositions(String scope) {
    byte[] prefix = ("positions|" + scope + "|").getBytes(StandardCharsets.UTF_8);
    Map<String, Position> out = new java.util.TreeMap<>();
    try (KafkaConsumer<byte[], byte[]> reader = openMarkerReader()) {
      scanMarkers(
          reader,
          null,
          (key, value) -> {
            if (key.length > prefix.length
                && java.util.Arrays.equals(key, 0, prefix.length, prefix, 0, prefix.length)) {
              String partition =
                  new String(
                      key, prefix.length, key.length - prefix.length, StandardCharsets.UTF_8);
              out.put(partition, Position.parse(new String(value, StandardCharsets.UTF_8)));
            }
          });
    }
    return out;
  }

  private Admin markerAdmin() {
    Map<String, Object> fixed = new LinkedHashMap<>();
    fixed.put("client.id", "tributary-" + pipelineId + "-" + sinkName + "-markers-admin");
    return KafkaClients.create(
        component(),
        bootstrapServers,
        clientProperties,
        () -> Admin.create(KafkaClients.properties(bootstrapServers, clientProperties, fixed)));
  }

  /** The high watermarks (ends of {@code read_uncommitted}) of the marker topic's partitions. */
  private Map<TopicPartition, Long> markerHighWatermarks(List<TopicPartition> tps, Admin admin) {
    Map<TopicPartition, OffsetSpec> latest = new LinkedHashMap<>();
    tps.forEach(tp -> latest.put(tp, OffsetSpec.latest()));
    try {
      Map<TopicPartition, Long> ends = new LinkedHashMap<>();
      admin
          .listOffsets(latest, new ListOffsetsOptions(IsolationLevel.READ_UNCOMMITTED))
          .all()
          .get(ADMIN_TIMEOUT_MS, TimeUnit.MILLISECONDS)
          .forEach((tp, info) -> ends.put(tp, info.offset()));
      return ends;
    } catch (ExecutionException e) {
      throw e.getCause() instanceof KafkaException ke
          ? ke
          : new TributaryException(component() + ": " + e.getCause(), e.getCause());
    } catch (java.util.concurrent.TimeoutException e) {
      throw new RetriableException(
          component()
              + " could not find the end of marker topic "
              + markerTopic
              + " within "
              + ADMIN_TIMEOUT_MS
              + " ms ("
              + KafkaClients.connectionHint(bootstrapServers, clientProperties)
              + ")",
          e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new TributaryException(component() + ": interrupted reading the marker topic", e);
    }
  }

  /**
   * The retriable failure of a marker read held up by an open transaction, with the producers
   * holding the partition when the brokers can tell.
   */
  private RetriableException markerReadBlocked(TopicPartition tp, long position, long end) {
    String holders;
    try (Admin admin = markerAdmin()) {
      List<String> open = new ArrayList<>();
      for (ProducerState ps :
          admin
              .describeProducers(List.of(tp))
              .partitionResult(tp)
              .get(ADMIN_TIMEOUT_MS, TimeUnit.MILLISECONDS)
              .activeProducers()) {
        if (ps.currentTransactionStartOffset().isPresent()) {
          String txnId =
              admin
                  .listTransactions(
                      new ListTransactionsOptions()
                          .filterProducerIds(java.util.Set.of(ps.producerId())))
                  .all()
                  .get(ADMIN_TIMEOUT_MS, TimeUnit.MILLISECONDS)
                  .stream()
                  .map(TransactionListing::transactionalId)
                  .findFirst()
                  .orElse("unknown");
          open.add(
              "producer id "
                  + ps.producerId()
                  + " (transactional.id "
                  + txnId
                  + ") since offset "
                  + ps.currentTransactionStartOffset().getAsLong());
        }
      }
      holders = open.isEmpty() ? "none reported by the broker" : String.join(", ", open);
    } catch (Exception e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      holders = "unknown (" + e + ")";
    }
    LOG.warn(
        "event=kafka_marker_read_blocked pipeline={} sink={} partition={} position={} end={} open_transactions=\"{}\"",
        pipelineId,
        sinkName,
        tp,
        position,
        end,
        holders);
    return new RetriableException(
        component()
            + " could not read marker topic partition "
            + tp
            + " to offset "
            + end
            + " within marker-read-timeout "
            + markerReadTimeout
            + ": it stays at "
            + position
            + " because a transaction is open there (open transactions: "
            + holders
            + "). The sink must see every marker committed before it to know its last batch. It"
            + " ends when that producer commits or aborts, or when the broker aborts it after its"
            + " transaction.timeout.ms (retried until then); one that never ends is a hanging"
            + " transaction: find it with kafka-transactions.sh find-hanging and abort it with"
            + " kafka-transactions.sh abort");
  }

  @Override
  public OptionalLong lastCommittedBatch() {
    return lastCommitted >= 0 ? OptionalLong.of(lastCommitted) : OptionalLong.empty();
  }

  @Override
  public void write(long batchId, List<Record> records) throws Exception {
    Sink.writeAll(this, batchId, records);
  }

  @Override
  public boolean canCarry(Class<?> positionsType) {
    return positionsType == GroupOffsetsHandoff.Participant.class
        || positionsType == SharedPositions.class;
  }

  /**
   * Starts the batch's transaction. Records are sent as chunks arrive; {@link BatchWriter#commit()}
   * adds the marker (and the group source's offsets when the runtime made this sink carry them) and
   * commits.
   */
  @Override
  public BatchWriter begin(SinkBatch batch) throws Exception {
    if (closed) {
      throw new IllegalStateException("Kafka sink " + sinkName + " is not open");
    }
    if (producer == null) {
      resetProducer(); // the previous attempt left the producer unusable
    }
    long batchId = batch.batchId();
    if (batchId <= lastCommitted) {
      LOG.info(
          "event=kafka_sink_skip pipeline={} sink={} batch={} last_committed_batch={}",
          pipelineId,
          sinkName,
          batchId,
          lastCommitted);
      return new SkippedBatch();
    }
    GroupOffsetsHandoff.Participant group =
        batch.transactionalPositions(GroupOffsetsHandoff.Participant.class).orElse(null);
    int partitionCount;
    try {
      partitionCount = needsPartitionCount ? producer.partitionsFor(topic).size() : 0;
      producer.beginTransaction();
    } catch (KafkaException e) {
      throw failed(batchId, e, false);
    }
    return new Transaction(batchId, group, partitionCount, batch);
  }

  /** A batch this sink committed before (a replay): nothing to write. */
  private static final class SkippedBatch implements BatchWriter {
    @Override
    public void write(List<Record> chunk) {}

    @Override
    public void commit() {}

    @Override
    public void close() {}
  }

  /** One batch's transaction. */
  private final class Transaction implements BatchWriter {
    private final long batchId;
    private final GroupOffsetsHandoff.Participant group;
    private final int partitionCount;
    private final SinkBatch batch;
    private long records;
    private boolean open = true;

    Transaction(
        long batchId, GroupOffsetsHandoff.Participant group, int partitionCount, SinkBatch batch) {
      this.batchId = batchId;
      this.group = group;
      this.partitionCount = partitionCount;
      this.batch = batch;
    }

    @Override
    public void write(List<Record> chunk) throws Exception {
      try {
        for (Record r : chunk) {
          producer.send(routing.toProducerRecord(r, partitionCount));
        }
        records += chunk.size();
      } catch (KafkaException e) {
        open = false;
        throw failed(batchId, e, true);
      }
    }

    @Override
    public void commit() throws Exception {
      Map<TopicPartition, OffsetAndMetadata> offsets = Map.of();
      try {
        producer.send(
            new ProducerRecord<>(
                markerTopic, markerKey, Long.toString(batchId).getBytes(StandardCharsets.UTF_8)));
        // Shared positions (a leased source's shards) are asked for only now: after every read.
        SharedPositions shared = batch.transactionalPositions(SharedPositions.class).orElse(null);
        if (shared != null) {
          for (Map.Entry<String, Position> p : shared.positions().entrySet()) {
            producer.send(
                new ProducerRecord<>(
                    markerTopic,
                    sharedPositionKey(shared.scope(), p.getKey()),
                    p.getValue().toString().getBytes(StandardCharsets.UTF_8)));
          }
        }
        if (group != null) {
          offsets = group.offsetsForTransaction(batchId);
          if (!offsets.isEmpty()) {
            producer.sendOffsetsToTransaction(offsets, group.groupMetadata());
          }
        }
        // commitTransaction flushes and fails if any send of the transaction failed.
        producer.commitTransaction();
        open = false;
      } catch (CommitFailedException | RebalanceInProgressException | FencedInstanceIdException e) {
        open = false;
        abortQuietly(batchId);
        if (group != null && !(e instanceof FencedInstanceIdException)) {
          LOG.info(
              "event=kafka_sink_offsets_refused pipeline={} sink={} batch={} reason=\"{}\"",
              pipelineId,
              sinkName,
              batchId,
              e.toString());
          // The group rebalanced under the batch: complete the rebalance, then let the runtime run
          // the batch again
          // with the same plan; the source's reads skip partitions this instance no longer owns.
          group.completeRebalance();
          throw new RetriableException(
              "Kafka sink "
                  + sinkName
                  + " of pipeline "
                  + pipelineId
                  + ": the consumer group rebalanced during batch "
                  + batchId
                  + " and refused its offsets; the transaction was aborted and the batch is run again for"
                  + " the partitions this instance still owns",
              e);
        }
        throw new TributaryException(
            "Kafka sink "
                + sinkName
                + " of pipeline "
                + pipelineId
                + " could not commit batch "
                + batchId
                + " with the offsets of consumer group source: "
                + e
                + " (this instance's group generation is stale:"
                + " it was expelled from the group, for example after a batch slower than max.poll.interval.ms. The"
                + " transaction was aborted, so nothing of the batch is visible; the partitions' current owner reads"
                + " them from the group's offsets, and on restart this instance replays only what it still owns)",
            e);
      } catch (KafkaException e) {
        open = false;
        throw failed(batchId, e, true);
      }
      if (!offsets.isEmpty()) {
        group.committedInTransaction(batchId, offsets);
      }
      lastCommitted = batchId;
      LOG.debug(
          "event=kafka_batch_committed pipeline={} sink={} batch={} records={}",
          pipelineId,
          sinkName,
          batchId,
          records);
    }

    @Override
    public void close() {
      if (open) {
        open = false;
        abortQuietly(batchId);
      }
    }
  }

  /**
   * The exception for a failed transaction: fatal when another instance took over the
   * transactional.id, retriable when the brokers were unreachable (the producer is then rebuilt
   * before the next attempt, which first reads the marker topic, so a batch whose commit did go
   * through is not written twice).
   */
  private TributaryException failed(long batchId, KafkaException e, boolean begun) {
    if (e instanceof ProducerFencedException
        || e instanceof OutOfOrderSequenceException
        || e instanceof AuthorizationException) {
      return new TributaryException(
          "Kafka sink "
              + sinkName
              + " of pipeline "
              + pipelineId
              + " cannot commit batch "
              + batchId
              + " with transactional.id "
              + transactionalId
              + ": "
              + e
              + " (another instance with the same pipeline id may be running; stop it, then restart this one)",
          e);
    }
    String failed =
        "Kafka sink "
            + sinkName
            + " of pipeline "
            + pipelineId
            + " failed to write batch "
            + batchId
            + " to topic "
            + topic
            + ": "
            + e;
    if (KafkaClients.isTransient(e)) {
      // Aborting could block for max.block.ms with the brokers away, and a commit that timed out
      // may in fact have committed: drop the producer instead. The next attempt's new producer
      // resolves the transaction and reads the marker, so the batch is neither left half-open nor
      // written twice.
      discardProducer();
      return new RetriableException(
          failed + " (transient; the producer is rebuilt and the batch written again)", e);
    }
    if (begun && !abortQuietly(batchId)) {
      discardProducer();
    }
    if (!cannotSucceedAgain(e)) {
      // An abortable error the client does not type as retriable, e.g. "hasn't received
      // acknowledgment for some previously sent messages" after delivery.timeout.ms on a lossy
      // link: the transaction is aborted (or the producer dropped, and the next one aborts it), so
      // nothing of the batch is visible and running it again is safe. The runtime's retry.* limits
      // bound how often.
      if (!begun) {
        discardProducer();
      }
      return new RetriableException(
          failed
              + " (the transaction was aborted; the producer is reset and the batch written again)",
          e);
    }
    return new TributaryException(
        failed
            + " (the transaction was aborted; writing the batch again cannot succeed: fix the cause,"
            + " then restart, and the batch is replayed)",
        e);
  }

  /**
   * Errors that the same batch meets again on every attempt: a record or batch too large for the
   * broker, a serialization failure, an invalid topic, a broker too old for a request, invalid
   * settings. Anything else that reaches {@link #failed} after the transaction was aborted is run
   * again.
   */
  private static boolean cannotSucceedAgain(Throwable e) {
    for (Throwable c = e; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof RecordTooLargeException
          || c instanceof RecordBatchTooLargeException
          || c instanceof SerializationException
          || c instanceof InvalidTopicException
          || c instanceof UnsupportedVersionException
          || c instanceof InvalidConfigurationException
          || c instanceof InvalidRecordException
          || c instanceof AuthenticationException) {
        return true;
      }
    }
    return false;
  }

  private void discardProducer() {
    KafkaProducer<byte[], byte[]> p = producer;
    producer = null;
    if (p != null) {
      KafkaClients.closeUninterrupted(() -> p.close(Duration.ZERO));
    }
  }

  /**
   * Aborts the open transaction; {@code false} when that failed (the producer is then unusable).
   */
  private boolean abortQuietly(long batchId) {
    if (producer == null) {
      return false;
    }
    try {
      producer.abortTransaction();
      return true;
    } catch (KafkaException | IllegalStateException e) {
      // The producer cannot begin another transaction until this abort is retried: drop it, and
      // the next batch attempt starts a new one, whose initTransactions() aborts the open one.
      LOG.warn(
          "event=kafka_abort_failed pipeline={} sink={} batch={} error=\"{}\" action=\"producer dropped; the"
              + " next attempt's new producer aborts the transaction (else the broker does after"
              + " transaction.timeout.ms)\"",
          pipelineId,
          sinkName,
          batchId,
          e.toString());
      discardProducer();
      return false;
    }
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    KafkaProducer<byte[], byte[]> p = producer;
    if (p != null) {
      KafkaClients.closeUninterrupted(() -> p.close(Duration.ofSeconds(5)));
    }
    LOG.info("event=kafka_sink_closed pipeline={} sink={}", pipelineId, sinkName);
  }

  @Override
  public String toString() {
    return "KafkaSink{bootstrap="
        + bootstrapServers
        + ", topic="
        + topic
        + ", client-settings="
        + Secrets.describe(clientProperties)
        + "}";
  }
}
