package io.tributary.core.internal.receiver;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The receiver restart delays, on a manual clock: doubling, the cap, and starting over after a good run. */
class RestartBackoffTest {
  private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
  private final RestartBackoff backoff =
      new RestartBackoff(Duration.ofMillis(100), Duration.ofSeconds(1), nanos::get);

  private void advanceMs(long ms) {
    nanos.addAndGet(TimeUnit.MILLISECONDS.toNanos(ms));
  }

  /** One start that fails after {@code upMs}, then the wait for the delay it chose. Returns the delay. */
  private long startThatFailsAfter(long upMs) {
    backoff.attemptStarted();
    advanceMs(upMs);
    long delay = backoff.nextDelayMs();
    advanceMs(delay);
    return delay;
  }

  private List<Long> failingStarts(int n, long upMs) {
    List<Long> delays = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      delays.add(startThatFailsAfter(upMs));
    }
    return delays;
  }

  @Test
  void delaysDoubleFromTheInitialDelayAndStopAtTheMax() {
    assertThat(backoff.peekDelayMs()).isEqualTo(100);
    assertThat(failingStarts(7, 0)).containsExactly(100L, 200L, 400L, 800L, 1_000L, 1_000L, 1_000L);
    assertThat(backoff.peekDelayMs()).isEqualTo(1_000);
  }

  @Test
  void receiverThatFailsSoonAfterEachStartKeepsBackingOff() {
    // Up for exactly twice the max (2 s) each time: not longer, so this is still the same incident.
    assertThat(failingStarts(6, 2_000)).containsExactly(100L, 200L, 400L, 800L, 1_000L, 1_000L);
  }

  @Test
  void receiverThatStayedUpLongerThanTwiceTheMaxStartsOverAtTheInitialDelay() {
    assertThat(failingStarts(5, 0)).containsExactly(100L, 200L, 400L, 800L, 1_000L);

    assertThat(startThatFailsAfter(2_001)).isEqualTo(100);
    // The new incident backs off again from there.
    assertThat(failingStarts(4, 0)).containsExactly(200L, 400L, 800L, 1_000L);
  }

  @Test
  void restartRequestedLongAfterAStartThatFollowedAFailureStartsOver() {
    assertThat(failingStarts(2, 0)).containsExactly(100L, 200L);
    // The third start succeeds; the receiver runs for a minute, then asks for a restart (connection lost).
    assertThat(startThatFailsAfter(60_000)).isEqualTo(100);
    assertThat(backoff.peekDelayMs()).isEqualTo(200);
  }
}
