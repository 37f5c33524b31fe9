package io.tributary.sdk.testkit;

import io.tributary.core.api.Receiver;
import io.tributary.core.api.Record;
import java.time.Duration;
import java.util.List;

/**
 * What a receiver author supplies to inherit every case of {@link ReceiverContractTest}: how to create the receiver,
 * how to put data into its real source, and what the source considers acknowledged.
 *
 * <p>Records are compared by an identity string ({@link #identify(Record)}, the UTF-8 value by default), so make every
 * written record unique (for example a counter in the payload).
 *
 * <p>Thread safety: the kit calls {@code writeRecords} and {@code acknowledged} from the test thread while the
 * receiver's threads run; {@code acknowledged} must be safe to call concurrently with the receiver acknowledging.
 */
public interface ReceiverTestContext extends AutoCloseable {
  /**
   * A new receiver instance over the same source (the same directory, queue or port). Called at the start of every
   * case and again after a simulated crash. Configure short waits: a poll timeout of a few seconds or more is fine
   * (the kit checks that a stop wakes a blocked poll), but a scan interval should be short (tens of milliseconds).
   */
  Receiver createReceiver() throws Exception;

  /**
   * Writes {@code count} new, unique records into the real source, in a way the receiver will pick up, and returns
   * their identities in order. Each call writes records never written before.
   */
  List<String> writeRecords(int count) throws Exception;

  /**
   * The identities of every record the source considers acknowledged (committed, deleted, moved), across every
   * receiver instance created so far.
   */
  List<String> acknowledged() throws Exception;

  /** The identity of a stored record, matched against {@link #writeRecords(int)}. Default: its UTF-8 value. */
  default String identify(Record record) {
    return record.valueAsString();
  }

  /**
   * Whether the receiver avoids storing a record twice after a crash between the reliable store and the source's
   * acknowledgement (for example by skipping offsets at or below {@code lastStoredOffset}). When {@code true} the kit
   * also asserts that nothing is duplicated; when {@code false} it only asserts that nothing is lost.
   */
  default boolean deduplicatesAfterCrash() {
    return false;
  }

  /** How long a stop during a blocked fetch may take. */
  default Duration maxStopTime() {
    return Duration.ofSeconds(2);
  }

  /** Releases what the context created (servers, clients). Temporary directories are cleaned by JUnit. */
  @Override
  default void close() throws Exception {}
}
