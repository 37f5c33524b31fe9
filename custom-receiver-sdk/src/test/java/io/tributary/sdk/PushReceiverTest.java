package io.tributary.sdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.tributary.core.api.ReceiverRuntime;
import io.tributary.core.api.ReceiverStoppedException;
import io.tributary.core.api.Record;
import io.tributary.core.api.StoreFailedException;
import java.io.IOException;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;

class PushReceiverTest {
  private static final Duration WAIT = Duration.ofSeconds(10);

  /** A runtime whose reliable stores complete when the test says so, in any order. */
  private static final class ScriptedRuntime implements ReceiverRuntime {
    final List<CompletableFuture<Void>> stores = new CopyOnWriteArrayList<>();
    final List<String> restarts = new CopyOnWriteArrayList<>();
    volatile boolean stopped;

    @Override
    public void store(Record record) {
      throw new UnsupportedOperationException();
    }

    @Override
    public void store(Iterator<Record> records) {
      throw new UnsupportedOperationException();
    }

    @Override
    public CompletableFuture<Void> storeReliablyAsync(List<Record> batch) {
      CompletableFuture<Void> f = new CompletableFuture<>();
      stores.add(f);
      return f;
    }

    @Override
    public OptionalLong lastStoredOffset(String partition) {
      return OptionalLong.empty();
    }

    @Override
    public void restart(String reason, Throwable error) {
      restarts.add(reason);
    }

    @Override
    public void reportError(String message, Throwable error) {}

    @Override
    public void stop(String reason) {}

    @Override
    public boolean isStopped() {
      return stopped;
    }

    @Override
    public String receiverName() {
      return "push";
    }
  }

  /** Keeps the delivery so the test can act as the source's callback thread. */
  private static final class Captured extends PushReceiver {
    volatile Delivery delivery;
    volatile int closes;

    Captured(int maxInFlight) {
      super(
          Settings.defaults().withMaxInFlight(maxInFlight).withStopTimeout(Duration.ofMillis(500)));
    }

    @Override
    protected void open(Delivery d) {
      delivery = d;
    }

    @Override
    protected void close() {
      closes++;
    }
  }

  private static List<Record> batch(String v) {
    return List.of(Record.ofString(v));
  }

  @Test
  void acknowledgesInDeliveryOrderOnTheAckThreadEvenWhenStoresCompleteOutOfOrder()
      throws Exception {
    ScriptedRuntime rt = new ScriptedRuntime();
    Captured r = new Captured(8);
    r.attach(rt);
    r.onStart();
    List<String> acked = new CopyOnWriteArrayList<>();
    List<String> ackThreads = new CopyOnWriteArrayList<>();
    for (String v : List.of("a", "b", "c")) {
      r.delivery.storeThenAcknowledge(
          batch(v),
          () -> {
            acked.add(v);
            ackThreads.add(Thread.currentThread().getName());
          });
    }
    rt.stores.get(2).complete(null);
    rt.stores.get(1).complete(null);
    assertThat(r.delivery.inFlight()).isEqualTo(3);
    assertThat(acked).as("nothing before batch a is durable").isEmpty();
    rt.stores.get(0).complete(null);
    await().atMost(WAIT).until(() -> acked.size() == 3);
    assertThat(acked).containsExactly("a", "b", "c");
    assertThat(ackThreads).containsOnly("tributary-push-ack-0");
    r.onStop();
    assertThat(r.closes).isEqualTo(1);
  }

  @Test
  void aFailedStoreSkipsItsAndEveryLaterAcknowledgementAndRestartsOnce() throws Exception {
    ScriptedRuntime rt = new ScriptedRuntime();
    Captured r = new Captured(8);
    r.attach(rt);
    r.onStart();
    List<String> acked = new CopyOnWriteArrayList<>();
    CompletableFuture<Void> first =
        r.delivery.storeThenAcknowledge(batch("a"), () -> acked.add("a"));
    CompletableFuture<Void> second =
        r.delivery.storeThenAcknowledge(batch("b"), () -> acked.add("b"));
    CompletableFuture<Void> third =
        r.delivery.storeThenAcknowledge(batch("c"), () -> acked.add("c"));
    rt.stores.get(0).complete(null);
    rt.stores
        .get(1)
        .completeExceptionally(new StoreFailedException("disk full", new IOException("ENOSPC")));
    rt.stores
        .get(2)
        .complete(null); // durable, but after a lost batch: acknowledging it could confirm b too
    assertThat(first).succeedsWithin(WAIT);
    assertThatThrownBy(() -> third.get()).isInstanceOf(ExecutionException.class);
    assertThat(second).isCompletedExceptionally();
    assertThat(acked).containsExactly("a");
    await().atMost(WAIT).until(() -> rt.restarts.size() == 1);
    assertThat(r.delivery.isOpen()).isFalse();
    assertThat(r.delivery.storeThenAcknowledgeAsync(batch("d"), () -> acked.add("d")))
        .isCompletedExceptionally();
    assertThat(rt.stores).as("no store after the failure").hasSize(3);
    r.onStop();
  }

  @Test
  void blocksTheCallerAtMaxInFlightAndAStopReleasesItWithoutStoring() throws Exception {
    ScriptedRuntime rt = new ScriptedRuntime();
    Captured r = new Captured(1);
    r.attach(rt);
    r.onStart();
    r.delivery.storeThenAcknowledge(batch("a"), () -> {});
    CompletableFuture<CompletableFuture<Void>> blocked =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return r.delivery.storeThenAcknowledge(batch("b"), () -> {});
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
              }
            });
    await().during(Duration.ofMillis(200)).atMost(WAIT).until(() -> !blocked.isDone());
    rt.stopped = true;
    r.onStop(); // waits up to the stop timeout for a's store, then gives up on it
    CompletableFuture<Void> b = blocked.get();
    assertThatThrownBy(b::get).hasCauseInstanceOf(ReceiverStoppedException.class);
    assertThat(rt.stores).hasSize(1);
    assertThat(rt.restarts).as("a stop is no failure").isEmpty();
    assertThat(r.closes).isEqualTo(1);
  }
}
