package io.tributary.core.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tributary.core.api.CheckpointException;
import io.tributary.core.api.OffsetRange;
import io.tributary.core.api.Position;
import io.tributary.core.checkpoint.LocalCheckpointStorage;
import io.tributary.core.internal.checkpoint.BatchPlan;
import io.tributary.core.internal.checkpoint.CheckpointLog;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading and moving a stopped pipeline's positions: new entries, never edits; refusals. */
class CheckpointOffsetsTest {
  @TempDir Path dir;

  private LocalCheckpointStorage storage() {
    return new LocalCheckpointStorage(dir);
  }

  private void plan(BatchPlan plan, boolean committed) {
    CheckpointLog log = new CheckpointLog(storage());
    log.initialize("p", "f");
    log.writeOffsets(plan);
    if (committed) {
      log.writeCommit(
          new CheckpointLog.Commit(
              BatchPlan.FORMAT_VERSION, plan.batchId(), 0, plan.plannedRecords()));
    }
  }

  private static BatchPlan direct(long id, OffsetRange... ranges) {
    return new BatchPlan(
        BatchPlan.FORMAT_VERSION, "p", id, 0, "source", BatchPlan.DIRECT, List.of(ranges), null);
  }

  @Test
  void altersAndResetsByWritingNewCommittedEntries() throws Exception {
    assertThat(CheckpointOffsets.read(storage())).isEmpty();
    plan(direct(7, new OffsetRange("a", 0, 10), new OffsetRange("b", 5, 8)), true);
    CheckpointOffsets.Snapshot s = CheckpointOffsets.read(storage()).orElseThrow();
    assertThat(s.batchId()).isEqualTo(7);
    assertThat(s.committed()).isTrue();
    assertThat(s.positions()).containsExactly(Map.entry("a", "10"), Map.entry("b", "8"));

    CheckpointOffsets.Snapshot altered =
        CheckpointOffsets.alter(
            storage(), Map.of("a", Position.of(3), "c", Position.of(1)), "test");
    assertThat(altered.batchId()).isEqualTo(8);
    assertThat(altered.positions())
        .containsExactly(Map.entry("a", "3"), Map.entry("b", "8"), Map.entry("c", "1"));
    String entry = new String(storage().read("offsets/8").orElseThrow(), StandardCharsets.UTF_8);
    assertThat(entry).contains("\"alteration\"").contains("\"previousBatch\" : 7");
    assertThat(storage().read("commits/8")).isPresent();
    assertThat(storage().read("offsets/7")).as("history kept").isPresent();
    assertThat(new CheckpointLog(storage()).readOffsets(8).orElseThrow().ranges())
        .as("empty ranges at the new positions: nothing is read for the entry itself")
        .allMatch(OffsetRange::isEmpty);

    CheckpointOffsets.Snapshot reset = CheckpointOffsets.reset(storage(), List.of("b"), "test");
    assertThat(reset.batchId()).isEqualTo(9);
    assertThat(reset.positions()).containsOnlyKeys("a", "c");
    assertThat(CheckpointOffsets.reset(storage(), null, "test").positions()).isEmpty();
  }

  @Test
  void refusesAnUncommittedBatchAReceiverAndUnknownPartitions() {
    plan(direct(3, new OffsetRange("a", 0, 10)), false);
    assertThatThrownBy(() -> CheckpointOffsets.alter(storage(), Map.of("a", Position.of(1)), "t"))
        .isInstanceOf(CheckpointException.class)
        .hasMessageContaining("planned but not committed");
    new CheckpointLog(storage())
        .writeCommit(new CheckpointLog.Commit(BatchPlan.FORMAT_VERSION, 3, 0, 10));
    assertThatThrownBy(() -> CheckpointOffsets.reset(storage(), List.of("zz"), "t"))
        .isInstanceOf(CheckpointException.class)
        .hasMessageContaining("Unknown partition(s) [zz]");
    assertThatThrownBy(() -> CheckpointOffsets.alter(storage(), Map.of(), "t"))
        .isInstanceOf(CheckpointException.class);

    plan(BatchPlan.receiver("p", 4, 0, "source", 0, 5, Map.of()), true);
    assertThatThrownBy(() -> CheckpointOffsets.alter(storage(), Map.of("a", Position.of(1)), "t"))
        .isInstanceOf(CheckpointException.class)
        .hasMessageContaining("receiver");
  }
}
