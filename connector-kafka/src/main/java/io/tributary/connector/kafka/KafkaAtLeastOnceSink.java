package io.tributary.connector.kafka;

import io.tributary.connector.kafka.internal.KafkaClients;
import io.tributary.connector.kafka.internal.KafkaPeerProbe;
import io.tributary.connector.kafka.internal.RecordRouting;
import io.tributary.core.api.AtLeastOnceSink;
import io.tributary.core.api.BatchWriter;
import io.tributary.core.api.Config;
import io.tributary.core.api.Record;
import io.tributary.core.api.RetriableException;
import io.tributary.core.api.Secrets;
import io.tributary.core.api.Sink;
import io.tributary.core.api.SinkBatch;
import io.tributary.core.api.SinkContext;
import io.tributary.core.api.TributaryException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes each batch to a Kafka topic with an idempotent producer (no duplicates from producer
 * retries, per-partition order kept) but without transactions: a batch replayed after a crash is
 * written again. Use it when the consumers of the topic cannot use {@code read_committed} or
 * deduplicate themselves; otherwise prefer {@link KafkaSink}.
 *
 * <p>Thread safety: not thread-safe; the runtime calls it from the batch thread only. {@link
 * #write} blocks until every record of the batch is acknowledged by all in-sync replicas.
 */
public final class KafkaAtLeastOnceSink implements AtLeastOnceSink {
  private static final Logger LOG = LoggerFactory.getLogger(KafkaAtLeastOnceSink.class);

  private final String bootstrapServers;
  private final String topic;
  private final Map<String, String> clientProperties;
  private final RecordRouting routing;
  private final boolean needsPartitionCount;
  private final java.time.Duration connectTimeout;

  private String pipelineId;
  private String sinkName;
  private KafkaProducer<byte[], byte[]> producer;
  private boolean closed;

  /** Creates the sink from options validated by {@link KafkaOptions#AT_LEAST_ONCE_SINK}. */
  public KafkaAtLeastOnceSink(Config config) {
    this.bootstrapServers = config.get(KafkaOptions.BOOTSTRAP_SERVERS);
    this.topic = config.get(KafkaOptions.TOPIC);
    this.clientProperties = KafkaOptions.clientProperties(config);
    this.connectTimeout = config.get(KafkaOptions.CONNECT_TIMEOUT);
    this.routing = new RecordRouting(topic, config.get(KafkaOptions.PARTITIONING));
    this.needsPartitionCount =
        config.get(KafkaOptions.PARTITIONING) == KafkaOptions.Partitioning.SOURCE_PARTITION;
  }

  @Override
  public void open(SinkContext context) throws InterruptedException {
    this.pipelineId = context.pipelineId();
    this.sinkName = context.sinkName();
    String component = "Kafka sink " + sinkName + " of pipeline " + pipelineId;
    KafkaPeerProbe.awaitBrokers(component, bootstrapServers, clientProperties, connectTimeout);
    Map<String, Object> fixed = new LinkedHashMap<>();
    fixed.put("client.id", "tributary-" + pipelineId + "-" + sinkName);
    fixed.put("key.serializer", ByteArraySerializer.class.getName());
    fixed.put("value.serializer", ByteArraySerializer.class.getName());
    fixed.put("enable.idempotence", "true");
    fixed.put("acks", "all");
    Map<String, String> user = KafkaClients.sinkProducerSettings(clientProperties);
    producer =
        KafkaClients.create(
            component,
            bootstrapServers,
            clientProperties,
            () -> new KafkaProducer<>(KafkaClients.properties(bootstrapServers, user, fixed)));
    LOG.info(
        "event=kafka_sink_opened pipeline={} sink={} topic={} mode=at_least_once",
        pipelineId,
        sinkName,
        topic);
  }

  @Override
  public void write(long batchId, List<Record> records) throws Exception {
    Sink.writeAll(this, batchId, records);
  }

  /**
   * Sends each chunk as it arrives, without keeping the records or one future per record: the send
   * callbacks keep the first failure, and {@link BatchWriter#commit()} flushes and reports it. A
   * transient failure (brokers restarting) is retriable; the retried batch is sent again whole
   * (at-least-once: part of it may be duplicated).
   */
  @Override
  public BatchWriter begin(SinkBatch batch) throws Exception {
    if (producer == null || closed) {
      throw new IllegalStateException("Kafka sink " + sinkName + " is not open");
    }
    long batchId = batch.batchId();
    int partitionCount = needsPartitionCount ? producer.partitionsFor(topic).size() : 0;
    java.util.concurrent.atomic.AtomicReference<Exception> failure =
        new java.util.concurrent.atomic.AtomicReference<>();
    return new BatchWriter() {
      @Override
      public void write(List<Record> chunk) {
        for (Record r : chunk) {
          producer.send(
              routing.toProducerRecord(r, partitionCount),
              (metadata, e) -> {
                if (e != null) {
                  failure.compareAndSet(null, e);
                }
              });
        }
      }

      @Override
      public void commit() {
        producer.flush();
        Exception e = failure.get();
        if (e != null) {
          String message =
              "Kafka sink "
                  + sinkName
                  + " of pipeline "
                  + pipelineId
                  + " failed to write batch "
                  + batchId
                  + " to topic "
                  + topic
                  + ": "
                  + e
                  + " (the batch is written again; part of it may be duplicated)";
          throw KafkaClients.isTransient(e)
              ? new RetriableException(message, e)
              : new TributaryException(message, e);
        }
      }

      @Override
      public void close() {}
    };
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (producer != null) {
      KafkaClients.closeUninterrupted(() -> producer.close(Duration.ofSeconds(5)));
    }
    LOG.info("event=kafka_sink_closed pipeline={} sink={}", pipelineId, sinkName);
  }

  @Override
  public String toString() {
    return "KafkaAtLeastOnceSink{bootstrap="
        + bootstrapServers
        + ", topic="
        + topic
        + ", client-settings="
        + Secrets.describe(clientProperties)
        + "}";
  }
}
