package io.tributary.core.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;

/**
 * The PID backpressure estimator (proportional 1.0, integral 0.2, derivative 0, as Spark's
 * defaults).
 */
class PidRateEstimatorTest {
  private static PidRateEstimator estimator(double minRate) {
    return new PidRateEstimator(1_000, 1.0, 0.2, 0.0, minRate);
  }

  @Test
  void firstBatchGivesNoEstimate() {
    PidRateEstimator pid = estimator(100);
    assertThat(pid.compute(1_000, 1_000, 500, 0)).isEmpty();
  }

  @Test
  void batchesWithoutInformationGiveNoEstimate() {
    PidRateEstimator pid = estimator(100);
    pid.compute(1_000, 1_000, 500, 0);
    assertThat(pid.compute(2_000, 0, 500, 0)).as("no records").isEmpty();
    assertThat(pid.compute(3_000, 1_000, 0, 0)).as("no processing time").isEmpty();
    assertThat(pid.compute(1_000, 1_000, 500, 0)).as("time did not advance").isEmpty();
  }

  @Test
  void processingSlowerThanIngestionLowersTheRate() {
    PidRateEstimator pid = estimator(100);
    pid.compute(1_000, 1_000, 1_000, 0); // 1,000 records/s
    OptionalDouble rate = pid.compute(2_000, 1_000, 2_000, 0); // now only 500 records/s
    assertThat(rate).isPresent();
    assertThat(rate.getAsDouble()).isCloseTo(500.0, within(1e-9));
  }

  @Test
  void schedulingDelayLowersTheRateFurther() {
    PidRateEstimator noDelay = estimator(100);
    noDelay.compute(1_000, 1_000, 1_000, 0);
    double withoutDelay = noDelay.compute(2_000, 1_000, 2_000, 0).getAsDouble();

    PidRateEstimator delayed = estimator(100);
    delayed.compute(1_000, 1_000, 1_000, 0);
    // 1 s of queued work at 500 records/s over a 1 s interval: historical error 500, integral 0.2
    // -> 100 lower.
    double withDelay = delayed.compute(2_000, 1_000, 2_000, 1_000).getAsDouble();
    assertThat(withDelay).isLessThan(withoutDelay).isCloseTo(400.0, within(1e-9));
  }

  @Test
  void steadyProcessingKeepsTheRate() {
    PidRateEstimator pid = estimator(100);
    pid.compute(1_000, 800, 1_000, 0);
    assertThat(pid.compute(2_000, 800, 1_000, 0).getAsDouble()).isCloseTo(800.0, within(1e-9));
    assertThat(pid.compute(3_000, 800, 1_000, 0).getAsDouble()).isCloseTo(800.0, within(1e-9));
  }

  @Test
  void neverGoesBelowTheMinimumRate() {
    PidRateEstimator pid = estimator(250);
    pid.compute(1_000, 1_000, 1_000, 0);
    // 10 records/s with a long queue: the raw estimate is far below 250.
    assertThat(pid.compute(2_000, 10, 1_000, 10_000).getAsDouble()).isEqualTo(250.0);
    assertThat(pid.compute(3_000, 10, 1_000, 20_000).getAsDouble()).isEqualTo(250.0);
  }

  @Test
  void rejectsBadSettings() {
    assertThatThrownBy(() -> new PidRateEstimator(0, 1, 0.2, 0, 100))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("interval=0");
    assertThatThrownBy(() -> new PidRateEstimator(1_000, -1, 0.2, 0, 100))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new PidRateEstimator(1_000, 1, -0.2, 0, 100))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new PidRateEstimator(1_000, 1, 0.2, -1, 100))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new PidRateEstimator(1_000, 1, 0.2, 0, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("min rate > 0");
  }
}
