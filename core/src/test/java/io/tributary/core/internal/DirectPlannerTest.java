package io.tributary.core.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.core.api.OffsetRange;
import io.tributary.core.api.PartitionInfo;
import io.tributary.core.api.Position;
import io.tributary.core.internal.checkpoint.BatchPlan;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Admission control and partition lifecycle of the direct-source planner. */
class DirectPlannerTest {
  private static PartitionInfo open(String id, long end) {
    return PartitionInfo.open(id, 0, end);
  }

  private static PartitionInfo closed(String id, long end) {
    return new PartitionInfo(id, 0, end, true, List.of());
  }

  private static PartitionInfo child(String id, long end, String... parents) {
    return new PartitionInfo(id, 0, end, false, List.of(parents));
  }

  /** Plans and advances, like the engine does once the plan is written. */
  private static List<OffsetRange> planAndAdvance(
      DirectPlanner planner, List<PartitionInfo> parts, double rate) {
    List<OffsetRange> ranges = planner.plan(parts, rate);
    planner.advance(ranges);
    return ranges;
  }

  private static OffsetRange range(List<OffsetRange> ranges, String partition) {
    return ranges.stream().filter(r -> r.partition().equals(partition)).findFirst().orElse(null);
  }

  @Test
  void withoutLimitsPlansEverythingAvailable() {
    DirectPlanner planner = new DirectPlanner(0, 0, 1_000);
    assertThat(planAndAdvance(planner, List.of(open("a", 70), open("b", 5)), 0))
        .containsExactly(new OffsetRange("a", 0, 70), new OffsetRange("b", 0, 5));
    assertThat(planAndAdvance(planner, List.of(open("a", 75), open("b", 5)), 0))
        .containsExactly(new OffsetRange("a", 70, 75), new OffsetRange("b", 5, 5));
  }

  @Test
  void maxRecordsPerPartitionCapsEachRange() {
    DirectPlanner planner = new DirectPlanner(100, 0, 1_000);
    List<PartitionInfo> parts = List.of(open("a", 250), open("b", 30));
    assertThat(planAndAdvance(planner, parts, 0))
        .containsExactly(new OffsetRange("a", 0, 100), new OffsetRange("b", 0, 30));
    assertThat(planAndAdvance(planner, parts, 0))
        .containsExactly(new OffsetRange("a", 100, 200), new OffsetRange("b", 30, 30));
    assertThat(planAndAdvance(planner, parts, 0))
        .containsExactly(new OffsetRange("a", 200, 250), new OffsetRange("b", 30, 30));
  }

  @Test
  void maxRatePerPartitionTimesIntervalCapsEachRange() {
    // 40 records/s over a 500 ms interval: 20 records per partition per batch.
    DirectPlanner planner = new DirectPlanner(0, 40, 500);
    assertThat(planAndAdvance(planner, List.of(open("a", 1_000), open("b", 7)), 0))
        .containsExactly(new OffsetRange("a", 0, 20), new OffsetRange("b", 0, 7));
    // A tiny rate still makes progress: at least one record per batch.
    DirectPlanner slow = new DirectPlanner(0, 1, 100);
    assertThat(planAndAdvance(slow, List.of(open("a", 1_000)), 0))
        .containsExactly(new OffsetRange("a", 0, 1));
  }

  @Test
  void backpressureRateIsSplitByLag() {
    // 100 records/s x 1 s = 100 records per batch, split 3:1 by lag (300 vs 100 behind).
    DirectPlanner planner = new DirectPlanner(0, 0, 1_000);
    List<OffsetRange> ranges =
        planAndAdvance(planner, List.of(open("a", 300), open("b", 100), open("c", 0)), 100);
    assertThat(ranges)
        .containsExactly(
            new OffsetRange("a", 0, 75), new OffsetRange("b", 0, 25), new OffsetRange("c", 0, 0));
    // The per-partition cap applies on top of the backpressure share.
    DirectPlanner capped = new DirectPlanner(10, 0, 1_000);
    assertThat(planAndAdvance(capped, List.of(open("a", 300), open("b", 100)), 100))
        .containsExactly(new OffsetRange("a", 0, 10), new OffsetRange("b", 0, 10));
  }

  @Test
  void newPartitionsStartAtTheirInitialOffset() {
    DirectPlanner planner = new DirectPlanner(0, 0, 1_000);
    planAndAdvance(planner, List.of(open("a", 10)), 0);
    List<OffsetRange> ranges =
        planAndAdvance(
            planner, List.of(open("a", 10), new PartitionInfo("b", 40, 55, false, List.of())), 0);
    assertThat(range(ranges, "b")).isEqualTo(new OffsetRange("b", 40, 55));
    assertThat(planner.positions()).isEqualTo(Map.of("a", Position.of(10), "b", Position.of(55)));
  }

  @Test
  void positionsAreRestoredFromAPlan() {
    BatchPlan last =
        new BatchPlan(
            BatchPlan.FORMAT_VERSION,
            "p",
            7,
            0,
            "src",
            BatchPlan.DIRECT,
            List.of(new OffsetRange("a", 10, 20), new OffsetRange("b", 5, 5)),
            null);
    DirectPlanner planner = new DirectPlanner(0, 0, 1_000);
    planner.recover(last);
    assertThat(planner.positions()).isEqualTo(Map.of("a", Position.of(20), "b", Position.of(5)));
    // Initial offsets no longer matter for known partitions.
    List<OffsetRange> ranges =
        planner.plan(
            List.of(
                new PartitionInfo("a", 0, 25, false, List.of()),
                new PartitionInfo("b", 0, 9, false, List.of())),
            0);
    assertThat(ranges).containsExactly(new OffsetRange("a", 20, 25), new OffsetRange("b", 5, 9));
  }

