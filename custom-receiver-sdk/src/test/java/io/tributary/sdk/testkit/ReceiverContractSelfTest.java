package io.tributary.sdk.testkit;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tributary.core.api.Receiver;
import io.tributary.core.api.Record;
import io.tributary.core.api.SourcePosition;
import io.tributary.sdk.PollingReceiver;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The kit must catch broken receivers, or its green runs prove nothing: a correct {@link PollingReceiver} over a
 * queue passes the suite (this class extends it), and deliberately broken variants fail the case aimed at their bug.
 */
class ReceiverContractSelfTest extends ReceiverContractTest {
  enum Bug {
    NONE,
    ACK_BEFORE_STORE,
    IGNORES_WAKEUP
  }

  /** Pulls from the fake broker; acknowledges messages individually. */
  static final class QueueReceiver extends PollingReceiver {
    final FakeBroker broker;
    final Bug bug;
    private volatile boolean woken;
    private long after;

    QueueReceiver(FakeBroker broker, Bug bug) {
      super(Duration.ofSeconds(30), Duration.ofSeconds(3));
      this.broker = broker;
      this.bug = bug;
    }

    @Override
    protected void open() {
      after = 0;
    }

    @Override
    protected List<Record> poll(Duration timeout) throws InterruptedException {
      List<Record> out = new ArrayList<>();
      for (FakeBroker.Message m : broker.poll(after, 50, timeout.toMillis(), () -> woken && bug != Bug.IGNORES_WAKEUP)) {
        if (bug == Bug.ACK_BEFORE_STORE) {
          broker.ack(m.seq());
        }
        after = m.seq();
        out.add(
            new Record(
                null, m.payload().getBytes(StandardCharsets.UTF_8), -1L, Map.of(),
                new SourcePosition(receiverName(), "q", m.seq())));
      }
      woken = false;
      return out;
    }

    @Override
    protected void acknowledge(List<Record> batch) {
      for (Record r : batch) {
        broker.ack(r.position().offset());
      }
    }

    @Override
    protected void close() {}

    @Override
    protected void wakeup() {
      woken = true;
      broker.wakeAll();
    }
  }

  static ReceiverTestContext queueContext(Bug bug) {
    FakeBroker broker = new FakeBroker();
    return new ReceiverTestContext() {
      @Override
      public Receiver createReceiver() {
        return new QueueReceiver(broker, bug);
      }

      @Override
      public List<String> writeRecords(int count) {
        return broker.publish("q", count);
      }

      @Override
      public List<String> acknowledged() {
        return broker.acknowledged();
      }
    };
  }

  @Override
  protected ReceiverTestContext createContext() {
    return queueContext(Bug.NONE);
  }

  /** The suite run against a broken receiver, one case at a time, outside JUnit's discovery. */
  static final class Broken extends ReceiverContractTest {
    final Bug bug;

    Broken(Bug bug, Path dir) {
      this.bug = bug;
      this.tempDir = dir;
    }

    @Override
    protected ReceiverTestContext createContext() {
      return queueContext(bug);
    }

    @Override
    protected Duration patience() {
      return Duration.ofSeconds(3);
    }

    void run(ThrowingRunnable testCase) throws Exception {
      setUpContext();
      try {
        testCase.run();
      } finally {
        tearDownContext();
      }
    }
  }

  interface ThrowingRunnable {
    void run() throws Exception;
  }

  @Test
  void kitCatchesAcknowledgingBeforeTheStore(@TempDir Path dir) {
    Broken suite = new Broken(Bug.ACK_BEFORE_STORE, dir);
    assertThatThrownBy(() -> suite.run(suite::acknowledgesSourceOnlyAfterReliableStore))
        .isInstanceOfAny(AssertionError.class, ConditionTimeoutException.class);
  }

  @Test
  void kitCatchesAWakeupThatDoesNotEndThePoll(@TempDir Path dir) {
    Broken suite = new Broken(Bug.IGNORES_WAKEUP, dir);
    assertThatThrownBy(() -> suite.run(suite::stopDuringBlockedFetchReturnsPromptly))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("time to stop");
  }
}
