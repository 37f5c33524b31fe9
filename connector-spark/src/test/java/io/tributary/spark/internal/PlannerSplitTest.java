package io.tributary.spark.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PlannerSplitTest {
  @Test
  void everythingFitsWhenTheLagIsWithinTheBudget() {
    assertThat(Planner.split(Map.of("a", 3L, "b", 4L), 7))
        .containsExactly(Map.entry("a", 3L), Map.entry("b", 4L));
  }

  @Test
  void theBudgetIsSplitByLagAndUsedWhole() {
    Map<String, Long> lag = new LinkedHashMap<>();
    lag.put("b", 500L);
    lag.put("a", 500L);
    lag.put("c", 1L);
    Map<String, Long> s = Planner.split(lag, 150);
    assertThat(s.values().stream().mapToLong(Long::longValue).sum()).isEqualTo(150);
    assertThat(s.get("a")).isBetween(74L, 75L);
    assertThat(s.get("b")).isBetween(74L, 75L);
    s.forEach((p, n) -> assertThat(n).isLessThanOrEqualTo(lag.get(p)));
  }

  @Test
  void aBudgetSmallerThanThePartitionCountStillMovesAndNeverExceedsLag() {
    Map<String, Long> lag = Map.of("a", 1L, "b", 1L, "c", 1L, "d", 100L);
    Map<String, Long> s = Planner.split(lag, 2);
    assertThat(s.values().stream().mapToLong(Long::longValue).sum()).isEqualTo(2);
    assertThat(Planner.split(lag, 2)).as("deterministic").isEqualTo(s);
  }

  @Test
  void hugeLagsDoNotOverflow() {
    Map<String, Long> s = Planner.split(Map.of("a", Long.MAX_VALUE, "b", Long.MAX_VALUE), 10);
    assertThat(s).containsEntry("a", 5L).containsEntry("b", 5L);
  }
}
