package io.tributary.core.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The token bucket behind receivers' rate limits. */
class RateLimiterTest {
  @Test
  void zeroRateIsUnlimited() {
    RateLimiter limiter = new RateLimiter(0);
    assertThat(limiter.reserveNanos(1_000_000)).isZero();
    assertThat(limiter.rate()).isZero();
  }

  @Test
  void burstOfOneHundredMillisecondsThenDebtBecomesWaitingTime() {
    RateLimiter limiter = new RateLimiter(1_000); // burst: 100 tokens
    assertThat(limiter.reserveNanos(100)).isZero();
    // 1,000 more records at 1,000/s: about one second to wait (at most one burst less, as refilled tokens are capped).
    long wait = limiter.reserveNanos(1_000);
    assertThat(wait).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(900)).isLessThanOrEqualTo(TimeUnit.SECONDS.toNanos(1));
  }

  @Test
  void changingTheRateAppliesToLaterReservations() {
    RateLimiter limiter = new RateLimiter(0);
    limiter.setRate(10); // from unlimited to 10/s: no stored burst carried over
    assertThat(limiter.rate()).isEqualTo(10.0);
    assertThat(limiter.reserveNanos(10)).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(900));
    limiter.setRate(0);
    assertThat(limiter.reserveNanos(1_000)).isZero();
  }
}
