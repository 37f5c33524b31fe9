package io.tributary.core.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.core.api.OffsetRange;
import io.tributary.core.api.PartitionInfo;
import io.tributary.core.internal.checkpoint.BatchPlan;
import java.util.List;
import org.junit.jupiter.api.Test;

class DirectPlannerExternalAssignmentTest {

  @Test
  void revokedPartitionIsDroppedAndStartsAtItsCommittedOffsetWhenAssignedAgain() {
    DirectPlanner planner = new DirectPlanner(0, 0, 1_000).externallyAssigned();
    assertThat(
            planAndAdvance(
                planner, List.of(PartitionInfo.open("a", 0, 10), PartitionInfo.open("b", 5, 10))))
        .containsExactly(new OffsetRange("a", 0, 10), new OffsetRange("b", 5, 10));
    // b revoked: no range for it, not even an empty one.
    assertThat(planAndAdvance(planner, List.of(PartitionInfo.open("a", 0, 12))))
        .containsExactly(new OffsetRange("a", 10, 12));
    // b back; another instance committed up to 40 meanwhile: start there, not at the stale 10.
    assertThat(
            planAndAdvance(
                planner, List.of(PartitionInfo.open("a", 0, 12), PartitionInfo.open("b", 40, 50))))
        .containsExactly(new OffsetRange("a", 12, 12), new OffsetRange("b", 40, 50));
    // Still assigned: the initial offset no longer matters.
    assertThat(planAndAdvance(planner, List.of(PartitionInfo.open("b", 0, 55))))
        .containsExactly(new OffsetRange("b", 50, 55));
  }

  @Test
  void afterRecoveryEveryListedPartitionStartsAtItsInitialOffset() {
    BatchPlan last =
        new BatchPlan(
            BatchPlan.FORMAT_VERSION,
            "p",
            3,
            0,
            "in",
            BatchPlan.DIRECT,
            List.of(new OffsetRange("a", 5, 9)),
            null);
    DirectPlanner plain = new DirectPlanner(0, 0, 1_000);
    plain.recover(last);
    assertThat(plain.plan(List.of(PartitionInfo.open("a", 20, 30)), 0))
        .containsExactly(new OffsetRange("a", 9, 30));
    DirectPlanner assigned = new DirectPlanner(0, 0, 1_000).externallyAssigned();
    assigned.recover(last);
    assertThat(assigned.plan(List.of(PartitionInfo.open("a", 20, 30)), 0))
        .containsExactly(new OffsetRange("a", 20, 30));
  }

  @Test
  void limitsStillApply() {
    DirectPlanner planner = new DirectPlanner(4, 0, 1_000).externallyAssigned();
    assertThat(planAndAdvance(planner, List.of(PartitionInfo.open("a", 100, 200))))
        .containsExactly(new OffsetRange("a", 100, 104));
  }

  private static List<OffsetRange> planAndAdvance(
      DirectPlanner planner, List<PartitionInfo> parts) {
    List<OffsetRange> ranges = planner.plan(parts, 0);
    planner.advance(ranges);
    return ranges;
  }
}
