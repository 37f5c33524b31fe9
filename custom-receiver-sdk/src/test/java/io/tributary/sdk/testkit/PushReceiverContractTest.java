package io.tributary.sdk.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.tributary.core.api.Receiver;
import io.tributary.core.api.Record;
import io.tributary.core.api.SourcePosition;
import io.tributary.sdk.PushReceiver;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** {@link PushReceiver} over a listener-style fake broker passes the contract; plus ack-order cases. */
class PushReceiverContractTest extends ReceiverContractTest {
  /** A listener receiver: one record per message, acked via the broker, skipping what is already stored. */
  static final class BrokerPushReceiver extends PushReceiver {
    final FakeBroker broker;
    final List<Long> ackOrder = new CopyOnWriteArrayList<>();
    private AutoCloseable subscription;

    BrokerPushReceiver(FakeBroker broker, int maxInFlight) {
      super(maxInFlight);
      this.broker = broker;
    }

    @Override
    protected void open(Delivery delivery) {
      subscription =
          broker.subscribe(
              m -> {
                if (m.seq() <= lastStoredOffset("q").orElse(0L)) {
                  broker.ack(m.seq()); // already durable before a crash: acknowledge, do not store again
                  return;
                }
                Record r =
                    new Record(
                        null,
                        m.payload().getBytes(StandardCharsets.UTF_8),
                        -1L,
                        Map.of(),
                        new SourcePosition(receiverName(), "q", m.seq()));
                try {
                  delivery.deliver(
                      List.of(r),
                      () -> {
                        ackOrder.add(m.seq());
                        broker.ack(m.seq());
                      });
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              });
    }

    @Override
    protected void close() throws Exception {
      if (subscription != null) {
        subscription.close();
        subscription = null;
      }
    }
  }

  @Override
  protected ReceiverTestContext createContext() {
    FakeBroker broker = new FakeBroker();
    return new ReceiverTestContext() {
      @Override
      public Receiver createReceiver() {
        return new BrokerPushReceiver(broker, 200);
      }

      @Override
      public List<String> writeRecords(int count) {
        return broker.publish("m", count);
      }

      @Override
      public List<String> acknowledged() {
        return broker.acknowledged();
      }

      @Override
      public boolean deduplicatesAfterCrash() {
        return true;
      }
    };
  }

  @Test
  void acksRunInDeliveryOrderEvenWhenStoresCompleteTogether() throws Exception {
    EmbeddedReceiver h = newHarness();
    h.holdReliableStores();
    h.start();
    context().writeRecords(50);
    await().until(() -> h.heldStoreCount() == 50);
    h.releaseReliableStores();
    BrokerPushReceiver r = (BrokerPushReceiver) h.receiver();
    await().until(() -> r.ackOrder.size() == 50);
    List<Long> expected = new ArrayList<>();
    for (long i = 1; i <= 50; i++) {
      expected.add(i);
    }
    assertThat(r.ackOrder).containsExactlyElementsOf(expected);
  }

  @Test
  void deliverBlocksAtTheInFlightBoundAndReturnsFalseAfterStop() throws Exception {
    FakeBroker broker = new FakeBroker();
    BrokerPushReceiver r = new BrokerPushReceiver(broker, 10);
    EmbeddedReceiver h = new EmbeddedReceiver(r, "bound");
    h.holdReliableStores();
    h.start();
    try {
      broker.publish("b", 30);
      await().until(() -> h.heldStoreCount() == 10);
      await().during(quietPeriod()).until(() -> h.heldStoreCount() == 10);
    } finally {
      h.stopReceiver(); // unblocks the dispatcher blocked in deliver; nothing more is stored
    }
    assertThat(broker.acknowledged()).isEmpty();
    assertThat(h.storesAfterStop()).isZero();
  }
}
