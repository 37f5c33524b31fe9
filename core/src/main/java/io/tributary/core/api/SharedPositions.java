package io.tributary.core.api;

import java.util.Map;
import java.util.Objects;

/**
 * Positions of partitions that several pipeline instances share through leases (the {@code
 * kinesis-kcl} source's shards), as a carrying sink commits them inside its transaction so that
 * <em>any</em> instance can read them back ({@link SharedPositionsStore}).
 *
 * <p>{@code scope} names the set of partitions and who shares them (for the {@code kinesis-kcl}
 * source: the KCL application and the stream); {@code positions} maps each partition the batch read
 * to the position just after the last record the batch holds for it. Partitions the batch did not
 * read are absent: their last committed position stays as it was.
 *
 * <p>Thread safety: immutable.
 *
 * @param scope the shared name of the partitions' owners, for example {@code
 *     "kinesis-kcl/<application>/<stream>"}; no {@code '|'}
 * @param positions partition -> position after the batch's last record of it
 */
public record SharedPositions(String scope, Map<String, Position> positions) {
  /** Copies {@code positions}; rejects a scope containing {@code '|'} (the stores' separator). */
  public SharedPositions {
    Objects.requireNonNull(scope, "scope");
    if (scope.isEmpty() || scope.indexOf('|') >= 0) {
      throw new IllegalArgumentException(
          "Invalid shared positions scope '" + scope + "' (expected: non-empty, without '|')");
    }
    positions = Map.copyOf(positions);
  }
}
