package io.tributary.core.internal.receiver;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The receiver restart delays, on a manual clock: doubling, the cap, and starting over after a good
 * run.
 */
class RestartBackoffTest {
  private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
  private final RestartBackoff backoff =
      new RestartBackoff(Duration.ofMillis(100), Duration.ofSeconds(1), nanos::get);

  private void advanceMs(long ms) {
    nanos.addAndGet(TimeUnit.MILLISECONDS.toNanos(ms));
  }

  /**
   * One {@code onStart} that throws after {@code tookMs}, then the wait for the delay it chose.
   * Returns the delay.
   */
  private long failedStart(long tookMs) {
    backoff.attemptStarted();
    advanceMs(tookMs);
    return waitForNextDelay();
  }

  /**
   * One {@code onStart} that succeeds, then a restart request {@code upMs} later. Returns the
   * delay.
   */
  private long startThenRestartAfter(long upMs) {
    backoff.attemptStarted();
    backoff.startSucceeded();
    advanceMs(upMs);
    return waitForNextDelay();
  }

  private long waitForNextDelay() {
    long delay = backoff.nextDelayMs();
    advanceMs(delay);
    return delay;
  }

  private List<Long> failedStarts(int n) {
    List<Long> delays = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      delays.add(failedStart(0));
    }
    return delays;
  }

  @Test
  void delaysDoubleFromTheInitialDelayAndStopAtTheMax() {
    assertThat(backoff.peekDelayMs()).isEqualTo(100);
    assertThat(failedStarts(7)).containsExactly(100L, 200L, 400L, 800L, 1_000L, 1_000L, 1_000L);
    assertThat(backoff.peekDelayMs()).isEqualTo(1_000);
  }

  @Test
  void receiverThatFailsSoonAfterEachGoodStartKeepsBackingOff() {
    // Up for exactly twice the max (2 s) each time: not longer, so this is still the same incident.
    List<Long> delays = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      delays.add(startThenRestartAfter(2_000));
    }
    assertThat(delays).containsExactly(100L, 200L, 400L, 800L, 1_000L, 1_000L);
  }

  @Test
  void receiverThatStayedUpLongerThanTwiceTheMaxStartsOverAtTheInitialDelay() {
    assertThat(failedStarts(5)).containsExactly(100L, 200L, 400L, 800L, 1_000L);

    assertThat(startThenRestartAfter(2_001)).isEqualTo(100);
    // The new incident backs off again from there.
    assertThat(failedStarts(4)).containsExactly(200L, 400L, 800L, 1_000L);
  }

  @Test
  void restartRequestedLongAfterAGoodStartThatFollowedFailuresStartsOver() {
    assertThat(failedStarts(2)).containsExactly(100L, 200L);
    // The third start succeeds; the receiver runs for a minute, then asks for a restart (connection
    // lost).
    assertThat(startThenRestartAfter(60_000)).isEqualTo(100);
    assertThat(backoff.peekDelayMs()).isEqualTo(200);
  }

  @Test
  void onStartThatTakesLongToFailDoesNotStartOver() {
    // onStart must not block, but one that connects synchronously can take minutes to fail (a TCP
    // connect timeout).
    // That is not a receiver that ran fine: the backoff goes on growing.
    List<Long> delays = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      delays.add(failedStart(130_000));
    }
    assertThat(delays).containsExactly(100L, 200L, 400L, 800L, 1_000L);
  }

  @Test
  void initialDelayAboveTheMaxIsCapped() {
    RestartBackoff b = new RestartBackoff(Duration.ofSeconds(5), Duration.ofSeconds(1), nanos::get);
    assertThat(b.nextDelayMs()).isEqualTo(1_000);
    assertThat(b.nextDelayMs()).isEqualTo(1_000);
  }

  @Test
  void subMillisecondDelaysStillBackOff() {
    RestartBackoff b =
        new RestartBackoff(Duration.ofNanos(300_000), Duration.ofMillis(8), nanos::get);
    List<Long> delays = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      b.attemptStarted();
      delays.add(b.nextDelayMs());
    }
    assertThat(delays).containsExactly(1L, 2L, 4L, 8L, 8L, 8L);
  }
}
