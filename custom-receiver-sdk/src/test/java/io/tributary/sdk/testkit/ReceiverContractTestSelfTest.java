package io.tributary.sdk.testkit;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tributary.core.api.Receiver;
import io.tributary.core.api.Record;
import io.tributary.sdk.PollingReceiver;
import io.tributary.sdk.fixtures.InMemoryQueue;
import io.tributary.sdk.fixtures.QueueContext;
import io.tributary.sdk.fixtures.QueuePollingReceiver;
import io.tributary.sdk.fixtures.QueuePollingReceiver.Bug;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The kit fails receivers that break the contract: each case below runs one contract case on a
 * broken receiver.
 */
class ReceiverContractTestSelfTest {
  private static final Duration SHORT = Duration.ofSeconds(3);
  private final AtomicBoolean endLeakedThreads = new AtomicBoolean();

  @AfterEach
  void endLeaks() {
    endLeakedThreads.set(true);
  }

  @FunctionalInterface
  interface Case {
    void run(ReceiverContractTest kit) throws Exception;
  }

  private static void assertCaseFails(ReceiverTestContext brokenContext, Case c, String because)
      throws Exception {
    ReceiverContractTest kit =
        new ReceiverContractTest() {
          @Override
          protected ReceiverTestContext createContext() {
            return brokenContext;
          }
        };
    kit.setUpReceiverContract();
    try {
      assertThatThrownBy(() -> c.run(kit))
          .isInstanceOfAny(AssertionError.class, ConditionTimeoutException.class)
          .hasMessageContaining(because);
    } finally {
      kit.tearDownReceiverContract();
    }
  }

  private static QueueContext polling(
      Bug bug, PollingReceiver.Settings settings, boolean skips, Duration maxStop) {
    return new QueueContext(q -> new QueuePollingReceiver(q, bug, settings), skips, SHORT, maxStop);
  }

  private static QueueContext raw(Function<InMemoryQueue, Receiver> factory) {
    return new QueueContext(factory, false, SHORT, Duration.ofSeconds(2));
  }

  @Test
  void failsAReceiverThatAcknowledgesBeforeTheStore() throws Exception {
    assertCaseFails(
        polling(Bug.ACK_IN_POLL, PollingReceiver.Settings.defaults(), true, Duration.ofSeconds(5)),
        ReceiverContractTest::acknowledgesOnlyAfterTheReliableStoreCompletes,
        "acknowledged while the store was not complete");
  }

  @Test
  void failsAReceiverWhosePollIgnoresStop() throws Exception {
    PollingReceiver.Settings settings =
        PollingReceiver.Settings.defaults().withStopTimeout(Duration.ofSeconds(1));
    assertCaseFails(
        polling(Bug.BLOCK_FOREVER, settings, true, Duration.ofMillis(300)),
        ReceiverContractTest::stopDuringABlockedFetchReturnsPromptly,
        "'stop to return'");
  }

  @Test
  void failsAReceiverThatClaimsToSkipStoredRecordsButDoesNot() throws Exception {
    assertCaseFails(
        polling(Bug.NO_DEDUPE, PollingReceiver.Settings.defaults(), true, Duration.ofSeconds(5)),
        ReceiverContractTest::crashBetweenStoreAndAcknowledgementLosesNothing,
        "stored more than once");
  }

  @Test
  void failsAReceiverThatAcknowledgesAfterAFailedStore() throws Exception {
    assertCaseFails(
        raw(q -> new ThreadReceiver(q, endLeakedThreads, Mode.ACK_EVEN_IF_STORE_FAILS)),
        ReceiverContractTest::restartsAfterAFailedStoreAndNeverAcknowledgesIt,
        "acknowledged to the source but not durable");
  }

  @Test
  void failsAReceiverWhoseThreadOutlivesStop() throws Exception {
    assertCaseFails(
        raw(q -> new ThreadReceiver(q, endLeakedThreads, Mode.IGNORE_STOP)),
        ReceiverContractTest::storesNothingAfterStop,
        "'no store after stop'");
  }

  @Test
  void failsAReceiverThatAcknowledgesAfterAnUnreliableStore() throws Exception {
    assertCaseFails(
        raw(q -> new ThreadReceiver(q, endLeakedThreads, Mode.UNRELIABLE_STORE)),
        ReceiverContractTest::nothingAcknowledgedIsLostAcrossACrash,
        "acknowledged to the source but not durable");
  }

  private enum Mode {
    ACK_EVEN_IF_STORE_FAILS,
    IGNORE_STOP,
    UNRELIABLE_STORE
  }

  /** A hand-written receiver (no SDK base class) with one classic mistake. */
  private static final class ThreadReceiver extends Receiver {
    private final InMemoryQueue queue;
    private final AtomicBoolean end;
    private final Mode mode;
    private volatile boolean stopping;

    ThreadReceiver(InMemoryQueue queue, AtomicBoolean end, Mode mode) {
      this.queue = queue;
      this.end = end;
      this.mode = mode;
    }

    @Override
    public void onStart() {
      stopping = false;
      InMemoryQueue.Session session = queue.session();
      Thread t = new Thread(() -> loop(session), "tributary-" + receiverName() + "-loop-0");
      t.setDaemon(true);
      t.start();
    }

    private void loop(InMemoryQueue.Session session) {
      try {
        while (!end.get() && (mode == Mode.IGNORE_STOP || !stopping)) {
          for (InMemoryQueue.Message m : session.fetch(5, Duration.ofMillis(20))) {
            Record r = Record.ofString(m.body());
            try {
              if (mode == Mode.UNRELIABLE_STORE) {
                store(r);
              } else {
                storeReliably(List.of(r));
              }
            } catch (RuntimeException e) {
              if (mode != Mode.ACK_EVEN_IF_STORE_FAILS) {
                continue;
              }
            }
            queue.ack(m.seq());
          }
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    @Override
    public void onStop() {
      stopping = true;
    }
  }
}
