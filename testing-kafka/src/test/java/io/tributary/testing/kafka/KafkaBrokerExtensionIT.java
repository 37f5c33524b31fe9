package io.tributary.testing.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(KafkaBrokerExtension.class)
class KafkaBrokerExtensionIT {
  @Test
  void transactionsWorkAndCommittedDataSurvivesARestartOnTheSameAddress(KafkaBroker broker) {
    broker.createTopic("kbe-tx", 2);
    String before = broker.bootstrapServers();
    assertThat(before).startsWith("127.0.0.1:");

    try (KafkaProducer<String, String> producer = producer(broker, "kbe-1")) {
      producer.initTransactions();
      producer.beginTransaction();
      producer.send(new ProducerRecord<>("kbe-tx", 0, null, "committed-1"));
      producer.commitTransaction();
      producer.beginTransaction();
      producer.send(new ProducerRecord<>("kbe-tx", 0, null, "aborted"));
      producer.abortTransaction();
    }

    broker.restart();
    assertThat(broker.bootstrapServers()).isEqualTo(before);

    try (KafkaProducer<String, String> producer = producer(broker, "kbe-2")) {
      producer.initTransactions();
      producer.beginTransaction();
      producer.send(new ProducerRecord<>("kbe-tx", 1, null, "committed-2"));
      producer.commitTransaction();
    }
    assertThat(readCommitted(broker, "kbe-tx", 2))
        .containsExactlyInAnyOrder("committed-1", "committed-2");
  }

  @Test
  void createTopicAndIncreasePartitionsReturnOnlyOnceEveryPartitionHasALeader(KafkaBroker broker)
      throws Exception {
    broker.createTopic("kbe-leaders", 3);
    assertThat(leaders(broker, "kbe-leaders"))
        .as("leaders right after createTopic")
        .hasSize(3)
        .doesNotContainNull();
    broker.increasePartitions("kbe-leaders", 5);
    assertThat(leaders(broker, "kbe-leaders"))
        .as("leaders right after increasePartitions")
        .hasSize(5)
        .doesNotContainNull();
    assertThatThrownBy(() -> broker.createTopic("kbe-leaders", 3))
        .isInstanceOf(KafkaBrokerException.class)
        .hasMessageContaining("Creating topic kbe-leaders (3 partitions)")
        .hasMessageContaining("unique to your test");
  }

  /**
   * A fault's end returns only once the broker takes writes again, so the next test's fresh
   * producer is not the one that meets the fault's tail (a partition once stalled the next test
   * class's producer for 60 s with REQUEST_TIMED_OUT). Container brokers only: a local broker
   * process has no container faults.
   */
  @Test
  void aFreshTransactionalProducerCommitsRightAfterEachFaultEnds(KafkaBroker broker) {
    Assumptions.assumeTrue(
        broker.containerFaults().isPresent(), "the broker runs in no container (local process)");
    ContainerFaults faults = broker.containerFaults().orElseThrow();
    broker.createTopic("kbe-faults", 1);
    List<String> expected = new ArrayList<>();
    List<Runnable[]> cases =
        List.of(
            new Runnable[] {faults::disconnect, faults::reconnect},
            new Runnable[] {faults::pause, faults::unpause},
            new Runnable[] {() -> faults.degradeLink(50, 500), faults::restoreLink});
    for (int i = 0; i < cases.size(); i++) {
      cases.get(i)[0].run();
      cases.get(i)[1].run();
      Properties p = new Properties();
      p.put("bootstrap.servers", broker.bootstrapServers());
      p.put("transactional.id", "kbe-faults-" + i);
      // well below the 30 s defaults: a broker that is not yet writable fails this, not a wait
      p.put("max.block.ms", "10000");
      p.put("delivery.timeout.ms", "10000");
      p.put("request.timeout.ms", "5000");
      long t0 = System.nanoTime();
      try (KafkaProducer<String, String> producer =
          new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
        producer.initTransactions();
        producer.beginTransaction();
        producer.send(new ProducerRecord<>("kbe-faults", 0, null, "after-fault-" + i));
        producer.commitTransaction();
      }
      expected.add("after-fault-" + i);
      System.out.printf(
          "KafkaBrokerExtensionIT: fault %d ended; a fresh transactional producer committed in %d"
              + " ms%n",
          i, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
    }
    assertThat(readCommitted(broker, "kbe-faults", 1, expected.size()))
        .containsExactlyElementsOf(expected);
  }

  @Test
  void theSameBrokerIsInjectedEverywhere(KafkaBroker a, KafkaBroker b) {
    assertThat(a).isSameAs(b);
  }

  private static KafkaProducer<String, String> producer(KafkaBroker broker, String txId) {
    Properties p = new Properties();
    p.put("bootstrap.servers", broker.bootstrapServers());
    p.put("transactional.id", txId);
    return new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
  }

  /**
   * The leader of each partition of {@code topic} as the broker's metadata names it now (null where
   * none).
   */
  private static List<Node> leaders(KafkaBroker broker, String topic) throws Exception {
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrapServers()))) {
      List<Node> leaders = new ArrayList<>();
      for (TopicPartitionInfo p :
          admin
              .describeTopics(List.of(topic))
              .allTopicNames()
              .get(30, TimeUnit.SECONDS)
              .get(topic)
              .partitions()) {
        leaders.add(p.leader() == null || p.leader().isEmpty() ? null : p.leader());
      }
      return leaders;
    }
  }

  private static List<String> readCommitted(KafkaBroker broker, String topic, int expected) {
    return readCommitted(broker, topic, 2, expected);
  }

  private static List<String> readCommitted(
      KafkaBroker broker, String topic, int partitions, int expected) {
    Properties p = new Properties();
    p.put("bootstrap.servers", broker.bootstrapServers());
    p.put("isolation.level", "read_committed");
    List<String> values = new ArrayList<>();
    try (KafkaConsumer<String, String> c =
        new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer())) {
      List<TopicPartition> tps = new ArrayList<>();
      for (int i = 0; i < partitions; i++) {
        tps.add(new TopicPartition(topic, i));
      }
      c.assign(tps);
      c.seekToBeginning(tps);
      Map<TopicPartition, Long> end = c.endOffsets(tps);
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (tps.stream().anyMatch(tp -> c.position(tp) < end.get(tp))
          && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) {
          values.add(r.value());
        }
      }
    }
    assertThat(values).hasSize(expected);
    return values;
  }
}
