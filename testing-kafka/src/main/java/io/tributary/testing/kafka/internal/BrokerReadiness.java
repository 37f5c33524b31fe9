package io.tributary.testing.kafka.internal;

import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Waits until a broker answers a metadata request ({@link #await}) or takes a write ({@link
 * #awaitWritable}).
 *
 * <p>Thread safety: stateless; blocks the calling thread.
 */
final class BrokerReadiness {
  private BrokerReadiness() {}

  /**
   * Blocks until {@code bootstrapServers} answers {@code describeCluster} with at least one node,
   * or {@code timeout} passes, or {@code failure} returns a non-null reason (e.g. the broker
   * process died).
   *
   * @return null when ready, else why not
   */
  static String await(String bootstrapServers, Duration timeout, Supplier<String> failure)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    Properties p = probeClient(bootstrapServers, "tributary-test-broker-probe");
    String last = "no answer";
    try (Admin admin = Admin.create(p)) {
      while (System.nanoTime() < deadline) {
        String failed = failure.get();
        if (failed != null) {
          return failed;
        }
        try {
          if (!admin.describeCluster().nodes().get(2, TimeUnit.SECONDS).isEmpty()) {
            return null;
          }
        } catch (ExecutionException | TimeoutException e) {
          last = e.toString();
        }
      }
    }
    return "broker at "
        + bootstrapServers
        + " did not answer within "
        + timeout
        + " (last: "
        + last
        + ")";
  }

  /** The topic {@link #awaitWritable} writes its probe records to (one partition). */
  static final String PROBE_TOPIC = "__tributary_broker_probe";

  /**
   * Blocks until {@code bootstrapServers} acknowledges a produced record with {@code acks=all}
   * (creating {@link #PROBE_TOPIC} first if it is missing), or {@code timeout} passes. A broker can
   * answer metadata requests well before its write path works again after a fault (a partition
   * ended, a pause thawed); a test that goes on at that moment meets its own producer's timeouts,
   * so a fault is over only when a write goes through.
   *
   * @return null when a write was acknowledged, else why not
   */
  static String awaitWritable(String bootstrapServers, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    Properties p = probeClient(bootstrapServers, "tributary-test-broker-write-probe");
    String last = "no answer";
    try (Admin admin = Admin.create(p)) {
      while (System.nanoTime() < deadline) {
        try {
          admin
              .createTopics(java.util.List.of(new NewTopic(PROBE_TOPIC, 1, (short) 1)))
              .all()
              .get(2, TimeUnit.SECONDS);
          break;
        } catch (ExecutionException e) {
          if (e.getCause() instanceof TopicExistsException) {
            break;
          }
          last = e.toString();
        } catch (TimeoutException e) {
          last = e.toString();
        }
      }
    }
    p.remove("default.api.timeout.ms");
    p.put("acks", "all");
    p.put("max.block.ms", "2000");
    p.put("delivery.timeout.ms", "4000");
    p.put("linger.ms", "0");
    p.put("enable.idempotence", "false");
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
      while (System.nanoTime() < deadline) {
        try {
          producer.send(new ProducerRecord<>(PROBE_TOPIC, new byte[] {1})).get(5, TimeUnit.SECONDS);
          return null;
        } catch (ExecutionException | TimeoutException | org.apache.kafka.common.KafkaException e) {
          last = e.toString();
        }
      }
    }
    return "broker at "
        + bootstrapServers
        + " did not acknowledge a write within "
        + timeout
        + " (last: "
        + last
        + ")";
  }

  /** Short timeouts and fast reconnects: a probe asks often instead of waiting long. */
  private static Properties probeClient(String bootstrapServers, String clientId) {
    Properties p = new Properties();
    p.put("bootstrap.servers", bootstrapServers);
    p.put("request.timeout.ms", "2000");
    p.put("default.api.timeout.ms", "2000");
    p.put("reconnect.backoff.max.ms", "200");
    p.put("client.id", clientId);
    return p;
  }
}
