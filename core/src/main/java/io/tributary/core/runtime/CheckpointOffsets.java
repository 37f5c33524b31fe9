package io.tributary.core.runtime;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tributary.core.api.CheckpointException;
import io.tributary.core.api.OffsetRange;
import io.tributary.core.api.Position;
import io.tributary.core.checkpoint.CheckpointStorage;
import io.tributary.core.internal.checkpoint.BatchPlan;
import io.tributary.core.internal.checkpoint.CheckpointLog;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Reads and moves the positions of a stopped pipeline in its checkpoint, as Kafka Connect's offsets
 * API (KIP-875) does for a stopped connector: {@link #read}, {@link #alter} (one or more partitions
 * to a given position) and {@link #reset} (partitions back to the source's starting position).
 *
 * <p>A change never edits history: it writes a new batch {@code offsets/N+1} with empty ranges at
 * the new positions and an {@code alteration} field saying who changed what and when, and its
 * {@code commits/N+1}. On its next start the pipeline continues from there. Works on any {@link
 * CheckpointStorage} (local, HDFS, S3).
 *
 * <p>Pitfalls: the pipeline must not be running (its batch thread would plan on top of the change;
 * the gateway checks this, the command line cannot: stop the gateway's pipeline first). Only direct
 * sources (Kafka, files) have positions to move; a receiver's batches are WAL block ranges, and a
 * change is refused. A planned but uncommitted batch is refused too: start the pipeline once so it
 * replays it, then stop it and change the positions.
 *
 * <p>Thread safety: stateless; calls on the same checkpoint must not run concurrently.
 */
public final class CheckpointOffsets {
  private static final ObjectMapper JSON =
      new ObjectMapper()
          .enable(SerializationFeature.INDENT_OUTPUT)
          .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  private CheckpointOffsets() {}

  /**
   * The positions a pipeline resumes from.
   *
   * @param batchId the last planned batch ({@code offsets/N})
   * @param committed whether {@code commits/N} exists (else the batch is replayed on start)
   * @param source the source name in the plan
   * @param kind {@code direct} or {@code receiver}
   * @param positions per partition, the position the next batch starts from (the plan's {@code
   *     until}s), in plan order
   */
  public record Snapshot(
      long batchId, boolean committed, String source, String kind, Map<String, String> positions) {}

  /**
   * The positions in {@code storage}, or empty when no batch was planned yet (the pipeline starts
   * from the source's starting position).
   *
   * @throws CheckpointException when the checkpoint cannot be read
   */
  public static Optional<Snapshot> read(CheckpointStorage storage) {
    CheckpointLog log = new CheckpointLog(storage);
    OptionalLong lp = log.latestPlanned();
    if (lp.isEmpty()) {
      return Optional.empty();
    }
    long id = lp.getAsLong();
    BatchPlan plan = plan(log, storage, id);
    OptionalLong lc = log.latestCommitted();
    return Optional.of(snapshot(plan, lc.isPresent() && lc.getAsLong() >= id));
  }

  /**
   * Moves each partition of {@code positions} to its position (partitions not named keep theirs; a
   * partition the checkpoint does not know yet is added). Writes {@code offsets/N+1} and {@code
   * commits/N+1}.
   *
   * @param by who asks, recorded in the entry (for example {@code admin-api} or {@code cli})
   * @throws CheckpointException when there is nothing to alter, the source is a receiver, the last
   *     batch is not committed, or the checkpoint cannot be written
   */
  public static Snapshot alter(
      CheckpointStorage storage, Map<String, Position> positions, String by) {
    if (positions.isEmpty()) {
      throw new CheckpointException(
          "No partition given to alter in checkpoint "
              + storage.describe()
              + " (expected: at least one partition=position)",
          null);
    }
    return change(storage, "alter", by, positions, null);
  }

  /**
   * Resets {@code partitions} (all when {@code null} or empty) to the source's starting position:
   * they are left out of the new plan, so the source's initial position applies on the next start
   * (for Kafka, {@code starting-offsets}). Writes {@code offsets/N+1} and {@code commits/N+1}.
   *
   * @throws CheckpointException as {@link #alter}
   */
  public static Snapshot reset(
      CheckpointStorage storage, Collection<String> partitions, String by) {
    // Inside change(), null means "not a reset" and an empty collection "every partition".
    return change(storage, "reset", by, Map.of(), partitions == null ? List.of() : partitions);
  }

  private static Snapshot change(
      CheckpointStorage storage,
      String action,
      String by,
      Map<String, Position> set,
      Collection<String> reset) {
    CheckpointLog log = new CheckpointLog(storage);
    OptionalLong lp = log.latestPlanned();
    if (lp.isEmpty()) {
      throw new CheckpointException(
          "Checkpoint "
              + storage.describe()
              + " has no batch yet: the pipeline starts from the source's starting position"
              + " (set the source's starting position in its configuration, or run the pipeline once)",
          null);
    }
    long id = lp.getAsLong();
    BatchPlan last = plan(log, storage, id);
    if (!BatchPlan.DIRECT.equals(last.kind())) {
      throw new CheckpointException(
          "Checkpoint "
              + storage.describe()
              + " belongs to a receiver source: its batches are write-ahead-log blocks, not source"
              + " positions, so they cannot be altered (only direct sources such as Kafka and files have"
              + " positions to move)",
          null);
    }
    OptionalLong lc = log.latestCommitted();
    if (lc.isEmpty() || lc.getAsLong() < id) {
      throw new CheckpointException(
          "Batch "
              + id
              + " in checkpoint "
              + storage.describe()
              + " is planned but not committed: start the pipeline once so it replays that batch, stop it,"
              + " then change its positions",
          null);
    }
    if (reset != null) {
      List<String> unknown = new ArrayList<>();
      for (String p : reset) {
        if (last.ranges().stream().noneMatch(r -> r.partition().equals(p))) {
          unknown.add(p);
        }
      }
      if (!unknown.isEmpty()) {
        throw new CheckpointException(
            "Unknown partition(s) "
                + unknown
                + " in checkpoint "
                + storage.describe()
                + " (expected one of: "
                + last.ranges().stream().map(OffsetRange::partition).toList()
                + ")",
            null);
      }
    }
    List<OffsetRange> ranges = new ArrayList<>();
    Map<String, String> before = new LinkedHashMap<>();
    Map<String, String> after = new LinkedHashMap<>();
    for (OffsetRange r : last.ranges()) {
      before.put(r.partition(), r.until().toString());
      if (reset != null && (reset.isEmpty() || reset.contains(r.partition()))) {
        after.put(r.partition(), "starting position");
        continue;
      }
      Position p = set.getOrDefault(r.partition(), r.until());
      if (set.containsKey(r.partition())) {
        after.put(r.partition(), p.toString());
      }
      ranges.add(new OffsetRange(r.partition(), p, p));
    }
    for (Map.Entry<String, Position> e : set.entrySet()) {
      if (!before.containsKey(e.getKey())) {
        ranges.add(new OffsetRange(e.getKey(), e.getValue(), e.getValue()));
        after.put(e.getKey(), e.getValue().toString());
      }
    }
    long next = id + 1;
    long now = System.currentTimeMillis();
    BatchPlan plan =
        new BatchPlan(
            BatchPlan.FORMAT_VERSION,
            last.pipelineId(),
            next,
            now,
            last.source(),
            last.kind(),
            ranges,
            null);
    ObjectNode tree = JSON.valueToTree(plan);
    ObjectNode alteration = tree.putObject("alteration");
    alteration.put("action", action);
    alteration.put("by", by);
    alteration.put("timeMs", now);
    alteration.put("previousBatch", id);
    alteration.set("before", JSON.valueToTree(before));
    alteration.set("after", JSON.valueToTree(after));
    try {
      storage.writeAtomically("offsets/" + next, JSON.writeValueAsBytes(tree));
    } catch (IOException e) {
      throw new CheckpointException(
          "Cannot write offsets/" + next + " to checkpoint " + storage.describe() + ": " + e, e);
    }
    log.writeCommit(new CheckpointLog.Commit(BatchPlan.FORMAT_VERSION, next, now, 0));
    return snapshot(plan, true);
  }

  private static BatchPlan plan(CheckpointLog log, CheckpointStorage storage, long id) {
    return log.readOffsets(id)
        .orElseThrow(
            () ->
                new CheckpointException(
                    "offsets/" + id + " vanished from checkpoint " + storage.describe(), null));
  }

  private static Snapshot snapshot(BatchPlan plan, boolean committed) {
    Map<String, String> positions = new LinkedHashMap<>();
    for (OffsetRange r : plan.ranges()) {
      positions.put(r.partition(), r.until().toString());
    }
    return new Snapshot(plan.batchId(), committed, plan.source(), plan.kind(), positions);
  }
}
