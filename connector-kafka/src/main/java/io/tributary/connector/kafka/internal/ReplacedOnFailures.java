package io.tributary.connector.kafka.internal;

import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A long-lived Kafka client that is closed and built anew once {@code limit} calls in a row failed
 * with a transient error, so no state of one client instance (a connection it still trusts, a node
 * it keeps choosing, a call queued behind one that never ends) can outlive a broker outage. The
 * clients reconnect by themselves in most outages; this is the backstop for the ones where an
 * instance keeps failing after the brokers are back (seen after a network partition: an admin
 * client whose every call timed out "waiting to send" while new clients to the same address
 * worked). A new instance costs a connection set-up and a metadata round trip.
 *
 * <p>Callers take the current instance with {@link #get()}, use it, and report {@link
 * #succeeded(Object)} or {@link #failed(Object, Throwable)} with that same instance; a report about
 * an instance that was already replaced changes nothing, so concurrent callers that all failed on
 * one instance replace it once.
 *
 * <p>Thread safety: all methods are thread-safe. {@link #failed} closes the replaced instance on
 * the calling thread (with the close action given, which should not wait: {@code close(ZERO)}).
 *
 * @param <T> the client type
 */
public final class ReplacedOnFailures<T> {
  private static final Logger LOG = LoggerFactory.getLogger(ReplacedOnFailures.class);

  private final String what;
  private final int limit;
  private final Supplier<T> factory;
  private final Consumer<T> closer;
  private T current;
  private int failures;
  private long replacements;
  private boolean closed;

  /**
   * Builds the first instance at once.
   *
   * @param what the client, for log lines ({@code pipeline=p source=s client=admin})
   * @param limit failed calls in a row after which the instance is replaced, at least 1
   * @param factory builds an instance; its exceptions pass through
   * @param closer closes an instance without waiting long
   */
  public ReplacedOnFailures(String what, int limit, Supplier<T> factory, Consumer<T> closer) {
    if (limit < 1) {
      throw new IllegalArgumentException("limit must be at least 1, got " + limit);
    }
    this.what = what;
    this.limit = limit;
    this.factory = factory;
    this.closer = closer;
    this.current = factory.get();
  }

  /** The current instance. */
  public synchronized T get() {
    if (closed) {
      throw new IllegalStateException(what + " is closed");
    }
    return current;
  }

  /** A call on {@code client} succeeded: the failure count starts again. */
  public synchronized void succeeded(T client) {
    if (client == current) {
      failures = 0;
    }
  }

  /**
   * A call on {@code client} failed with a transient error; the {@code limit}-th such failure in a
   * row replaces it (the old instance is closed, a new one built).
   *
   * @return whether this call replaced the instance
   */
  public boolean failed(T client, Throwable error) {
    T old;
    int count;
    synchronized (this) {
      if (closed || client != current || ++failures < limit) {
        return false;
      }
      count = failures;
      old = current;
      current = factory.get();
      failures = 0;
      replacements++;
    }
    LOG.warn(
        "event=kafka_client_replaced {} failures_in_a_row={} error=\"{}\" action=\"closed; a new"
            + " client connects anew\"",
        what,
        count,
        error.toString()); // a Throwable as last argument would be taken as a stack trace to print
    closer.accept(old);
    return true;
  }

  /** How many times the instance was replaced. */
  public synchronized long replacements() {
    return replacements;
  }

  /** Closes the current instance (with {@code closeAction}, which may wait); safe twice. */
  public void close(Consumer<T> closeAction) {
    T c;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      c = current;
    }
    closeAction.accept(c);
  }
}
