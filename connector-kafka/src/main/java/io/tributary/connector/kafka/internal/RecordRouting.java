package io.tributary.connector.kafka.internal;

import io.tributary.connector.kafka.KafkaOptions.Partitioning;
import io.tributary.core.api.Record;
import io.tributary.core.api.TributaryException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;

/**
 * Turns a {@link Record} into a {@link ProducerRecord} for one output topic. Not public API.
 *
 * <p>Thread safety: safe to share; the only mutable state is a cache of the last source partition
 * id parsed, an immutable holder that any thread may replace.
 */
public final class RecordRouting {
  private final String topic;
  private final Partitioning partitioning;

  /**
   * The last source partition id parsed and its number: a chunk's records share one id instance, so
   * one identity check replaces a parse (a substring and an Integer.parseInt) per record.
   */
  private record Parsed(String id, int partition) {}

  private Parsed last = new Parsed("", -1);

  public RecordRouting(String topic, Partitioning partitioning) {
    this.topic = topic;
    this.partitioning = partitioning;
  }

  /**
   * @param partitionCount the output topic's partition count, checked for {@link
   *     Partitioning#SOURCE_PARTITION}
   */
  public ProducerRecord<byte[], byte[]> toProducerRecord(Record r, int partitionCount) {
    Integer partition = null;
    if (partitioning == Partitioning.SOURCE_PARTITION) {
      String source = r.position().partition();
      int n;
      Parsed cached = last;
      try {
        if (cached.id() == source) {
          n = cached.partition();
        } else {
          n = KafkaClients.topicPartition(source).partition();
          last = new Parsed(source, n);
        }
      } catch (IllegalArgumentException e) {
        throw new TributaryException(
            "Kafka sink for topic "
                + topic
                + " uses partitioning source-partition but record "
                + r.position()
                + " does not come from a Kafka partition (expected: a partition id topic-N; use partitioning: key)",
            e);
      }
      if (n >= partitionCount) {
        throw new TributaryException(
            "Kafka sink topic "
                + topic
                + " has "
                + partitionCount
                + " partitions but record "
                + r.position()
                + " comes from partition "
                + n
                + " (expected: add partitions to "
                + topic
                + " or use partitioning: key)");
      }
      partition = n;
    }
    List<Header> headers = null; // none: the producer record makes its own empty headers
    if (!r.headers().isEmpty()) {
      headers = new ArrayList<>(r.headers().size());
      for (Map.Entry<String, byte[]> h : r.headers().entrySet()) {
        headers.add(new RecordHeader(h.getKey(), h.getValue()));
      }
    }
    Long ts = r.timestamp() >= 0 ? r.timestamp() : null;
    return new ProducerRecord<>(topic, partition, ts, r.key(), r.value(), headers);
  }
}
