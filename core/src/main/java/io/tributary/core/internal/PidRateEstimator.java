package io.tributary.core.internal;

import java.util.OptionalDouble;

/**
 * Estimates the ingestion rate a pipeline can sustain from each batch's processing time, as a PID
 * controller on the error between the current rate and the measured processing rate (the estimator
 * Spark Streaming uses for backpressure). The proportional term reacts to the last batch, the
 * integral term to the accumulated scheduling delay (work queued up), the derivative term to how
 * fast the error changes. Defaults: 1.0, 0.2, 0.0, minimum 100 records/s.
 *
 * <p>Thread safety: not thread-safe; called from the batch thread.
 */
public final class PidRateEstimator {
  private final long batchIntervalMs;
  private final double proportional;
  private final double integral;
  private final double derivative;
  private final double minRate;

  private boolean firstRun = true;
  private long latestTimeMs = -1;
  private double latestRate = -1;
  private double latestError = -1;

  public PidRateEstimator(
      long batchIntervalMs,
      double proportional,
      double integral,
      double derivative,
      double minRate) {
    if (batchIntervalMs <= 0
        || proportional < 0
        || integral < 0
        || derivative < 0
        || minRate <= 0) {
      throw new IllegalArgumentException(
          "Invalid PID settings: interval="
              + batchIntervalMs
              + " p="
              + proportional
              + " i="
              + integral
              + " d="
              + derivative
              + " min="
              + minRate
              + " (expected: interval > 0, gains >= 0, min rate > 0)");
    }
    this.batchIntervalMs = batchIntervalMs;
    this.proportional = proportional;
    this.integral = integral;
    this.derivative = derivative;
    this.minRate = minRate;
  }

  /**
   * Feeds one completed batch and returns a new rate estimate in records per second, or empty when
   * there is not enough information yet (first batch, empty batch, zero processing time).
   *
   * @param timeMs the batch's completion time
   * @param records records processed in the batch
   * @param processingDelayMs how long processing took
   * @param schedulingDelayMs how long the batch waited before it started
   */
  public OptionalDouble compute(
      long timeMs, long records, long processingDelayMs, long schedulingDelayMs) {
    if (timeMs <= latestTimeMs || records <= 0 || processingDelayMs <= 0) {
      return OptionalDouble.empty();
    }
    double delaySinceUpdate = (timeMs - latestTimeMs) / 1000.0;
    double processingRate = records / (double) processingDelayMs * 1000.0;
    double error = latestRate - processingRate;
    double historicalError = schedulingDelayMs * processingRate / batchIntervalMs;
    double dError = (error - latestError) / delaySinceUpdate;
    double newRate =
        Math.max(
            latestRate - proportional * error - integral * historicalError - derivative * dError,
            minRate);
    latestTimeMs = timeMs;
    if (firstRun) {
      latestRate = processingRate;
      latestError = 0;
      firstRun = false;
      return OptionalDouble.empty();
    }
    latestRate = newRate;
    latestError = error;
    return OptionalDouble.of(newRate);
  }
}
