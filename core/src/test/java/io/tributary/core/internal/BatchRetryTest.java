package io.tributary.core.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tributary.core.api.CheckpointException;
import io.tributary.core.api.RetriableException;
import io.tributary.core.api.TributaryException;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Backoff, bounds and classification of {@link BatchRetry}, on a manual clock: nothing here really
 * sleeps.
 */
class BatchRetryTest {
  private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
  private final List<Long> sleeps = new ArrayList<>();
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  private BatchRetry retry(int attempts, long initialMs, long maxMs, long timeoutMs) {
    return new BatchRetry(
        "p1",
        new BatchRetry.Policy(
            attempts,
            Duration.ofMillis(initialMs),
            Duration.ofMillis(maxMs),
            Duration.ofMillis(timeoutMs)),
        registry,
        nanos::get,
        ms -> {
          sleeps.add(ms);
          nanos.addAndGet(TimeUnit.MILLISECONDS.toNanos(ms));
        });
  }

  private double retries(String phase) {
    var c =
        registry.find("tributary.batch.retries").tags("pipeline", "p1", "phase", phase).counter();
    return c == null ? 0 : c.count();
  }

  @Test
  void transientFailuresThenSuccessReturnTheResultAfterDoublingBackoffs() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    String result =
        retry(10, 100, 10_000, 300_000)
            .call(
                "read",
                () -> {
                  if (calls.incrementAndGet() <= 4) {
                    throw new RetriableException("broker restarting");
                  }
                  return "ok";
                });
    assertThat(result).isEqualTo("ok");
    assertThat(calls).hasValue(5);
    assertThat(sleeps).containsExactly(100L, 200L, 400L, 800L);
    assertThat(retries("read")).isEqualTo(4.0);
  }

  @Test
  void backoffIsCappedAtTheMaximum() {
    BatchRetry r = retry(7, 100, 500, 300_000);
    assertThatThrownBy(
            () ->
                r.run(
                    "sink-write",
                    () -> {
                      throw new RetriableException("503");
                    }))
        .isInstanceOf(TributaryException.class)
        .hasMessageContaining("after 7 attempts over 2200 ms")
        .hasMessageContaining("retry.max-attempts 7 reached")
        .hasRootCauseMessage("503");
    assertThat(sleeps).containsExactly(100L, 200L, 400L, 500L, 500L, 500L);
  }

  @Test
  void nonRetriableErrorIsThrownAtOnceUnchanged() {
    AtomicInteger calls = new AtomicInteger();
    TributaryException fatal = new TributaryException("fenced");
    assertThatThrownBy(
            () ->
                retry(10, 100, 10_000, 300_000)
                    .run(
                        "sink-write",
                        () -> {
                          calls.incrementAndGet();
                          throw fatal;
                        }))
        .isSameAs(fatal);
    IOException io = new IOException("disk full");
    assertThatThrownBy(
            () ->
                retry(10, 100, 10_000, 300_000)
                    .run(
                        "checkpoint-write",
                        () -> {
                          throw io;
                        }))
        .isSameAs(io);
    assertThat(calls).hasValue(1);
    assertThat(sleeps).isEmpty();
    assertThat(registry.find("tributary.batch.retries").counters()).isEmpty();
  }

  @Test
  void interruptionIsNeverRetried() {
    InterruptedException stop = new InterruptedException("stop");
    assertThatThrownBy(
            () ->
                retry(10, 100, 10_000, 300_000)
                    .run(
                        "read",
                        () -> {
                          throw stop;
                        }))
        .isSameAs(stop);
    assertThat(sleeps).isEmpty();
  }

  @Test
  void timeoutBoundsTheTotalTimeWhateverTheAttemptsLeft() {
    long start = nanos.get();
    List<Long> attemptStarts = new ArrayList<>();
    BatchRetry r = retry(1_000, 100, 1_000, 5_000);
    assertThatThrownBy(
            () ->
                r.run(
                    "partitions",
                    () -> {
                      attemptStarts.add(TimeUnit.NANOSECONDS.toMillis(nanos.get() - start));
                      nanos.addAndGet(
                          TimeUnit.MILLISECONDS.toNanos(
                              250)); // each attempt blocks a while, then fails
                      throw new RetriableException("timed out");
                    }))
        .isInstanceOf(TributaryException.class)
        .hasMessageContaining("gave up on partitions after 7 attempts over 5250 ms")
        .hasMessageContaining("retry.timeout 5000 ms would pass before the next attempt");
    // Attempts start at 0, 350, 800, 1450, 2500, 3750 and 5000 ms (250 ms each, backoff 100
    // doubling to 1000); after
    // the 7th, at 5250 ms, no wait fits. No attempt starts after the timeout, so the total is at
    // most timeout + one
    // attempt.
    assertThat(attemptStarts)
        .containsExactly(0L, 350L, 800L, 1450L, 2500L, 3750L, 5000L)
        .allSatisfy(t -> assertThat(t).isLessThanOrEqualTo(5_000));
    assertThat(TimeUnit.NANOSECONDS.toMillis(nanos.get() - start)).isEqualTo(5_250);
  }

  @Test
  void theOutermostTributaryExceptionDecides() {
    RetriableException transientError = new RetriableException("503");
    assertThat(BatchRetry.isRetriable(transientError)).isTrue();
    assertThat(BatchRetry.isRetriable(new IOException("wrapped", transientError))).isTrue();
    assertThat(BatchRetry.isRetriable(new TributaryException("fatal", transientError))).isFalse();
    assertThat(
            BatchRetry.isRetriable(new CheckpointException("no space", new IOException("ENOSPC"))))
        .isFalse();
    assertThat(BatchRetry.isRetriable(new IllegalStateException("bug"))).isFalse();
  }
}
