package io.tributary.sdk.testkit;

import io.tributary.core.api.Receiver;
import io.tributary.core.api.Record;
import java.time.Duration;
import java.util.List;

/**
 * What a receiver author supplies to {@link ReceiverContractTest}: how to create the receiver, how
 * to put test data into its real source and how to read back what the source considers
 * acknowledged. One context per test case; it owns the source (a temporary directory, an embedded
 * server, an in-memory broker) and releases it in {@link #close()}.
 *
 * <pre>{@code
 * final class MyContext implements ReceiverTestContext {
 *   public Receiver createReceiver() { return new MyReceiver(brokerUrl); }
 *   public void writeRecords(List<String> values) { values.forEach(v -> broker.publish("q", v)); }
 *   public List<String> acknowledgedValues() { return broker.ackedBodies("q"); }
 * }
 * }</pre>
 *
 * <p>Thread safety: the kit calls {@link #writeRecords} and {@link #acknowledgedValues} from the
 * test thread while the receiver runs on its own threads; both must be safe against the receiver
 * acknowledging concurrently.
 */
public interface ReceiverTestContext extends AutoCloseable {
  /**
   * A new receiver instance over the same source (the kit calls this again to model a restarted
   * process).
   */
  Receiver createReceiver() throws Exception;

  /**
   * Writes {@code values} into the real source, in order, so that the receiver will receive each as
   * one record whose {@link #valueOf(Record)} is the value. Values are unique within a test. Called
   * before and while the receiver runs.
   */
  void writeRecords(List<String> values) throws Exception;

  /**
   * The values the source considers acknowledged (committed, deleted, moved), each as many times as
   * the source was told; the order does not matter. For sources that keep a committed offset, list
   * the values below it.
   */
  List<String> acknowledgedValues() throws Exception;

  /** The test value a stored record carries; the record's value as UTF-8 by default. */
  default String valueOf(Record record) {
    return record.valueAsString();
  }

  /**
   * Whether the source sends again what was not acknowledged when a new receiver connects (a queue
   * with redelivery, files that stay until moved). If not, the kit only checks that nothing
   * acknowledged is lost.
   */
  default boolean sourceResendsUnacknowledged() {
    return true;
  }

  /**
   * Whether the receiver skips records it already stored (with {@code lastStoredOffset}) when the
   * source resends them, so that a crash between store and acknowledgement stores nothing twice. If
   * not, the kit accepts such duplicates (at-least-once) but still requires that nothing
   * acknowledged is stored twice.
   */
  default boolean skipsRecordsAlreadyStored() {
    return false;
  }

  /** How long a stop may take (a stop during a blocked fetch or a blocked store included). */
  default Duration maxStopDuration() {
    return Duration.ofSeconds(5);
  }

  /** How long the kit waits for the receiver to make progress before failing a case. */
  default Duration timeout() {
    return Duration.ofSeconds(30);
  }

  /** Releases the source. */
  @Override
  default void close() throws Exception {}
}
