package io.tributary.testing.kafka.internal;

import io.tributary.testing.kafka.KafkaBroker;
import io.tributary.testing.kafka.KafkaBrokerException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.errors.RetriableException;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;

/**
 * The topic changes behind {@link KafkaBroker#createTopic(String, int, Map)} and {@link
 * KafkaBroker#increasePartitions(String, int)}: the change, then a wait until every partition of
 * the topic has a leader, both within one deadline.
 *
 * <p>Thread safety: stateless; each call uses an admin client of its own and blocks the calling
 * thread.
 */
public final class Topics {
  /**
   * How long a change and the wait for its leaders may take together; the Javadoc of KafkaBroker
   * names it.
   */
  private static final Duration TIMEOUT = Duration.ofSeconds(60);

  private static final Duration POLL = Duration.ofMillis(100);

  private Topics() {}

  /**
   * Creates {@code topic} on the broker at {@code bootstrapServers} and waits for a leader of each
   * partition.
   */
  public static void create(String bootstrapServers, NewTopic topic) {
    change(
        bootstrapServers,
        "Creating topic " + topic.name() + " (" + topic.numPartitions() + " partitions)",
        "use a topic name unique to your test: the broker is shared by the whole test run",
        topic.name(),
        topic.numPartitions(),
        (admin, deadline) ->
            admin
                .createTopics(List.of(topic))
                .all()
                .get(remainingNanos(deadline), TimeUnit.NANOSECONDS));
  }

  /**
   * Raises the partition count of {@code topic} to {@code totalPartitions} and waits for a leader
   * of each.
   */
  public static void increasePartitions(
      String bootstrapServers, String topic, int totalPartitions) {
    change(
        bootstrapServers,
        "Increasing the partitions of topic " + topic + " to " + totalPartitions,
        "the topic must exist and have fewer partitions",
        topic,
        totalPartitions,
        (admin, deadline) ->
            admin
                .createPartitions(Map.of(topic, NewPartitions.increaseTo(totalPartitions)))
                .all()
                .get(remainingNanos(deadline), TimeUnit.NANOSECONDS));
  }

  /** One admin request that changes a topic. */
  private interface Change {
    void apply(Admin admin, long deadlineNanos)
        throws ExecutionException, TimeoutException, InterruptedException;
  }

  private static void change(
      String bootstrapServers,
      String what,
      String hint,
      String topic,
      int partitions,
      Change change) {
    long deadline = System.nanoTime() + TIMEOUT.toNanos();
    Properties p = new Properties();
    p.put("bootstrap.servers", bootstrapServers);
    try (Admin admin = Admin.create(p)) {
      try {
        change.apply(admin, deadline);
      } catch (ExecutionException | TimeoutException e) {
        throw new KafkaBrokerException(
            what + " on " + bootstrapServers + " failed: " + e + " (" + hint + ")", e);
      }
      String missing = awaitLeaders(admin, topic, partitions, deadline);
      if (missing != null) {
        throw new KafkaBrokerException(
            what
                + " on "
                + bootstrapServers
                + ": not every partition has a leader after "
                + TIMEOUT.toSeconds()
                + " s (last seen: "
                + missing
                + ")");
      }
    } catch (ExecutionException e) {
      throw new KafkaBrokerException(
          what
              + " on "
              + bootstrapServers
              + ": describing the topic's partitions failed: "
              + e.getCause(),
          e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new KafkaBrokerException(what + " on " + bootstrapServers + ": interrupted", e);
    }
  }

  /**
   * Polls {@code describeTopics} until {@code topic} has {@code partitions} partitions, each with a
   * leader. Producing to a partition before that gets NOT_LEADER_OR_FOLLOWER retries, and an
   * idempotent producer was seen to stay stuck in them until its delivery timeout (120 s).
   *
   * @return null once they have, else what the broker said last when the deadline passed
   * @throws ExecutionException if the broker answers with an error that is not retriable
   */
  private static String awaitLeaders(Admin admin, String topic, int partitions, long deadline)
      throws ExecutionException {
    AtomicReference<String> last = new AtomicReference<>("no answer");
    long remaining = remainingNanos(deadline);
    if (remaining <= 0) {
      return last.get();
    }
    try {
      Awaitility.await("leaders of every partition of " + topic)
          .atMost(Duration.ofNanos(remaining))
          .pollDelay(Duration.ZERO)
          .pollInterval(POLL)
          .until(() -> leadersReady(admin, topic, partitions, deadline, last));
      return null;
    } catch (ConditionTimeoutException e) {
      return last.get();
    } catch (UncheckedExecution e) {
      throw e.cause;
    }
  }

  /**
   * One describeTopics: whether every partition has a leader; otherwise records why not in {@code
   * last}.
   */
  private static boolean leadersReady(
      Admin admin, String topic, int partitions, long deadline, AtomicReference<String> last)
      throws InterruptedException {
    try {
      TopicDescription d =
          admin
              .describeTopics(List.of(topic))
              .allTopicNames()
              .get(Math.max(1, remainingNanos(deadline)), TimeUnit.NANOSECONDS)
              .get(topic);
      List<Integer> leaderless =
          d.partitions().stream()
              .filter(tp -> tp.leader() == null || tp.leader().isEmpty())
              .map(TopicPartitionInfo::partition)
              .toList();
      if (d.partitions().size() == partitions && leaderless.isEmpty()) {
        return true;
      }
      last.set(d.partitions().size() + " partitions, without a leader: " + leaderless);
    } catch (ExecutionException e) {
      if (!(e.getCause() instanceof RetriableException)) {
        throw new UncheckedExecution(e);
      }
      last.set(e.getCause().toString());
    } catch (TimeoutException e) {
      last.set("no answer to describeTopics");
    }
    return false;
  }

  /** Carries a non-retriable broker error out of the Awaitility condition. */
  private static final class UncheckedExecution extends RuntimeException {
    final ExecutionException cause;

    UncheckedExecution(ExecutionException cause) {
      super(cause);
      this.cause = cause;
    }
  }

  private static long remainingNanos(long deadline) {
    return deadline - System.nanoTime();
  }
}
