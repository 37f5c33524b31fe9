package io.tributary.connector.kafka.internal;

import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * The hand-off between a group-managed Kafka source and the transactional Kafka sink of the same
 * pipeline, so that the sink commits the batch's consumed offsets inside its transaction ({@code
 * sendOffsetsToTransaction} with the consumer's group metadata: a zombie instance whose group
 * generation is stale cannot commit). Not public API.
 *
 * <p>The runtime wires the two (core's {@code TransactionalPositionsSource} / {@code
 * CarriesSourcePositions}): the source offers its {@link Participant} as the batch's transactional
 * positions, and the runtime hands it to the sink only when that sink is the pipeline's only sink.
 * With several sinks no sink gets it, and the source commits its offsets to the group after the
 * batch commit instead. No JVM-wide state: two pipelines never see each other.
 *
 * <p>Protocol for batch N, all on the pipeline's batch thread: the source's {@code read()} calls
 * note each range's end offset; the sink calls {@link Participant#offsetsForTransaction} and {@link
 * Participant#groupMetadata}, sends them within its transaction, commits, then calls {@link
 * Participant#committedInTransaction}; the source's {@code onBatchCommitted} commits to the group
 * (outside any transaction) only what no transaction carried, which is the path for every other
 * sink (at-least-once across rebalances).
 *
 * <p>Rebalance during a batch: the broker refuses a transactional offset commit made with a stale
 * group generation ({@code CommitFailedException}), and a partition moves to another member only in
 * a newer generation, whose new owner reads the committed offset only after this transaction ended
 * (KIP-447's stable offset fetch). So a commit that is accepted is always safe. When one is
 * refused, the sink aborts, lets the source complete the rebalance, and fails the attempt with a
 * retriable error: the runtime runs the batch again with the same plan, and the source's reads now
 * skip the partitions this instance no longer owns and start re-assigned ones at the group's
 * committed offset. So the batch is finished for the partitions kept and abandoned without loss for
 * the others.
 *
 * <p>Thread safety: the registry is thread-safe; participants are called from the batch thread.
 */
public final class GroupOffsetsHandoff {
  /** What a group-managed source offers the sink. */
  public interface Participant {
    /**
     * End offsets read for the batch in flight and not committed yet, tagged with the batch; may be
     * empty.
     */
    Map<TopicPartition, OffsetAndMetadata> offsetsForTransaction(long batchId);

    /**
     * The group consumer's current metadata (generation, member id) for {@code
     * sendOffsetsToTransaction}.
     */
    ConsumerGroupMetadata groupMetadata();

    /** The sink's transaction carrying {@code offsets} committed. */
    void committedInTransaction(long batchId, Map<TopicPartition, OffsetAndMetadata> offsets);

    /**
     * Completes the rebalance that refused the sink's offset commit: polls the group consumer until
     * the next rebalance completes, waiting at most the source's {@code group-join-timeout}.
     *
     * @throws io.tributary.core.api.TributaryException when no rebalance completes in time
     * @throws InterruptedException when interrupted while waiting
     */
    void completeRebalance() throws InterruptedException;

    /**
     * Partition ids ({@code topic-N}) this instance did not own without interruption since the
     * batch was planned (revoked or lost, even if assigned again since): their records must not be
     * committed with the batch; their owner reads them from the group's committed offset.
     */
    java.util.Set<String> abandonedPartitions();
  }

  private GroupOffsetsHandoff() {}

  /** The metadata string a Tributary pipeline stores with the offsets it commits to the group. */
  public static String commitMetadata(String pipelineId, long batchId) {
    return "tributary:" + pipelineId + ":" + batchId;
  }

  /** Whether a committed offset's metadata says {@code pipelineId} committed it. */
  public static boolean committedBy(String metadata, String pipelineId) {
    String prefix = "tributary:" + pipelineId + ":";
    if (metadata == null || !metadata.startsWith(prefix) || metadata.length() == prefix.length()) {
      return false;
    }
    return metadata.substring(prefix.length()).chars().allMatch(Character::isDigit);
  }
}
