package io.tributary.connector.kafka.internal;

import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.TopicPartition;

/**
 * Helpers shared by the Kafka source and sinks. Not public API.
 *
 * <p>Thread safety: stateless.
 */
public final class KafkaClients {
  private KafkaClients() {}

  /** Client properties: the user's pass-through entries first, then {@code fixed}, which wins. */
  public static Properties properties(String bootstrapServers, Map<String, String> user, Map<String, Object> fixed) {
    Properties p = new Properties();
    p.putAll(user);
    p.put("bootstrap.servers", bootstrapServers);
    p.putAll(fixed);
    return p;
  }

  /** The partition id used in checkpoints and positions: {@code topic-N}. */
  public static String partitionId(TopicPartition tp) {
    return tp.topic() + "-" + tp.partition();
  }

  /**
   * Parses a {@code topic-N} partition id.
   *
   * @throws IllegalArgumentException when {@code id} does not end with {@code -N}
   */
  public static TopicPartition topicPartition(String id) {
    int dash = id.lastIndexOf('-');
    if (dash <= 0 || dash == id.length() - 1) {
      throw new IllegalArgumentException("Not a Kafka partition id: " + id + " (expected: topic-N)");
    }
    try {
      return new TopicPartition(id.substring(0, dash), Integer.parseInt(id.substring(dash + 1)));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("Not a Kafka partition id: " + id + " (expected: topic-N)", e);
    }
  }

  /**
   * Runs {@code close} with the calling thread's interrupt flag cleared and restores the flag afterwards: the Kafka
   * clients refuse to close on an interrupted thread, and {@code stopNow} interrupts the batch thread. Blocks as long
   * as {@code close} does.
   */
  public static void closeUninterrupted(Runnable close) {
    boolean interrupted = Thread.interrupted();
    try {
      close.run();
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
