package io.tributary.core.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The token bucket behind receivers' rate limits; the exact figures on a manual clock. */
class RateLimiterTest {
  private final AtomicLong nanos = new AtomicLong(5_000_000_000L);

  private static long ms(long millis) {
    return TimeUnit.MILLISECONDS.toNanos(millis);
  }

  @Test
  void storingOneByOneAtTheLimitTakesTheTimeTheRateAllowsAfterTheBurst() {
    RateLimiter limiter = new RateLimiter(500, nanos::get); // burst: 100 ms worth, 50 records
    long start = nanos.get();
    long[] waits = new long[1_000];
    for (int i = 0; i < waits.length; i++) {
      waits[i] = limiter.reserveNanos(1);
      nanos.addAndGet(waits[i]); // the caller sleeps that long (acquire)
    }
    for (int i = 0; i < 50; i++) {
      assertThat(waits[i]).as("record %d is in the burst", i).isZero();
    }
    assertThat(waits[50]).isCloseTo(ms(2), within(1_000L));
    assertThat(waits[999]).isCloseTo(ms(2), within(1_000L));
    // 950 records beyond the burst at 500/s: 1.9 s in all (what ReceiverSupervisionTest's lower
    // bound relies on).
    assertThat(nanos.get() - start).isCloseTo(ms(1_900), within(ms(1)));
  }

  @Test
  void reservationsMadeAtOnceWaitInTurn() {
    RateLimiter limiter = new RateLimiter(100, nanos::get); // burst: 10 records
    assertThat(limiter.reserveNanos(10)).isZero();
    // storeReliablyAsync reserves without sleeping: each reservation waits behind the debt of the
    // ones before it.
    assertThat(limiter.reserveNanos(50)).isCloseTo(ms(500), within(1_000L));
    assertThat(limiter.reserveNanos(50)).isCloseTo(ms(1_000), within(1_000L));
    nanos.addAndGet(ms(400));
    assertThat(limiter.reserveNanos(10)).isCloseTo(ms(700), within(1_000L));
  }

  @Test
  void idleTimeRefillsAtMostOneBurst() {
    RateLimiter limiter = new RateLimiter(1_000, nanos::get); // burst: 100 records
    assertThat(limiter.reserveNanos(100)).isZero();
    nanos.addAndGet(
        TimeUnit.SECONDS.toNanos(10)); // 10,000 tokens' worth of idle time, capped at the burst
    assertThat(limiter.reserveNanos(100)).isZero();
    assertThat(limiter.reserveNanos(1)).isCloseTo(ms(1), within(1_000L));
  }

  @Test
  void loweringTheRateKeepsAtMostTheNewBurst() {
    RateLimiter limiter = new RateLimiter(1_000, nanos::get); // 100 tokens saved
    limiter.setRate(100); // burst of the new rate: 10
    assertThat(limiter.reserveNanos(10)).isZero();
    assertThat(limiter.reserveNanos(1)).isCloseTo(ms(10), within(1_000L));
  }

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
    // 1,000 more records at 1,000/s: about one second to wait (at most one burst less, as refilled
    // tokens are capped).
    long wait = limiter.reserveNanos(1_000);
    assertThat(wait)
        .isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(900))
        .isLessThanOrEqualTo(TimeUnit.SECONDS.toNanos(1));
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
