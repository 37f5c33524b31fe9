package io.tributary.core.api;

import java.util.Map;

/**
 * Mix-in for a {@link CarriesSourcePositions} sink that carries {@link SharedPositions} and can
 * read back, for a scope, the positions that <em>every</em> pipeline writing to the same
 * destination committed with its output (a Kafka sink keeps them in its compacted marker topic).
 * This is what lets a source whose partitions move between instances (leases) start a partition it
 * just took over exactly after the last record any instance committed to the sink, even when the
 * source's own shared checkpoint (a KCL checkpoint in DynamoDB) was not written yet.
 *
 * <p>Durability: a position returned was committed in the same transaction as the output it
 * follows; a read waits for transactions still open on the store to end (a crashed writer's open
 * transaction until the destination aborts it), so it never misses a commit that completed before
 * it and can only be behind a commit that completes after it began.
 *
 * <p>Thread safety: {@link #committedPositions} may be called from any thread, concurrently with
 * the sink's batches, and before the sink finished opening; it blocks while it reads.
 */
public interface SharedPositionsStore {
  /**
   * The last committed position of each partition of {@code scope}, by any pipeline; partitions
   * never committed are absent.
   *
   * @throws RetriableException when the store cannot be read now (unreachable, a transaction still
   *     open past the sink's read timeout)
   * @throws Exception other failures
   */
  Map<String, Position> committedPositions(String scope) throws Exception;
}
