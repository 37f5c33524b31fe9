package io.tributary.connector.kafka.internal;

import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.ApplicationRecoverableException;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.BrokerNotAvailableException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.TransactionAbortableException;
import org.apache.kafka.common.errors.TransactionAbortedException;

/**
 * Helpers shared by the Kafka source and sinks. Not public API.
 *
 * <p>Thread safety: stateless.
 */
public final class KafkaClients {
  private KafkaClients() {}

  /** Client properties: the user's pass-through entries first, then {@code fixed}, which wins. */
  public static Properties properties(
      String bootstrapServers, Map<String, String> user, Map<String, Object> fixed) {
    Properties p = new Properties();
    p.putAll(user);
    p.put("bootstrap.servers", bootstrapServers);
    p.putAll(fixed);
    return p;
  }

  /**
   * The user's client settings over the sinks' producer defaults: each batch ends with a commit or
   * a flush, so lingering to fill larger producer batches (256 KiB, 20 ms) costs no latency past
   * the batch and cuts requests per record. {@code kafka.*} settings override them.
   */
  public static Map<String, String> sinkProducerSettings(Map<String, String> user) {
    Map<String, String> out = new java.util.LinkedHashMap<>();
    out.put("batch.size", Integer.toString(256 * 1024));
    out.put("linger.ms", "20");
    out.putAll(user);
    return out;
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
      throw new IllegalArgumentException(
          "Not a Kafka partition id: " + id + " (expected: topic-N)");
    }
    try {
      return new TopicPartition(id.substring(0, dash), Integer.parseInt(id.substring(dash + 1)));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "Not a Kafka partition id: " + id + " (expected: topic-N)", e);
    }
  }

  /**
   * Whether {@code t}, or an error in its cause chain, is one the Kafka clients call transient: the
   * brokers are restarting, unreachable or electing a leader, and the same request may succeed
   * later. That is the client's {@link RetriableException} family (timeouts, disconnects, {@code
   * NOT_LEADER_OR_FOLLOWER}, coordinator not available, not enough replicas), {@link
   * BrokerNotAvailableException}, and for a transactional producer a transaction the broker aborted
   * or asks to abort ({@link TransactionAbortedException}, {@link TransactionAbortableException},
   * {@link ApplicationRecoverableException} such as an epoch bumped by a transaction timeout),
   * after which a new producer can go on. Never transient: authentication, authorization, and a
   * producer fenced by another instance (checked first, wherever they are in the chain).
   *
   * <p>{@link java.util.concurrent.ExecutionException}s of the admin client and a producer's "error
   * state" {@code KafkaException} carry the real error as their cause, hence the walk.
   */
  public static boolean isTransient(Throwable t) {
    boolean transientSeen = false;
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof AuthenticationException
          || c instanceof AuthorizationException
          || c instanceof ProducerFencedException) {
        return false;
      }
      if (c instanceof RetriableException
          || c instanceof BrokerNotAvailableException
          || c instanceof TransactionAbortedException
          || c instanceof TransactionAbortableException
          || c instanceof ApplicationRecoverableException) {
        transientSeen = true;
      }
    }
    return transientSeen;
  }

  /**
   * What to check when a client cannot connect or authenticate: the addresses and the security
   * settings in force (the protocol's name, never a secret).
   */
  public static String connectionHint(String bootstrapServers, Map<String, String> settings) {
    String protocol = settings.getOrDefault("security.protocol", "PLAINTEXT");
    return "check that the brokers at "
        + bootstrapServers
        + " are running and reachable from this host, and the kafka.security.protocol (now "
        + protocol
        + "), kafka.sasl.* and kafka.ssl.* settings";
  }

  /**
   * {@code t} and each cause as {@code Type: message}, joined with {@code "; caused by: "}, with
   * the values of secret settings in {@code settings} replaced by the mask: the Kafka clients wrap
   * the useful error (a missing JAAS entry, an unreadable keystore) in "Failed to construct kafka
   * consumer".
   */
  public static String causeChain(Throwable t, Map<String, String> settings) {
    StringBuilder b = new StringBuilder();
    java.util.Set<Throwable> seen =
        java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
    for (Throwable c = t; c != null && seen.add(c); c = c.getCause()) {
      if (b.length() > 0) {
        b.append("; caused by: ");
      }
      b.append(c.getClass().getName());
      if (c.getMessage() != null) {
        b.append(": ").append(c.getMessage());
      }
    }
    return io.tributary.core.api.Secrets.scrub(
        b.toString(), io.tributary.core.api.Secrets.secretValues(settings));
  }

  /**
   * Runs a Kafka client's constructor; its failure (a bad setting, a missing JAAS entry, an
   * unreadable keystore) becomes a {@link io.tributary.core.api.TributaryException} naming {@code
   * component} with the whole cause chain, secrets masked, and the settings to check.
   */
  public static <T> T create(
      String component,
      String bootstrapServers,
      Map<String, String> settings,
      java.util.function.Supplier<T> constructor) {
    try {
      return constructor.get();
    } catch (org.apache.kafka.common.KafkaException e) {
      throw new io.tributary.core.api.TributaryException(
          component
              + " could not create its Kafka client: "
              + causeChain(e, settings)
              + " ("
              + connectionHint(bootstrapServers, settings)
              + ")",
          io.tributary.core.api.Secrets.scrubbed(
              e, io.tributary.core.api.Secrets.secretValues(settings)));
    }
  }

  /**
   * Runs {@code close} with the calling thread's interrupt flag cleared and restores the flag
   * afterwards: the Kafka clients refuse to close on an interrupted thread, and {@code stopNow}
   * interrupts the batch thread. Blocks as long as {@code close} does.
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
