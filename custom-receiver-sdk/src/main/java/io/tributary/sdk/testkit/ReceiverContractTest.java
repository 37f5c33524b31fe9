package io.tributary.sdk.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.tributary.core.api.Record;
import io.tributary.sdk.PollingReceiver;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The receiver contract as a JUnit 5 suite: extend it, implement {@link #createContext()}, and your receiver inherits
 * every case below as a test (the idea of Flink's {@code SourceTestSuiteBase}).
 *
 * <pre>{@code
 * class MyQueueReceiverTest extends ReceiverContractTest {
 *   @Override
 *   protected ReceiverTestContext createContext() {
 *     return new ReceiverTestContext() {
 *       final FakeQueue queue = new FakeQueue();
 *       public Receiver createReceiver() { return new MyQueueReceiver(queue); }
 *       public List<String> writeRecords(int n) { return queue.publish(n); }
 *       public List<String> acknowledged() { return queue.deleted(); }
 *     };
 *   }
 * }
 * }</pre>
 *
 * <p>The cases drive the receiver in an {@link EmbeddedReceiver} (no pipeline, no WAL) against your real source, and
 * check: start and stop are idempotent and a receiver can be started again; a failed reliable store leads to a restart
 * request and no acknowledgement; no store after stop; the source is acknowledged only after the reliable store; the
 * receiver blocks instead of buffering when the runtime's buffer is full; nothing the source counts as acknowledged is
 * lost across a crash, and everything written arrives after a restart; a stop during a blocked fetch returns promptly.
 * Every wait uses Awaitility; no case sleeps. Cases that must show that something does <em>not</em> happen watch for
 * {@link #quietPeriod()}.
 *
 * <p>Thread safety: JUnit runs each case on one thread with a fresh context; do not run cases of one class in parallel
 * against a shared source.
 */
public abstract class ReceiverContractTest {
  /** A directory for the context's source (files, spools); fresh for every case. */
  @TempDir protected Path tempDir;

  private ReceiverTestContext context;
  private final List<EmbeddedReceiver> harnesses = new ArrayList<>();

  /** Creates the context of one case. Called once per case, after {@link #tempDir} is set. */
  protected abstract ReceiverTestContext createContext() throws Exception;

  /** How long cases watch for something that must not happen. */
  protected Duration quietPeriod() {
    return Duration.ofMillis(300);
  }

  /** How long cases wait for something that must happen. */
  protected Duration patience() {
    return Duration.ofSeconds(20);
  }

  /** The buffer capacity (records) used by the backpressure case. */
  protected int backpressureCapacity() {
    return 100;
  }

  /** How many records the backpressure case writes; must be well above the two bounds. */
  protected int backpressureRecords() {
    return 2000;
  }

  /** The most records a receiver may hold waiting for room in a full buffer (its in-flight window). */
  protected int maxRecordsHeldByReceiver() {
    return 500;
  }

  @BeforeEach
  final void setUpContext() throws Exception {
    context = createContext();
  }

  @AfterEach
  final void tearDownContext() throws Exception {
    try {
      for (EmbeddedReceiver h : harnesses) {
        h.close();
      }
    } finally {
      context.close();
    }
  }

  /** The context of the running case. */
  protected final ReceiverTestContext context() {
    return context;
  }

  /** A harness around a fresh receiver from the context; closed after the case. */
  protected final EmbeddedReceiver newHarness() throws Exception {
    EmbeddedReceiver h = new EmbeddedReceiver(context.createReceiver(), "contract");
    harnesses.add(h);
    return h;
  }

  private EmbeddedReceiver recover(EmbeddedReceiver crashed) throws Exception {
    EmbeddedReceiver h = crashed.recoverWith(context.createReceiver());
    harnesses.add(h);
    return h;
  }

  private List<String> ids(List<Record> records) {
    List<String> out = new ArrayList<>(records.size());
    for (Record r : records) {
      out.add(context.identify(r));
    }
    return out;
  }

  private Set<String> durableIds(EmbeddedReceiver h) {
    return new HashSet<>(ids(h.durable()));
  }

  private Set<String> storedIds(EmbeddedReceiver h) {
    Set<String> s = durableIds(h);
    s.addAll(ids(h.buffered()));
    return s;
  }

  private Set<String> acked() throws Exception {
    return new HashSet<>(context.acknowledged());
  }

  private void awaitStoredAndAcked(EmbeddedReceiver h, List<String> expected) {
    await("records stored and acknowledged")
        .atMost(patience())
        .untilAsserted(
            () -> {
              assertThat(storedIds(h)).containsAll(expected);
              assertThat(acked()).containsAll(expected);
            });
  }

  // ---------------------------------------------------------------- lifecycle

  @Test
  public void stopTwiceIsHarmless() throws Exception {
    EmbeddedReceiver h = newHarness().start();
    List<String> written = context.writeRecords(5);
    awaitStoredAndAcked(h, written);
    h.stopReceiver();
    h.stopReceiver();
    h.close();
    assertThat(h.storesAfterStop()).as("stores refused after stop").isZero();
    assertThat(h.restartRequests()).as("restart requests").isEmpty();
  }

  @Test
  public void startStopStartReceivesAgain() throws Exception {
    EmbeddedReceiver h = newHarness().start();
    List<String> first = context.writeRecords(10);
    awaitStoredAndAcked(h, first);
    h.stopReceiver();
    h.start();
    List<String> second = context.writeRecords(10);
    awaitStoredAndAcked(h, second);
    assertThat(h.restartRequests()).as("restart requests").isEmpty();
    assertThat(h.reportedErrors()).as("reported errors").isEmpty();
  }

  @Test
  public void failedStoreIsNotAcknowledgedAndLeadsToRestart() throws Exception {
    EmbeddedReceiver h = newHarness();
    h.failNextReliableStores(1);
    h.start();
    List<String> written = context.writeRecords(10);
    await("restart request after the failed store").atMost(patience()).until(() -> !h.restartRequests().isEmpty());
    assertThat(acked()).as("acknowledged after a failed store").doesNotContainAnyElementsOf(written);
    h.restart(); // the supervisor would, after its backoff
    awaitStoredAndAcked(h, written);
  }

  @Test
  public void storesNothingAfterStop() throws Exception {
    EmbeddedReceiver h = newHarness().start();
    List<String> first = context.writeRecords(5);
    awaitStoredAndAcked(h, first);
    h.stopReceiver();
    int storedAtStop = h.durable().size() + h.buffered().size();
    List<String> later = context.writeRecords(5);
    await("no store after stop")
        .during(quietPeriod())
        .atMost(quietPeriod().plus(patience()))
        .until(() -> h.storesAfterStop() == 0 && h.durable().size() + h.buffered().size() == storedAtStop);
    assertThat(acked()).as("acknowledged while stopped").doesNotContainAnyElementsOf(later);
  }

  // ---------------------------------------------------------------- reliability

  @Test
  public void acknowledgesSourceOnlyAfterReliableStore() throws Exception {
    EmbeddedReceiver h = newHarness();
    h.holdReliableStores();
    h.start();
    List<String> written = context.writeRecords(20);
    await("a reliable store in flight").atMost(patience()).until(() -> h.heldStoreCount() >= 1);
    await("no acknowledgement while the store is not durable")
        .during(quietPeriod())
        .atMost(quietPeriod().plus(patience()))
        .until(() -> acked().isEmpty());
    h.releaseReliableStores();
    await("acknowledged after durability")
        .atMost(patience())
        .untilAsserted(() -> assertThat(acked()).containsAll(written));
    assertThat(durableIds(h)).as("durable").containsAll(acked());
  }

  @Test
  public void nothingAcknowledgedIsLostAcrossCrashBetweenStoreAndAck() throws Exception {
    EmbeddedReceiver h = newHarness().start();
    List<String> before = context.writeRecords(20);
    awaitStoredAndAcked(h, before);
    h.holdReliableStores();
    List<String> inWindow = context.writeRecords(20);
    await("a reliable store in flight").atMost(patience()).until(() -> h.heldStoreCount() >= 1);
    h.crashAfterHeldStoresBecomeDurable();
    assertThat(durableIds(h)).as("every acknowledged record is durable").containsAll(acked());
    List<String> after = context.writeRecords(20);

    EmbeddedReceiver recovered = recover(h).start();
    List<String> all = new ArrayList<>(before);
    all.addAll(inWindow);
    all.addAll(after);
    await("everything written is durable and acknowledged after the restart")
        .atMost(patience())
        .untilAsserted(
            () -> {
              assertThat(durableIds(recovered)).containsAll(all);
              assertThat(acked()).containsAll(all);
            });
    if (context.deduplicatesAfterCrash()) {
      assertThat(ids(recovered.durable())).as("durable records, without duplicates").doesNotHaveDuplicates();
    }
  }

  @Test
  public void storesThatFailAtCrashAreReceivedAfterRestart() throws Exception {
    EmbeddedReceiver h = newHarness();
    h.holdReliableStores();
    h.start();
    List<String> written = context.writeRecords(30);
    await("a reliable store in flight").atMost(patience()).until(() -> h.heldStoreCount() >= 1);
    h.crash();
    assertThat(acked()).as("acknowledged although the store failed").doesNotContainAnyElementsOf(written);
    EmbeddedReceiver recovered = recover(h).start();
    await("everything written is durable after the restart")
        .atMost(patience())
        .untilAsserted(
            () -> {
              assertThat(durableIds(recovered)).containsAll(written);
              assertThat(acked()).containsAll(written);
            });
    if (context.deduplicatesAfterCrash()) {
      assertThat(ids(recovered.durable())).as("durable records, without duplicates").doesNotHaveDuplicates();
    }
  }

  // ---------------------------------------------------------------- backpressure and stopping

  @Test
  public void blocksInsteadOfBufferingWhenTheBufferIsFull() throws Exception {
    int capacity = backpressureCapacity();
    EmbeddedReceiver h = newHarness();
    h.setCapacity(capacity);
    h.start();
    List<String> written = context.writeRecords(backpressureRecords());
    await("the receiver waits for room").atMost(patience()).until(() -> h.storesWaitingForCapacity() >= 1);
    int storedWhenFull = storedIds(h).size();
    assertThat(storedWhenFull).as("stored while the buffer is full").isLessThan(written.size());
    await("no progress and a bounded in-flight window while the buffer stays full")
        .during(quietPeriod())
        .atMost(quietPeriod().plus(patience()))
        .until(
            () ->
                storedIds(h).size() == storedWhenFull
                    && h.recordsWaitingForCapacity() <= maxRecordsHeldByReceiver());
    assertThat(durableIds(h)).as("durable").containsAll(acked());

    await("everything arrives once the buffer drains")
        .atMost(patience())
        .pollInterval(Duration.ofMillis(10))
        .until(
            () -> {
              h.consume(capacity);
              return storedIds(h).containsAll(written) && acked().containsAll(written);
            });
  }

  @Test
  public void stopDuringBlockedFetchReturnsPromptly() throws Exception {
    EmbeddedReceiver h = newHarness().start();
    if (h.receiver() instanceof PollingReceiver p) {
      await("the poll thread is polling").atMost(patience()).until(() -> p.pollCount() >= 1);
    }
    long t0 = System.nanoTime();
    h.stopReceiver();
    Duration took = Duration.ofNanos(System.nanoTime() - t0);
    assertThat(took).as("time to stop during a blocked fetch").isLessThan(context.maxStopTime());
    assertThat(h.restartRequests()).as("restart requests").isEmpty();
  }
}
