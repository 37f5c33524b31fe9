package io.tributary.connector.kafka;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import java.util.stream.IntStream;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Writes a test's input: every send is checked (all records sent, the producer flushed, then each
 * acknowledgement awaited), so a failed input write fails the test where it happens rather than as
 * a timeout on the output later.
 *
 * <p>{@link #send} uses one idempotent producer, created on the first send and kept until {@link
 * #close()}: a fresh idempotent producer per call was seen to get a producer id still known to the
 * broker on a loaded machine. {@link #sendAndCommit} and {@link #sendAndAbort} use a transactional
 * producer of their own for each call.
 *
 * <p>Thread safety: for the test's thread only.
 */
final class CheckedProducer implements AutoCloseable {
  private static final Duration ACK_TIMEOUT = Duration.ofSeconds(30);

  private final String bootstrapServers;
  private KafkaProducer<byte[], byte[]> producer;

  CheckedProducer(String bootstrapServers) {
    this.bootstrapServers = bootstrapServers;
  }

  /** Byte-array producer settings for the broker at {@code bootstrapServers}. */
  static Properties producerProps(String bootstrapServers) {
    Properties p = new Properties();
    p.put("bootstrap.servers", bootstrapServers);
    p.put("key.serializer", ByteArraySerializer.class.getName());
    p.put("value.serializer", ByteArraySerializer.class.getName());
    return p;
  }

  /**
   * Sends {@code record.apply(n)} for {@code n} from {@code from} to {@code until - 1}; returns
   * once all are acked.
   */
  void send(int from, int until, IntFunction<ProducerRecord<byte[], byte[]>> record)
      throws Exception {
    send(IntStream.range(from, until).mapToObj(record).toList());
  }

  /** Sends {@code records} in their order; returns once all are acked. */
  void send(List<ProducerRecord<byte[], byte[]>> records) throws Exception {
    if (producer == null) {
      producer = new KafkaProducer<>(producerProps(bootstrapServers));
    }
    sendChecked(producer, records);
  }

  /**
   * Sends {@code record.apply(n)} for {@code n} from {@code from} to {@code until - 1} in one
   * transaction of a new producer with {@code transactionalId}, checks every send, and commits.
   */
  static void sendAndCommit(
      String bootstrapServers,
      String transactionalId,
      int from,
      int until,
      IntFunction<ProducerRecord<byte[], byte[]>> record)
      throws Exception {
    inTransaction(bootstrapServers, transactionalId, from, until, record, true);
  }

  /**
   * Like {@link #sendAndCommit}, but aborts: the records take offsets in the log that
   * read_committed skips.
   */
  static void sendAndAbort(
      String bootstrapServers,
      String transactionalId,
      int from,
      int until,
      IntFunction<ProducerRecord<byte[], byte[]>> record)
      throws Exception {
    inTransaction(bootstrapServers, transactionalId, from, until, record, false);
  }

  private static void inTransaction(
      String bootstrapServers,
      String transactionalId,
      int from,
      int until,
      IntFunction<ProducerRecord<byte[], byte[]>> record,
      boolean commit)
      throws Exception {
    Properties props = producerProps(bootstrapServers);
    props.put("transactional.id", transactionalId);
    try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(props)) {
      p.initTransactions();
      p.beginTransaction();
      sendChecked(p, IntStream.range(from, until).mapToObj(record).toList());
      if (commit) {
        p.commitTransaction();
      } else {
        p.abortTransaction();
      }
    }
  }

  private static void sendChecked(
      KafkaProducer<byte[], byte[]> p, List<ProducerRecord<byte[], byte[]>> records)
      throws Exception {
    List<Future<RecordMetadata>> acks = new ArrayList<>();
    for (ProducerRecord<byte[], byte[]> r : records) {
      acks.add(p.send(r));
    }
    p.flush();
    for (Future<RecordMetadata> ack : acks) {
      ack.get(ACK_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  /** Closes the producer if a send created one. Idempotent. */
  @Override
  public void close() {
    if (producer != null) {
      producer.close();
      producer = null;
    }
  }
}