  @Test
  void partitionKnownFromTheCheckpointButNotReportedKeepsItsPosition() {
    DirectPlanner planner = new DirectPlanner(0, 0, 1_000);
    planAndAdvance(planner, List.of(open("a", 10), open("b", 4)), 0);
    List<OffsetRange> ranges = planAndAdvance(planner, List.of(open("a", 12)), 0);
    assertThat(ranges).containsExactly(new OffsetRange("a", 10, 12), new OffsetRange("b", 4, 4));
  }

  @Test
  void closedPartitionIsReadToItsEndOnceAndDroppedWhenTheSourceForgetsIt() {
    DirectPlanner planner = new DirectPlanner(0, 0, 1_000);
    assertThat(planAndAdvance(planner, List.of(closed("old", 10), open("a", 1)), 0))
        .containsExactly(new OffsetRange("old", 0, 10), new OffsetRange("a", 0, 1));
    // Drained but still listed by the source (a closed Kinesis shard is listed until it expires):
    // never read again.
    for (int i = 0; i < 3; i++) {
      List<OffsetRange> ranges =
          planAndAdvance(planner, List.of(closed("old", 10), open("a", 1)), 0);
      assertThat(ranges.stream().mapToLong(OffsetRange::count).sum()).isZero();
    }
    // The source no longer lists it: it is dropped from the plan.
    assertThat(planAndAdvance(planner, List.of(open("a", 2)), 0))
        .containsExactly(new OffsetRange("a", 1, 2));
    assertThat(planner.positions()).containsOnlyKeys("a");
  }

  @Test
  void drainedClosedPartitionIsNotReadAgainAfterRecovery() {
    DirectPlanner first = new DirectPlanner(0, 0, 1_000);
    planAndAdvance(first, List.of(closed("old", 10)), 0);
    List<OffsetRange> lastRanges = planAndAdvance(first, List.of(closed("old", 10)), 0);
    BatchPlan lastPlan =
        new BatchPlan(
            BatchPlan.FORMAT_VERSION, "p", 1, 0, "src", BatchPlan.DIRECT, lastRanges, null);

    DirectPlanner recovered = new DirectPlanner(0, 0, 1_000);
    recovered.recover(lastPlan);
    List<OffsetRange> ranges = recovered.plan(List.of(closed("old", 10)), 0);
    assertThat(ranges.stream().mapToLong(OffsetRange::count).sum()).isZero();
  }

  @Test
  void childWaitsUntilItsParentIsClosedAndDrained() {
    DirectPlanner planner = new DirectPlanner(5, 0, 1_000);
    // Parent still open: the child gets an empty range at its initial offset.
    List<OffsetRange> r1 =
        planAndAdvance(planner, List.of(open("parent", 8), child("child", 3, "parent")), 0);
    assertThat(r1).containsExactly(new OffsetRange("parent", 0, 5), new OffsetRange("child", 0, 0));
    // Parent closed but not drained yet: the child still waits.
    List<OffsetRange> r2 =
        planAndAdvance(planner, List.of(closed("parent", 8), child("child", 3, "parent")), 0);
    assertThat(r2).containsExactly(new OffsetRange("parent", 5, 8), new OffsetRange("child", 0, 0));
    // Parent closed and read to its end: the child is read.
    List<OffsetRange> r3 =
        planAndAdvance(planner, List.of(closed("parent", 8), child("child", 3, "parent")), 0);
    assertThat(range(r3, "child")).isEqualTo(new OffsetRange("child", 0, 3));
    assertThat(range(r3, "parent"))
        .satisfiesAnyOf(r -> assertThat(r).isNull(), r -> assertThat(r.count()).isZero());
    // ...and keeps being read while the parent stays listed.
    List<OffsetRange> r4 =
        planAndAdvance(planner, List.of(closed("parent", 8), child("child", 6, "parent")), 0);
    assertThat(range(r4, "child")).isEqualTo(new OffsetRange("child", 3, 6));
    assertThat(range(r4, "parent"))
        .satisfiesAnyOf(r -> assertThat(r).isNull(), r -> assertThat(r.count()).isZero());
  }

  @Test
  void childWithTwoParentsWaitsForBoth() {
    DirectPlanner planner = new DirectPlanner(0, 0, 1_000);
    List<PartitionInfo> parts = List.of(closed("p1", 4), open("p2", 4), child("c", 9, "p1", "p2"));
    assertThat(range(planAndAdvance(planner, parts, 0), "c")).isEqualTo(new OffsetRange("c", 0, 0));
    assertThat(range(planAndAdvance(planner, parts, 0), "c")).isEqualTo(new OffsetRange("c", 0, 0));
    List<PartitionInfo> merged =
        List.of(closed("p1", 4), closed("p2", 4), child("c", 9, "p1", "p2"));
    assertThat(range(planAndAdvance(planner, merged, 0), "c"))
        .isEqualTo(new OffsetRange("c", 0, 9));
  }
}
