package io.tributary.connector.kafka;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.stream.IntStream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Record contents shared by this module's ITs. Their input record {@code n} always has the value
 * {@code v-n} (a test adds its own key, headers, timestamp and partition where it checks them);
 * {@link #numbered} is the plain shape several of them use.
 *
 * <p>Thread safety: stateless.
 */
final class TestRecords {
  private TestRecords() {}

  /**
   * Input record {@code n}: key {@code k<n>}, value {@code v-<n>}, partition {@code n %
   * partitions}, no headers.
   */
  static ProducerRecord<byte[], byte[]> numbered(String topic, int partitions, int n) {
    return new ProducerRecord<>(topic, n % partitions, bytes("k" + n), bytes("v-" + n));
  }

  /** The values {@code v-from} .. {@code v-(until-1)}. */
  static List<String> expected(int from, int until) {
    return IntStream.range(from, until).mapToObj(n -> "v-" + n).toList();
  }

  /** The values of {@code records}, in their order, as UTF-8 strings. */
  static List<String> values(List<ConsumerRecord<byte[], byte[]>> records) {
    return records.stream().map(r -> str(r.value())).toList();
  }

  /** The {@code n} of a record whose value is {@code v-n}. */
  static int number(ConsumerRecord<byte[], byte[]> record) {
    return Integer.parseInt(str(record.value()).substring(2));
  }

  static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static String str(byte[] b) {
    return new String(b, StandardCharsets.UTF_8);
  }
}
