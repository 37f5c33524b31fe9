package io.tributary.connector.socket.internal;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.tributary.connector.socket.SocketErrorReason;
import io.tributary.connector.socket.SocketProtocolException;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Meters and the one-line WARN of the socket connector, tagged with the source name.
 *
 * <ul>
 *   <li>{@code tributary.socket.errors{source, reason}}: rejected input and failed connections, by
 *       {@link SocketErrorReason#tag()}.
 *   <li>{@code tributary.socket.records{source}}: frames handed to the runtime.
 *   <li>{@code tributary.socket.duplicates{source}}: reliable DATA frames dropped because already
 *       stored.
 *   <li>{@code tributary.socket.connections{source}}: open connections (gauge).
 * </ul>
 *
 * <p>Thread safety: safe for concurrent use.
 */
public final class SocketMetrics {
  private static final Logger LOG = LoggerFactory.getLogger("io.tributary.connector.socket");

  private final String source;
  private final Map<SocketErrorReason, Counter> errors = new EnumMap<>(SocketErrorReason.class);
  private final Counter records;
  private final Counter duplicates;
  private final AtomicInteger connections = new AtomicInteger();

  public SocketMetrics(MeterRegistry registry, String source) {
    this.source = source;
    for (SocketErrorReason r : SocketErrorReason.values()) {
      errors.put(
          r,
          Counter.builder("tributary.socket.errors")
              .description(
                  "Input rejected or connections failed by the socket connector, by reason")
              .tag("source", source)
              .tag("reason", r.tag())
              .register(registry));
    }
    records =
        Counter.builder("tributary.socket.records")
            .description("Frames handed to the runtime")
            .tag("source", source)
            .register(registry);
    duplicates =
        Counter.builder("tributary.socket.duplicates")
            .description("Reliable DATA frames dropped because they were already stored")
            .tag("source", source)
            .register(registry);
    Gauge.builder("tributary.socket.connections", connections, AtomicInteger::get)
        .description("Open connections")
        .tag("source", source)
        .register(registry);
  }

  /** Counts the error and logs one WARN line without a stack trace. */
  public void reject(SocketProtocolException e, Object remote, String outcome) {
    errors.get(e.reason()).increment();
    LOG.warn(
        "event=bad_input source={} remote={} reason={} outcome={} detail=\"{}\"",
        source,
        remote,
        e.reason().tag(),
        outcome,
        e.getMessage());
  }

  /** Counts an error that has no exception of its own and logs one WARN line. */
  public void reject(SocketErrorReason reason, Object remote, String outcome, String detail) {
    errors.get(reason).increment();
    LOG.warn(
        "event=connection_error source={} remote={} reason={} outcome={} detail=\"{}\"",
        source,
        remote,
        reason.tag(),
        outcome,
        detail);
  }

  public double errorCount(SocketErrorReason reason) {
    return errors.get(reason).count();
  }

  public void records(int n) {
    records.increment(n);
  }

  public void duplicate() {
    duplicates.increment();
  }

  public AtomicInteger connections() {
    return connections;
  }

  public String source() {
    return source;
  }
}
