package io.tributary.connector.kafka;

import io.tributary.connector.kafka.internal.GroupOffsetsHandoff;
import io.tributary.connector.kafka.internal.KafkaClients;
import io.tributary.core.api.CloseableIterator;
import io.tributary.core.api.Config;
import io.tributary.core.api.ExternallyAssignedSource;
import io.tributary.core.api.OffsetRange;
import io.tributary.core.api.PartitionInfo;
import io.tributary.core.api.Record;
import io.tributary.core.api.RetriableException;
import io.tributary.core.api.Secrets;
import io.tributary.core.api.SourceContext;
import io.tributary.core.api.TransactionalPositionsSource;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads Kafka topics as a member of a consumer group: Kafka's group protocol (cooperative-sticky
 * assignor) spreads the partitions over every instance of the pipeline that uses the same {@code
 * group-id}, and the partitions the runtime plans are this instance's current assignment. An {@link
 * ExternallyAssignedSource}: a partition newly assigned starts at the group's committed offset (or
 * the starting position when the group has none), whatever this instance's checkpoint last said
 * about it.
 *
 * <p>How a batch flows: {@link #partitions()} first polls the group consumer, which is where
 * rebalances happen (its partitions are always paused; it never fetches records), then lists the
 * assigned partitions with their end offsets. The runtime plans ranges for them and {@link
 * #read(OffsetRange)} reads each range with a separate, group-less consumer exactly as {@link
 * KafkaDirectSource} does. Because the group consumer is polled only between batches, a revocation
 * never interrupts a batch: the batch in flight finishes and commits first, and the other members
 * wait for this one at the rebalance barrier (at most {@code max.poll.interval.ms}, default 5
 * minutes; a batch slower than that gets this member expelled, and its offset commit is then
 * refused, see below).
 *
 * <p>Offsets: with the transactional {@link KafkaSink} as the pipeline's only sink, the sink
 * commits the batch's end offsets inside its transaction with this consumer's group metadata (see
 * {@link GroupOffsetsHandoff}), so output and group offsets move together, and a zombie whose
 * generation is stale has its transaction refused. With any other sink the offsets are committed to
 * the group after the batch's checkpoint commit ({@link #onBatchCommitted}); a crash or a rebalance
 * between the two makes the next owner read that batch again (at-least-once). Each commit carries
 * the metadata {@code tributary:<pipeline>:<batch>}.
 *
 * <p>Replay after a crash: the runtime re-reads the last planned batch of this instance's
 * checkpoint. A range of a partition this instance no longer owns is skipped (its owner reads it
 * from the group's offset), and a range of a partition whose group offset another pipeline
 * committed is cut to start at that offset, so nothing is written twice. A replay may therefore
 * read fewer records than the first attempt.
 *
 * <p>Every instance needs its own pipeline id (it names the checkpoint and the sink's {@code
 * transactional.id}) and its own checkpoint location, with the same {@code group-id}.
 *
 * <p>Thread safety: {@link #partitions()}, {@link #onBatchCommitted} and the sink hand-off run on
 * the batch thread and serialize on one lock around the group consumer; {@link #read(OffsetRange)}
 * may run on other threads.
 */
public final class KafkaGroupSource
    implements ExternallyAssignedSource,
        TransactionalPositionsSource<GroupOffsetsHandoff.Participant> {
  private static final Logger LOG = LoggerFactory.getLogger(KafkaGroupSource.class);
  private static final Duration JOIN_POLL = Duration.ofMillis(100);

  private final String bootstrapServers;
  private final List<String> topics;
  private final String groupId;
  private final Duration joinTimeout;
  private final Map<String, String> clientProperties;
  private final KafkaDirectSource reader;
  private final ReentrantLock lock = new ReentrantLock();
  private final Set<TopicPartition> assigned = ConcurrentHashMap.newKeySet();

  /**
   * Where a partition continues when the planner sees it as newly listed: the group offset, then
   * our own reads.
   */
  private final Map<TopicPartition, Long> initial = new ConcurrentHashMap<>();

  /**
   * Group offsets another pipeline committed, found at assignment: replayed ranges start no lower.
   */
  private final Map<TopicPartition, Long> floors = new ConcurrentHashMap<>();

  /** End offsets read in the batch in flight and not committed to the group yet. */
  private final Map<TopicPartition, Long> pending = new ConcurrentHashMap<>();

  private final Set<TopicPartition> existingAtOpen = new HashSet<>();

  /**
   * Partitions revoked or lost since the last listing: the batch in flight must not commit them.
   */
  private final Set<TopicPartition> droppedSinceListing = ConcurrentHashMap.newKeySet();

  private final Participant participant = new Participant();

  private String pipelineId = "";
  private String sourceName = "kafka-group";
  private KafkaConsumer<byte[], byte[]> group;
  private volatile boolean joined;
  private volatile long rebalancesCompleted;
  private volatile boolean closed;

  /**
   * Creates the source from options validated by {@link KafkaOptions#GROUP_SOURCE}. Connects only
   * in {@link #open}.
   */
  public KafkaGroupSource(Config config) {
    this.bootstrapServers = config.get(KafkaOptions.BOOTSTRAP_SERVERS);
    this.topics = List.copyOf(config.get(KafkaOptions.TOPICS));
    this.groupId = config.get(KafkaOptions.GROUP_ID);
    this.joinTimeout = config.get(KafkaOptions.GROUP_JOIN_TIMEOUT);
    this.clientProperties = KafkaOptions.clientProperties(config);
    this.reader = new KafkaDirectSource(config, false);
  }

  @Override
  public void open(SourceContext context) throws Exception {
    this.pipelineId = context.pipelineId();
    this.sourceName = context.sourceName();
    reader.open(context);
    Map<String, String> user = new LinkedHashMap<>();
    if (!"consumer".equalsIgnoreCase(clientProperties.get("group.protocol"))) {
      user.put("partition.assignment.strategy", CooperativeStickyAssignor.class.getName());
    }
    // New partitions are noticed through metadata refreshes; Kafka's default of 5 minutes is long
    // for that.
    user.put("metadata.max.age.ms", "30000");
    user.putAll(clientProperties);
    Map<String, Object> fixed = new LinkedHashMap<>();
    fixed.put("client.id", "tributary-" + pipelineId + "-" + sourceName + "-group");
    fixed.put("group.id", groupId);
    fixed.put("key.deserializer", ByteArrayDeserializer.class.getName());
    fixed.put("value.deserializer", ByteArrayDeserializer.class.getName());
    fixed.put("enable.auto.commit", "false");
    // Never used for reading (partitions stay paused); avoids NoOffsetForPartitionException on a
    // fresh group.
    fixed.put("auto.offset.reset", "earliest");
    group =
        KafkaClients.create(
            "Kafka source " + sourceName + " of pipeline " + pipelineId,
            bootstrapServers,
            clientProperties,
            () -> new KafkaConsumer<>(KafkaClients.properties(bootstrapServers, user, fixed)));
    lock.lock();
    try {
      for (String topic : topics) {
        try {
          group
              .partitionsFor(topic, Duration.ofSeconds(30))
              .forEach(p -> existingAtOpen.add(new TopicPartition(topic, p.partition())));
        } catch (KafkaException e) {
          LOG.warn(
              "event=kafka_topic_missing pipeline={} source={} topic={} error=\"{}\"",
              pipelineId,
              sourceName,
              topic,
              e.toString());
        }
      }
      group.subscribe(topics, new Listener());
      long deadline = System.nanoTime() + joinTimeout.toNanos();
      while (!joined && System.nanoTime() < deadline) {
        group.poll(JOIN_POLL);
      }
    } finally {
      lock.unlock();
    }
    LOG.info(
        "event=kafka_group_source_opened pipeline={} source={} group={} topics={} joined={} assigned={}"
            + " client_settings={}",
        pipelineId,
        sourceName,
        groupId,
        topics,
        joined,
        sorted(assigned),
        Secrets.describe(clientProperties));
  }

  @Override
  public List<PartitionInfo> partitions() throws Exception {
    lock.lock();
    try {
      ensureOpen();
      // Rebalance callbacks run inside this poll, between batches. Paused partitions return no
      // records.
      group.poll(joined ? Duration.ZERO : JOIN_POLL);
      droppedSinceListing.clear();
    } finally {
      lock.unlock();
    }
    List<PartitionInfo> out = new ArrayList<>();
    for (PartitionInfo p : reader.partitions()) {
      TopicPartition tp = KafkaClients.topicPartition(p.id());
      Long start = initial.get(tp);
      if (assigned.contains(tp) && start != null) {
        out.add(PartitionInfo.open(p.id(), start, Math.max(p.endPosition().toLong(), start)));
      }
    }
    return out;
  }

  @Override
  public CloseableIterator<Record> read(OffsetRange range) throws Exception {
    TopicPartition tp = KafkaClients.topicPartition(range.partition());
    if (!assigned.contains(tp)) {
      LOG.info(
          "event=kafka_group_range_skipped pipeline={} source={} range={} reason=\"partition not assigned to this"
              + " instance; its owner reads it from the group's committed offset\"",
          pipelineId,
          sourceName,
          range);
      return CloseableIterator.of(List.of());
    }
    long from = range.fromOffset();
    long until = range.untilOffset();
    Long floor = floors.get(tp);
    if (floor != null && floor > from) {
      LOG.info(
          "event=kafka_group_range_cut pipeline={} source={} range={} group_offset={} reason=\"another instance"
              + " committed up to group_offset\"",
          pipelineId,
          sourceName,
          range,
          floor);
      from = Math.min(floor, until);
    }
    if (from >= until) {
      return CloseableIterator.of(List.of());
    }
    // The group offset to commit with this batch, and where the partition goes on if the planner
    // sees it anew.
    pending.merge(tp, until, Math::max);
    initial.merge(tp, until, Math::max);
    return reader.read(new OffsetRange(range.partition(), from, until));
  }

  @Override
  public void onBatchCommitted(long batchId, List<OffsetRange> ranges) throws Exception {
    String meta = GroupOffsetsHandoff.commitMetadata(pipelineId, batchId);
    lock.lock();
    try {
      ensureOpen();
      for (int attempt = 1; ; attempt++) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        pending.forEach((tp, offset) -> offsets.put(tp, new OffsetAndMetadata(offset, meta)));
        if (offsets.isEmpty()) {
          return;
        }
        try {
          group.commitSync(offsets);
          pending.clear();
          return;
        } catch (org.apache.kafka.common.errors.RebalanceInProgressException
            | org.apache.kafka.clients.consumer.CommitFailedException e) {
          if (attempt >= 3) {
            throw e;
          }
          // Completing the rebalance drops the pending offsets of partitions this instance lost
          // (their next owner
          // reads the batch again: at-least-once); the rest are committed with the new generation.
          LOG.info(
              "event=kafka_group_commit_retry pipeline={} source={} batch={} reason=\"{}\"",
              pipelineId,
              sourceName,
              batchId,
              e.toString());
          completeRebalanceLocked();
        }
      }
    } catch (KafkaException e) {
      pending.clear();
      throw new RetriableException(
          "Kafka group source "
              + sourceName
              + " of pipeline "
              + pipelineId
              + " could not commit batch "
              + batchId
              + " offsets to group "
              + groupId
              + ": "
              + e
              + " (at-least-once: the partitions' next owner reads that"
              + " batch again; a rebalance or a batch slower than max.poll.interval.ms causes this)",
          e);
    } finally {
      lock.unlock();
    }
  }

  private void completeRebalanceLocked() throws InterruptedException {
    long before = rebalancesCompleted;
    long deadline = System.nanoTime() + joinTimeout.toNanos();
    while (rebalancesCompleted == before) {
      if (Thread.interrupted()) {
        throw new InterruptedException("waiting for a rebalance of group " + groupId);
      }
      if (System.nanoTime() > deadline) {
        throw new io.tributary.core.api.TributaryException(
            "Kafka group source "
                + sourceName
                + " of pipeline "
                + pipelineId
                + ": group "
                + groupId
                + " did not"
                + " complete its rebalance within "
                + joinTimeout.toMillis()
                + " ms (group-join-timeout); the batch is"
                + " replayed on restart for the partitions this instance still owns then. Check the other members'"
                + " batch times and raise group-join-timeout if they are long");
      }
      group.poll(Duration.ofMillis(50));
    }
  }

  private void ensureOpen() {
    if (closed || group == null) {
      throw new IllegalStateException(
          "Kafka group source " + sourceName + " of pipeline " + pipelineId + " is not open");
    }
  }

  @Override
  public void close() throws Exception {
    if (closed) {
      return;
    }
    closed = true;
    boolean interrupted = Thread.interrupted();
    lock.lock();
    try {
      if (group != null) {
        // Leaves the group, so the others take the partitions over without waiting for the session
        // timeout.
        group.close(Duration.ofSeconds(5));
      }
    } catch (KafkaException e) {
      LOG.warn(
          "event=kafka_group_close_failed pipeline={} source={} error=\"{}\"",
          pipelineId,
          sourceName,
          e.toString());
    } finally {
      lock.unlock();
      try {
        reader.close();
      } finally {
        if (interrupted) {
          Thread.currentThread().interrupt();
        }
      }
    }
    LOG.info(
        "event=kafka_group_source_closed pipeline={} source={} group={}",
        pipelineId,
        sourceName,
        groupId);
  }

  @Override
  public String toString() {
    return "KafkaGroupSource{bootstrap="
        + bootstrapServers
        + ", topics="
        + topics
        + ", group-id="
        + groupId
        + ", client-settings="
        + Secrets.describe(clientProperties)
        + "}";
  }

  private static Set<String> sorted(Collection<TopicPartition> tps) {
    Set<String> out = new TreeSet<>();
    tps.forEach(tp -> out.add(KafkaClients.partitionId(tp)));
    return out;
  }

  /** Runs inside {@code group.poll()}, on the thread holding {@link #lock}. */
  private final class Listener implements ConsumerRebalanceListener {
    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
      joined = true;
      // Called after every completed rebalance, with the added partitions only (possibly none).
      rebalancesCompleted++;
      if (partitions.isEmpty()) {
        return;
      }
      group.pause(partitions);
      Map<TopicPartition, OffsetAndMetadata> committed = group.committed(new HashSet<>(partitions));
      List<TopicPartition> fresh = new ArrayList<>();
      List<TopicPartition> discovered = new ArrayList<>();
      for (TopicPartition tp : partitions) {
        OffsetAndMetadata c = committed.get(tp);
        if (c == null) {
          (existingAtOpen.contains(tp) ? fresh : discovered).add(tp);
          continue;
        }
        initial.put(tp, c.offset());
        if (GroupOffsetsHandoff.committedBy(c.metadata(), pipelineId)) {
          floors.remove(tp);
        } else {
          floors.put(tp, c.offset());
        }
      }
      if (!fresh.isEmpty() || !discovered.isEmpty()) {
        Map<TopicPartition, OffsetAndMetadata> starts = new HashMap<>();
        try {
          resolve(fresh, true, starts);
          resolve(discovered, false, starts);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new org.apache.kafka.common.errors.InterruptException(e);
        } catch (Exception e) {
          throw new KafkaException(
              "could not resolve starting offsets of " + sorted(starts.keySet()) + ": " + e, e);
        }
        // Fix the start in the group at once, so that "latest" or a timestamp means the same to the
        // next owner.
        group.commitSync(starts);
      }
      assigned.addAll(partitions);
      LOG.info(
          "event=kafka_group_assigned pipeline={} source={} group={} added={} now={}",
          pipelineId,
          sourceName,
          groupId,
          sorted(partitions),
          sorted(assigned));
    }

    private void resolve(
        List<TopicPartition> tps, boolean applySetting, Map<TopicPartition, OffsetAndMetadata> out)
        throws Exception {
      if (tps.isEmpty()) {
        return;
      }
      String meta = "tributary:" + pipelineId + ":start";
      for (Map.Entry<TopicPartition, Long> e : reader.startOffsets(tps, applySetting).entrySet()) {
        initial.put(e.getKey(), e.getValue());
        floors.remove(e.getKey());
        out.put(e.getKey(), new OffsetAndMetadata(e.getValue(), meta));
      }
    }

    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
      forget(partitions, "revoked");
    }

    @Override
    public void onPartitionsLost(Collection<TopicPartition> partitions) {
      forget(partitions, "lost");
    }

    private void forget(Collection<TopicPartition> partitions, String how) {
      if (partitions.isEmpty()) {
        return;
      }
      assigned.removeAll(partitions);
      droppedSinceListing.addAll(partitions);
      for (TopicPartition tp : partitions) {
        initial.remove(tp);
        floors.remove(tp);
        pending.remove(tp);
      }
      LOG.info(
          "event=kafka_group_{} pipeline={} source={} group={} partitions={} now={}",
          how,
          pipelineId,
          sourceName,
          groupId,
          sorted(partitions),
          sorted(assigned));
    }
  }

  @Override
  public Class<GroupOffsetsHandoff.Participant> transactionalPositionsType() {
    return GroupOffsetsHandoff.Participant.class;
  }

  /**
   * What the carrying Kafka sink commits with batch {@code batchId}: this source's group offsets
   * and metadata.
   */
  @Override
  public GroupOffsetsHandoff.Participant transactionalPositions(long batchId) {
    return participant;
  }

  /** The sink side of {@link GroupOffsetsHandoff}. */
  private final class Participant implements GroupOffsetsHandoff.Participant {
    @Override
    public Map<TopicPartition, OffsetAndMetadata> offsetsForTransaction(long batchId) {
      Map<TopicPartition, OffsetAndMetadata> out = new HashMap<>();
      String meta = GroupOffsetsHandoff.commitMetadata(pipelineId, batchId);
      pending.forEach((tp, offset) -> out.put(tp, new OffsetAndMetadata(offset, meta)));
      return out;
    }

    @Override
    public ConsumerGroupMetadata groupMetadata() {
      lock.lock();
      try {
        ensureOpen();
        return group.groupMetadata();
      } finally {
        lock.unlock();
      }
    }

    @Override
    public void committedInTransaction(
        long batchId, Map<TopicPartition, OffsetAndMetadata> offsets) {
      offsets.forEach((tp, o) -> pending.remove(tp, o.offset()));
    }

    @Override
    public void completeRebalance() throws InterruptedException {
      lock.lock();
      try {
        ensureOpen();
        completeRebalanceLocked();
      } finally {
        lock.unlock();
      }
    }

    @Override
    public Set<String> abandonedPartitions() {
      return sorted(droppedSinceListing);
    }
  }
}
