package io.tributary.sdk.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.awaitility.Awaitility.await;

import io.tributary.core.api.Record;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The receiver contract as a JUnit 5 suite: extend it, supply a {@link ReceiverTestContext}, and
 * your receiver inherits every case below as a {@code @Test} (the approach of Flink's {@code
 * SourceTestSuiteBase}).
 *
 * <pre>{@code
 * class MyReceiverContractTest extends ReceiverContractTest {
 *   @TempDir Path dir;
 *
 *   @Override
 *   protected ReceiverTestContext createContext() {
 *     return new MyContext(dir);
 *   }
 * }
 * }</pre>
 *
 * <p>Each case runs the receiver in an {@link EmbeddedReceiver} (no pipeline, no WAL) against your
 * real source and checks, as it goes, the invariant every reliable receiver must keep: <b>whatever
 * the source counts as acknowledged is durable</b>. The cases:
 *
 * <ul>
 *   <li>{@link #stopTwiceIsHarmless()} and {@link #startStopStartDeliversEverything()}: lifecycle;
 *   <li>{@link #restartsAfterAFailedStoreAndNeverAcknowledgesIt()}: a failed reliable store;
 *   <li>{@link #storesNothingAfterStop()}: no thread outlives {@code onStop};
 *   <li>{@link #acknowledgesOnlyAfterTheReliableStoreCompletes()}: reliable stores are held, the
 *       source must see no acknowledgement of what is held;
 *   <li>{@link #blocksUnderBackpressureInsteadOfLosingData()} and {@link
 *       #stopWhileBlockedOnBackpressureReturnsPromptly()}: a capacity-bounded runtime;
 *   <li>{@link #nothingAcknowledgedIsLostAcrossACrash()} and {@link
 *       #crashBetweenStoreAndAcknowledgementLosesNothing()}: a new receiver instance after a crash;
 *   <li>{@link #stopDuringABlockedFetchReturnsPromptly()}.
 * </ul>
 *
 * <p>What the kit cannot see: memory the receiver buffers on its own (it checks that the receiver
 * stops storing when the runtime is full and that nothing is acknowledged beyond what is durable,
 * not the receiver's heap).
 *
 * <p>To leave out a case your receiver cannot support, override it without {@code @Test} and say
 * why in a comment.
 *
 * <p>Thread safety: JUnit runs each case on one thread; the receiver runs on its own.
 */
public abstract class ReceiverContractTest {
  private static final AtomicInteger RUNS = new AtomicInteger();

  /** The context of the running case. */
  protected ReceiverTestContext context;

  private final List<EmbeddedReceiver> harnesses = new ArrayList<>();
  private String receiverName;
  private int nextValue;
  private final List<String> written = new ArrayList<>();

  /** A new context over a fresh source; called before every case. */
  protected abstract ReceiverTestContext createContext() throws Exception;

  @BeforeEach
  public void setUpReceiverContract() throws Exception {
    context = createContext();
    receiverName = "contract" + RUNS.incrementAndGet();
  }

  @AfterEach
  public void tearDownReceiverContract() throws Exception {
    try {
      for (EmbeddedReceiver h : harnesses) {
        h.close();
      }
    } finally {
      harnesses.clear();
      written.clear();
      if (context != null) {
        context.close();
      }
    }
  }

  // ---------------------------------------------------------------- the cases

  /**
   * onStop twice (the runtime may do so after a failed start) neither throws nor leaves a thread
   * behind.
   */
  @Test
  public void stopTwiceIsHarmless() throws Exception {
    EmbeddedReceiver h = newHarness();
    h.start();
    List<String> values = write(10);
    awaitDurableAndAcknowledged(h, values);
    h.stopReceiver();
    assertThatCode(() -> h.receiver().onStop()).as("a second onStop").doesNotThrowAnyException();
    h.stopReceiver();
    awaitNoReceiverThreads();
  }

  /** A receiver is started again after a stop and a restart, mid-stream, and loses nothing. */
  @Test
  public void startStopStartDeliversEverything() throws Exception {
    EmbeddedReceiver h = newHarness();
    h.start();
    awaitDurableAndAcknowledged(h, write(20));
    h.stopReceiver();
    awaitNoReceiverThreads();
    h.start();
    write(20);
    h.restart();
    write(20);
    awaitDurableAndAcknowledged(h, written);
    assertAcknowledgedOnce();
  }

  /**
   * A failed reliable store is never acknowledged, and the receiver asks for a restart (the
   * runtime's write-ahead log fails for good, so retrying in place cannot help); after the restart
   * the data arrives.
   */
  @Test
  public void restartsAfterAFailedStoreAndNeverAcknowledgesIt() throws Exception {
    EmbeddedReceiver h = newHarness();
    h.failReliableStoresUntilRestart();
    h.start();
    write(20);
    awaitWithInvariant(
        h,
        "a failed reliable store and a restart request",
        () -> !h.failedRecords().isEmpty() && !h.restartRequests().isEmpty());
    List<String> failed = values(h.failedRecords());
    await("no acknowledgement of the failed records")
        .during(Duration.ofMillis(200))
        .atMost(context.timeout())
        .untilAsserted(
            () ->
                assertThat(context.acknowledgedValues())
                    .as("acknowledged although the store failed")
                    .doesNotContainAnyElementsOf(failed));
    h.restart();
    if (context.sourceResendsUnacknowledged()) {
      awaitDurableAndAcknowledged(h, written);
    }
    assertAcknowledgedAreDurable(h);
    assertAcknowledgedOnce();
  }

  /**
   * After stop returned, the receiver stores nothing, whatever arrives at the source, and has no
   * thread left.
   */
  @Test
  public void storesNothingAfterStop() throws Exception {
    EmbeddedReceiver h = newHarness();
    h.start();
    awaitDurableAndAcknowledged(h, write(10));
    h.stopReceiver();
    int durableAtStop = h.durable().size();
    write(10);
    await("no store after stop")
        .during(Duration.ofMillis(300))
        .atMost(context.timeout())
        .until(
            () ->
                h.storesAfterStop() == 0
                    && h.durable().size() == durableAtStop
                    && h.buffered().isEmpty());
    awaitNoReceiverThreads();
  }

  /** While reliable stores are held, the source is told nothing about the held records. */
  @Test
  public void acknowledgesOnlyAfterTheReliableStoreCompletes() throws Exception {
    EmbeddedReceiver h = newHarness();
    h.holdReliableStores();
    h.start();
    write(20);
    await("a held reliable store").atMost(context.timeout()).until(() -> h.heldStoreCount() > 0);
    List<String> held = values(h.heldRecords());
    await("no acknowledgement of held records " + held)
        .during(Duration.ofMillis(300))
        .atMost(context.timeout())
        .untilAsserted(
            () ->
                assertThat(context.acknowledgedValues())
                    .as("acknowledged while the store was not complete")
                    .doesNotContainAnyElementsOf(held));
    h.releaseReliableStores();
    awaitDurableAndAcknowledged(h, written);
    assertAcknowledgedOnce();
  }

  /**
   * With a runtime full to capacity, the receiver stops storing (blocks) rather than failing or
   * dropping, and resumes as batches free memory; nothing is acknowledged beyond what is durable.
   */
  @Test
  public void blocksUnderBackpressureInsteadOfLosingData() throws Exception {
    EmbeddedReceiver h = newHarness();
    h.setCapacity(10);
    List<String> values = write(200);
    h.start();
    await("a first store").atMost(context.timeout()).until(() -> h.usedCapacity() > 0);
    AtomicInteger lastSeen = new AtomicInteger(-1);
    await("the receiver to block on the full runtime")
        .atMost(context.timeout())
        .pollInterval(Duration.ofMillis(50))
        .until(
            () -> {
              assertAcknowledgedAreDurable(h);
              int stored = h.durable().size() + h.buffered().size();
              return stored == lastSeen.getAndSet(stored) && stored < values.size();
            });
    int blockedAt = h.durable().size() + h.buffered().size();
    await("the receiver to stay blocked")
        .during(Duration.ofMillis(300))
        .atMost(context.timeout())
        .until(() -> h.durable().size() + h.buffered().size() == blockedAt);
    AtomicReference<AssertionError> broken = new AtomicReference<>();
    await("all records, consuming 10 at a time")
        .atMost(context.timeout())
        .pollInterval(Duration.ofMillis(10))
        .until(
            () -> {
              try {
                assertAcknowledgedAreDurable(h);
              } catch (AssertionError e) {
                broken.set(e);
                return true;
              }
              h.consume(10);
              return storedValues(h).containsAll(values)
                  && context.acknowledgedValues().containsAll(values);
            });
    if (broken.get() != null) {
      throw broken.get();
    }
    assertAcknowledgedOnce();
  }

  /** A stop while the receiver waits for room in the runtime returns within the stop bound. */
  @Test
  public void stopWhileBlockedOnBackpressureReturnsPromptly() throws Exception {
    EmbeddedReceiver h = newHarness();
    h.setCapacity(1);
    write(50);
    h.start();
    await("a first store").atMost(context.timeout()).until(() -> h.usedCapacity() > 0);
    assertStopsWithin(h, context.maxStopDuration());
    assertAcknowledgedAreDurable(h);
    awaitNoReceiverThreads();
  }

  /** A stop while the receiver waits for data that does not come returns within the stop bound. */
  @Test
  public void stopDuringABlockedFetchReturnsPromptly() throws Exception {
    EmbeddedReceiver h = newHarness();
    h.start();
    awaitDurableAndAcknowledged(h, write(1));
    // The source is now empty: the receiver is waiting in a fetch.
    assertStopsWithin(h, context.maxStopDuration());
    awaitNoReceiverThreads();
  }

  /**
   * A crash at an arbitrary point loses nothing the source counts as acknowledged; a new receiver
   * instance then receives the rest (when the source resends), and nothing is acknowledged twice.
   */
  @Test
  public void nothingAcknowledgedIsLostAcrossACrash() throws Exception {
    EmbeddedReceiver h = newHarness();
    for (int i = 0; i < 5; i++) {
      write(40);
    }
    h.start();
    awaitWithInvariant(h, "some records durable", () -> h.durable().size() >= 20);
    h.crash();
    assertAcknowledgedAreDurable(h);
    EmbeddedReceiver recovered = track(h.afterCrash(context.createReceiver()));
    recovered.start();
    write(20);
    if (context.sourceResendsUnacknowledged()) {
      awaitDurableAndAcknowledged(recovered, written);
      if (context.skipsRecordsAlreadyStored()) {
        assertDurableOnce(recovered);
      }
    } else {
      awaitWithInvariant(
          recovered, "a record written after the crash", () -> recovered.durable().size() > 0);
    }
    assertAcknowledgedAreDurable(recovered);
    assertAcknowledgedOnce();
  }

  /**
   * A crash after a batch became durable but before the receiver learnt it (so before it could
   * acknowledge): the source resends the batch, and a receiver that {@link
   * ReceiverTestContext#skipsRecordsAlreadyStored() skips what was stored} stores it only once.
   */
  @Test
  public void crashBetweenStoreAndAcknowledgementLosesNothing() throws Exception {
    EmbeddedReceiver h = newHarness();
    h.holdCompletions();
    write(30);
    h.start();
    await("a durable store waiting for completion")
        .atMost(context.timeout())
        .until(() -> h.heldStoreCount() > 0);
    List<String> held = values(h.heldRecords());
    assertThat(context.acknowledgedValues())
        .as("acknowledged before the store completed")
        .doesNotContainAnyElementsOf(held);
    h.crash();
    assertThat(durableValues(h)).containsAll(held);
    EmbeddedReceiver recovered = track(h.afterCrash(context.createReceiver()));
    recovered.start();
    if (context.sourceResendsUnacknowledged()) {
      awaitDurableAndAcknowledged(recovered, written);
      if (context.skipsRecordsAlreadyStored()) {
        assertDurableOnce(recovered);
      }
    }
    assertAcknowledgedAreDurable(recovered);
    assertAcknowledgedOnce();
  }

  // ---------------------------------------------------------------- helpers for subclasses' own
  // cases

  /** A harness over a new receiver from the context, closed after the case. */
  protected EmbeddedReceiver newHarness() throws Exception {
    return track(new EmbeddedReceiver(context.createReceiver(), receiverName));
  }

  /** The receiver name the harnesses of this case use. */
  protected String receiverName() {
    return receiverName;
  }

  private EmbeddedReceiver track(EmbeddedReceiver h) {
    harnesses.add(h);
    return h;
  }

  /** Writes {@code n} new unique values into the source and returns them. */
  protected List<String> write(int n) throws Exception {
    List<String> values = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      values.add(receiverName + "-v" + (nextValue++));
    }
    context.writeRecords(values);
    written.addAll(values);
    return values;
  }

  /** Every value written in this case so far. */
  protected List<String> written() {
    return List.copyOf(written);
  }

  protected List<String> values(List<Record> records) {
    return records.stream().map(context::valueOf).toList();
  }

  protected List<String> durableValues(EmbeddedReceiver h) {
    return values(h.durable());
  }

  private List<String> storedValues(EmbeddedReceiver h) {
    List<String> out = new ArrayList<>(durableValues(h));
    out.addAll(values(h.buffered()));
    return out;
  }

  /**
   * Waits until every value is durable and acknowledged, failing at once if an acknowledged value
   * is not durable.
   */
  protected void awaitDurableAndAcknowledged(EmbeddedReceiver h, List<String> values) {
    List<String> expected = List.copyOf(values);
    awaitWithInvariant(
        h,
        expected.size() + " records durable and acknowledged",
        () ->
            durableValues(h).containsAll(expected)
                && context.acknowledgedValues().containsAll(expected));
  }

  /**
   * Waits for {@code goal}, checking at every poll that whatever the source acknowledged is
   * durable; a violation fails at once.
   */
  protected void awaitWithInvariant(EmbeddedReceiver h, String what, Callable<Boolean> goal) {
    AtomicReference<AssertionError> broken = new AtomicReference<>();
    await(what)
        .atMost(context.timeout())
        .pollInterval(Duration.ofMillis(20))
        .until(
            () -> {
              try {
                assertAcknowledgedAreDurable(h);
              } catch (AssertionError e) {
                broken.set(e);
                return true;
              }
              return goal.call();
            });
    if (broken.get() != null) {
      throw broken.get();
    }
  }

  /** Everything the source counts as acknowledged is durable. */
  protected void assertAcknowledgedAreDurable(EmbeddedReceiver h) throws Exception {
    // Acknowledged first: durable only grows, so a value acknowledged after its store is always
    // found.
    List<String> acked = context.acknowledgedValues();
    Set<String> durable = new HashSet<>(durableValues(h));
    List<String> missing = acked.stream().filter(v -> !durable.contains(v)).toList();
    assertThat(missing)
        .as("acknowledged to the source but not durable (lost on a crash)")
        .isEmpty();
  }

  /** No value was acknowledged twice. */
  protected void assertAcknowledgedOnce() throws Exception {
    assertThat(duplicates(context.acknowledgedValues()))
        .as("acknowledged more than once")
        .isEmpty();
  }

  /** No value is durable twice. */
  protected void assertDurableOnce(EmbeddedReceiver h) {
    assertThat(duplicates(durableValues(h))).as("stored more than once").isEmpty();
  }

  private static List<String> duplicates(List<String> values) {
    Map<String, Integer> counts = new LinkedHashMap<>();
    values.forEach(v -> counts.merge(v, 1, Integer::sum));
    return counts.entrySet().stream().filter(e -> e.getValue() > 1).map(Map.Entry::getKey).toList();
  }

  /** Stops the receiver on another thread and fails if that takes longer than {@code bound}. */
  protected void assertStopsWithin(EmbeddedReceiver h, Duration bound) {
    CompletableFuture<Void> stopped =
        CompletableFuture.runAsync(
            () -> {
              try {
                h.stopReceiver();
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            });
    await("stop to return").atMost(bound).until(stopped::isDone);
    assertThat(stopped).as("stopReceiver() outcome").isCompleted();
  }

  /**
   * Waits until no thread named {@code tributary-<receiverName>-...} is alive (the SDK's naming
   * rule).
   */
  protected void awaitNoReceiverThreads() {
    String prefix = "tributary-" + receiverName + "-";
    await("threads " + prefix + "* to end")
        .atMost(context.maxStopDuration())
        .until(
            () ->
                Thread.getAllStackTraces().keySet().stream()
                    .noneMatch(t -> t.isAlive() && t.getName().startsWith(prefix)));
  }
}
