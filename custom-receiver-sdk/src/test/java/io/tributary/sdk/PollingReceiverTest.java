package io.tributary.sdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.tributary.core.api.Record;
import io.tributary.sdk.testkit.EmbeddedReceiver;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class PollingReceiverTest {
  private static final Duration WAIT = Duration.ofSeconds(10);
  private EmbeddedReceiver harness;

  @AfterEach
  void close() throws Exception {
    if (harness != null) {
      harness.close();
    }
  }

  /**
   * A receiver whose poll behaviour is given by a lambda; counts calls and remembers thread names.
   */
  private static class Scripted extends PollingReceiver {
    interface Poll {
      List<Record> poll(int call) throws Exception;
    }

    final Poll script;
    final AtomicInteger polls = new AtomicInteger();
    final AtomicInteger opens = new AtomicInteger();
    final AtomicInteger closes = new AtomicInteger();
    final AtomicInteger acks = new AtomicInteger();
    final Set<String> threads = ConcurrentHashMap.newKeySet();
    volatile Exception openFailure;

    Scripted(Settings settings, Poll script) {
      super(settings);
      this.script = script;
    }

    @Override
    protected void open() throws Exception {
      threads.add(Thread.currentThread().getName());
      opens.incrementAndGet();
      if (openFailure != null) {
        throw openFailure;
      }
    }

    @Override
    protected List<Record> poll(Duration timeout) throws Exception {
      threads.add(Thread.currentThread().getName());
      return script.poll(polls.incrementAndGet());
    }

    @Override
    protected void acknowledge(List<Record> batch) {
      threads.add(Thread.currentThread().getName());
      acks.incrementAndGet();
    }

    @Override
    protected void close() {
      threads.add(Thread.currentThread().getName());
      closes.incrementAndGet();
    }
  }

  private static PollingReceiver.Settings fast() {
    return PollingReceiver.Settings.defaults()
        .withPollTimeout(Duration.ofMillis(20))
        .withBackoff(Duration.ofMillis(1), Duration.ofMillis(4))
        .withMaxRetries(2);
  }

  private EmbeddedReceiver start(PollingReceiver r) throws Exception {
    harness = new EmbeddedReceiver(r, "unit");
    return harness.start();
  }

  @Test
  void callsOpenPollAcknowledgeAndCloseOnOneNamedThread() throws Exception {
    Scripted r =
        new Scripted(fast(), call -> call == 1 ? List.of(Record.ofString("a")) : List.of());
    start(r);
    await().atMost(WAIT).until(() -> r.acks.get() == 1);
    harness.stopReceiver();
    assertThat(r.threads).containsExactly("tributary-unit-poll-0");
    assertThat(r.opens.get()).isEqualTo(1);
    assertThat(r.closes.get()).isEqualTo(1);
  }

  @Test
  void retriesRetriableErrorsWithBackoffThenAsksForARestart() throws Exception {
    Scripted r =
        new Scripted(
            fast(),
            call -> {
              throw new IOException("broker unreachable " + call);
            });
    start(r);
    await().atMost(WAIT).until(() -> !harness.restartRequests().isEmpty());
    assertThat(r.polls.get()).as("1 try + 2 retries").isEqualTo(3);
    assertThat(harness.restartRequests()).containsExactly("poll failed");
    await().atMost(WAIT).until(() -> r.closes.get() == 1);
  }

  @Test
  void aRetriableErrorFollowedBySuccessNeedsNoRestart() throws Exception {
    Scripted r =
        new Scripted(
            fast(),
            call -> {
              if (call == 1) {
                throw new IOException("transient");
              }
              return call == 2 ? List.of(Record.ofString("x")) : List.of();
            });
    start(r);
    await().atMost(WAIT).until(() -> r.acks.get() == 1);
    assertThat(harness.restartRequests()).isEmpty();
  }

  @Test
  void aFatalErrorAsksForARestartAtOnce() throws Exception {
    Scripted r =
        new Scripted(
            fast(),
            call -> {
              throw new IllegalStateException("bad credentials");
            });
    start(r);
    await().atMost(WAIT).until(() -> !harness.restartRequests().isEmpty());
    assertThat(r.polls.get()).isEqualTo(1);
    assertThat(harness.reportedErrors())
        .singleElement()
        .satisfies(e -> assertThat(e).hasMessage("bad credentials"));
  }

  @Test
  void closeIsCalledWhenOpenFailsAndTheRestartReopens() throws Exception {
    Scripted r = new Scripted(fast(), call -> List.of());
    r.openFailure = new IOException("connection refused");
    // Automatic restarts must be on before the start: the first open can fail before start()
    // returns.
    harness = new EmbeddedReceiver(r, "unit").restartAutomatically();
    harness.start();
    await().atMost(WAIT).until(() -> r.closes.get() >= 1 && !harness.restartRequests().isEmpty());
    r.openFailure = null;
    await().atMost(WAIT).until(() -> r.polls.get() > 0);
    assertThat(r.opens.get()).isGreaterThanOrEqualTo(2);
  }

  @Test
  void neverAcknowledgesABatchWhoseStoreFailed() throws Exception {
    Scripted r = new Scripted(fast(), call -> List.of(Record.ofString("v" + call)));
    harness = new EmbeddedReceiver(r, "unit");
    harness.failReliableStoresUntilRestart();
    harness.start();
    await().atMost(WAIT).until(() -> !harness.restartRequests().isEmpty());
    assertThat(r.acks.get()).isZero();
    assertThat(r.polls.get()).as("the loop ends at the failed store").isEqualTo(1);
  }

  @Test
  void stopInterruptsAPollThatIgnoresWakeupAfterTheStopTimeout() throws Exception {
    CountDownLatch never = new CountDownLatch(1);
    AtomicInteger interrupted = new AtomicInteger();
    Scripted r =
        new Scripted(
            fast().withStopTimeout(Duration.ofMillis(200)),
            call -> {
              try {
                never.await(); // ignores the timeout: a bad poll
              } catch (InterruptedException e) {
                interrupted.incrementAndGet();
                throw e;
              }
              return List.of();
            });
    start(r);
    await().atMost(WAIT).until(() -> r.polls.get() == 1);
    harness.stopReceiver();
    assertThat(interrupted.get()).isEqualTo(1);
    await().atMost(WAIT).until(() -> r.closes.get() == 1);
    assertThat(harness.restartRequests()).as("an interrupt during stop is no failure").isEmpty();
  }

  @Test
  void anUnexpectedInterruptEndsTheLoopAndAsksForARestart() throws Exception {
    CountDownLatch never = new CountDownLatch(1);
    Scripted r =
        new Scripted(
            fast(),
            call -> {
              never.await();
              return List.of();
            });
    start(r);
    await().atMost(WAIT).until(() -> r.polls.get() == 1);
    Thread poll =
        Thread.getAllStackTraces().keySet().stream()
            .filter(t -> t.getName().equals("tributary-unit-poll-0"))
            .findFirst()
            .orElseThrow();
    poll.interrupt();
    await().atMost(WAIT).until(() -> !harness.restartRequests().isEmpty());
    assertThat(harness.restartRequests()).singleElement().asString().contains("interrupted");
    await().atMost(WAIT).until(() -> !poll.isAlive());
    assertThat(r.closes.get()).isEqualTo(1);
  }
}
