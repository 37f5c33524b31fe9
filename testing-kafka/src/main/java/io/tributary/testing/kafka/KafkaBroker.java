package io.tributary.testing.kafka;

import io.tributary.testing.kafka.internal.BrokerSelection;
import io.tributary.testing.kafka.internal.DockerKafkaBroker;
import io.tributary.testing.kafka.internal.LocalKafkaBroker;
import io.tributary.testing.kafka.internal.Topics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * A real, running single-node Kafka broker for tests and benchmarks: KRaft mode, bound to
 * 127.0.0.1, transactions enabled (the internal offsets and transaction-state topics have
 * replication factor 1 and min ISR 1), topic auto-creation off.
 *
 * <p>Obtain one in JUnit 5 tests through {@link KafkaBrokerExtension} (one broker per test run,
 * shared by all test classes), or, outside JUnit, with {@link #start()} and close it yourself.
 *
 * <p>{@link #restart()} stops the broker gracefully and starts it again with the same ports and the
 * same log directories, so clients configured with {@link #bootstrapServers()} reconnect by
 * themselves and no committed data is lost.
 *
 * <p>Thread safety: {@link #bootstrapServers()} may be called from any thread at any time; {@link
 * #restart()} and {@link #close()} must not run concurrently with each other.
 */
public interface KafkaBroker extends AutoCloseable {
  /**
   * System property choosing the broker kind: {@code local} or {@code docker}; unset means docker
   * when reachable.
   */
  String BROKER_PROPERTY = "tributary.kafka.broker";

  /** Which implementation runs the broker. */
  enum Kind {
    /** A KRaft broker in a child JVM started from the kafka_2.13 classes on the classpath. */
    LOCAL,
    /**
     * A container through Testcontainers: the local image {@code localhost/tributary-kafka:VERSION}
     * (built by {@code scripts/container-images.sh}) when the engine has it, else {@code
     * apache/kafka:VERSION}.
     */
    DOCKER
  }

  /** {@code host:port} of the PLAINTEXT listener; the same before and after {@link #restart()}. */
  String bootstrapServers();

  Kind kind();

  /**
   * A second listener of the same broker that requires SASL/PLAIN authentication over plain TCP,
   * for tests of client security settings: clients connect to {@link SaslPlain#bootstrapServers()}
   * with {@link SaslPlain#clientProperties()}; the broker authorizes everything once authenticated.
   * The credentials are made up for each broker start.
   *
   * @return the listener, or empty where the broker has none (a container broker from an image
   *     other than the local {@code localhost/tributary-kafka})
   */
  default Optional<SaslPlain> saslPlain() {
    return Optional.empty();
  }

  /**
   * A third listener of the same broker that speaks TLS (the {@code SSL} protocol) with a
   * self-signed certificate for 127.0.0.1 made at each start, for tests of client TLS settings:
   * clients connect to {@link Tls#bootstrapServers()} with {@link Tls#clientProperties()}, which
   * trust that certificate.
   *
   * @return the listener, or empty where the broker has none (a container broker from an image
   *     other than the local {@code localhost/tributary-kafka})
   */
  default Optional<Tls> tls() {
    return Optional.empty();
  }

  /**
   * A TLS listener and the PKCS#12 trust store holding its certificate.
   *
   * @param bootstrapServers {@code host:port} of the listener
   * @param truststore the trust store file
   * @param truststorePassword its password
   */
  record Tls(String bootstrapServers, Path truststore, String truststorePassword) {
    /**
     * Kafka client settings that connect over TLS and trust the broker's certificate (host name
     * checked).
     */
    public Map<String, String> clientProperties() {
      return Map.of(
          "security.protocol",
          "SSL",
          "ssl.truststore.type",
          "PKCS12",
          "ssl.truststore.location",
          truststore.toString(),
          "ssl.truststore.password",
          truststorePassword);
    }

    @Override
    public String toString() {
      return "Tls[bootstrapServers="
          + bootstrapServers
          + ", truststore="
          + truststore
          + ", password=****]";
    }
  }

  /**
   * A SASL_PLAINTEXT listener with one PLAIN user.
   *
   * @param bootstrapServers {@code host:port} of the listener
   * @param username the user the broker knows
   * @param password its password
   */
  record SaslPlain(String bootstrapServers, String username, String password) {
    /**
     * Kafka client settings that authenticate as {@code user} with {@code password} on this
     * listener.
     */
    public Map<String, String> clientProperties(String user, String password) {
      return Map.of(
          "security.protocol",
          "SASL_PLAINTEXT",
          "sasl.mechanism",
          "PLAIN",
          "sasl.jaas.config",
          "org.apache.kafka.common.security.plain.PlainLoginModule required username=\""
              + user
              + "\" password=\""
              + password
              + "\";");
    }

    /** Kafka client settings that authenticate as the broker's user. */
    public Map<String, String> clientProperties() {
      return clientProperties(username, password);
    }

    @Override
    public String toString() {
      return "SaslPlain[bootstrapServers="
          + bootstrapServers
          + ", username="
          + username
          + ", password=****]";
    }
  }

  /**
   * Fault injection on the container the broker runs in ({@link ContainerFaults}): SIGKILL, pause,
   * a network partition, a degraded link.
   *
   * @return the faults, or empty where the broker is a local process ({@link Kind#LOCAL})
   */
  default Optional<ContainerFaults> containerFaults() {
    return Optional.empty();
  }

  /**
   * Stops the broker gracefully (clean shutdown, logs flushed) and starts it again on the same
   * ports with the same data. Blocks until the broker accepts requests again.
   *
   * @throws KafkaBrokerException if the broker does not stop or start in time
   */
  void restart();

  /**
   * Kills the broker process with SIGKILL (no clean shutdown: nothing flushed, open transactions
   * left as they are) and starts it again on the same ports with the same data directories, as
   * after a machine crash; the broker recovers its logs on start. Blocks until the broker accepts
   * requests again. Data the broker acknowledged with {@code acks=all} survives when it had reached
   * the page cache (the test machine itself does not crash).
   *
   * @throws KafkaBrokerException if the broker does not come back in time
   */
  void killAndRestart();

  /** Stops the broker and deletes its data. Idempotent. */
  @Override
  void close();

  /**
   * Creates {@code topic} with {@code partitions} partitions (replication factor 1) and blocks
   * until the broker's metadata names a leader for every one of them, so a producer may send to any
   * partition right away. (Producing to a fresh topic before that gets NOT_LEADER_OR_FOLLOWER
   * retries, and an idempotent producer was seen to stay stuck in them until its delivery timeout,
   * 120 s.)
   *
   * <p>Blocks the calling thread for the creation and the wait together at most 60 s. It does not
   * wait for anything else: consumer groups, transactions and the clients' own metadata caches are
   * the caller's.
   *
   * @throws KafkaBrokerException if the broker refuses (e.g. the topic exists), or the topic does
   *     not have a leader for every partition within 60 s
   */
  default void createTopic(String topic, int partitions) {
    createTopic(topic, partitions, Map.of());
  }

  /**
   * Like {@link #createTopic(String, int)} with topic-level configs such as {@code cleanup.policy}.
   */
  default void createTopic(String topic, int partitions, Map<String, String> configs) {
    Topics.create(bootstrapServers(), new NewTopic(topic, partitions, (short) 1).configs(configs));
  }

  /**
   * Raises the partition count of the existing {@code topic} to {@code totalPartitions} and, like
   * {@link #createTopic(String, int)}, blocks until every partition, old and new, has a leader: at
   * most 60 s in all. Clients already running find the new partitions with their next metadata
   * refresh ({@code metadata.max.age.ms}).
   *
   * @throws KafkaBrokerException if the broker refuses (e.g. the topic does not exist or already
   *     has that many partitions), or not every partition has a leader within 60 s
   */
  default void increasePartitions(String topic, int totalPartitions) {
    Topics.increasePartitions(bootstrapServers(), topic, totalPartitions);
  }

  /**
   * Starts a broker of the kind chosen by the system property {@value #BROKER_PROPERTY}: {@code
   * local}, {@code docker}, or (unset) docker when a Docker engine is reachable and local
   * otherwise. Blocks until it accepts requests.
   *
   * @throws KafkaBrokerException if it cannot start, or the property has another value
   */
  static KafkaBroker start() {
    return BrokerSelection.choose(System.getProperty(BROKER_PROPERTY)) == Kind.DOCKER
        ? startDocker()
        : startLocal();
  }

  /**
   * A local KRaft broker in a child JVM (needs kafka_2.13 on the classpath); waits at most 120 s
   * for it.
   */
  static KafkaBroker startLocal() {
    return LocalKafkaBroker.start(Duration.ofSeconds(120));
  }

  /**
   * Every record of {@code topic} that a {@code read_committed} consumer sees now, partition by
   * partition from the beginning up to the current end offsets (records of aborted or open
   * transactions are not returned). Blocks until read; meant for assertions on small topics.
   */
  default List<ConsumerRecord<byte[], byte[]>> readCommitted(String topic) {
    Properties props = new Properties();
    props.put("bootstrap.servers", bootstrapServers());
    props.put("key.deserializer", ByteArrayDeserializer.class.getName());
    props.put("value.deserializer", ByteArrayDeserializer.class.getName());
    props.put("isolation.level", "read_committed");
    List<ConsumerRecord<byte[], byte[]>> result = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(props)) {
      List<TopicPartition> tps =
          c.partitionsFor(topic).stream()
              .map(pi -> new TopicPartition(topic, pi.partition()))
              .toList();
      c.assign(tps);
      c.seekToBeginning(tps);
      Map<TopicPartition, Long> ends = c.endOffsets(tps);
      while (tps.stream().anyMatch(tp -> c.position(tp) < ends.get(tp))) {
        c.poll(Duration.ofMillis(100)).forEach(result::add);
      }
    }
    return result;
  }

  /** A Testcontainers broker from the {@code apache/kafka} image (needs a Docker engine). */
  static KafkaBroker startDocker() {
    return DockerKafkaBroker.start();
  }
}
