package io.tributary.connector.flume.internal;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.tributary.connector.flume.FlumeErrorReason;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Meters and the one-line WARN of the Flume connector, tagged with the source name.
 *
 * <ul>
 *   <li>{@code tributary.flume.errors{source, reason}}: rejected input and failed connections.
 *   <li>{@code tributary.flume.events{source}}: events stored reliably.
 *   <li>{@code tributary.flume.connections{source}}: open push connections (gauge).
 *   <li>{@code tributary.flume.pull.recovered{source}}: pull batches stored before a restart whose
 *       transaction was still open and was committed by the recovery ack (duplicates avoided).
 * </ul>
 *
 * <p>Thread safety: safe for concurrent use.
 */
public final class FlumeMetrics {
  private static final Logger LOG = LoggerFactory.getLogger("io.tributary.connector.flume");

  private final String source;
  private final Map<FlumeErrorReason, Counter> errors = new EnumMap<>(FlumeErrorReason.class);
  private final Counter events;
  private final AtomicInteger connections = new AtomicInteger();
  private final Counter recovered;

  public FlumeMetrics(MeterRegistry registry, String source) {
    this.source = source;
    for (FlumeErrorReason r : FlumeErrorReason.values()) {
      errors.put(
          r,
          Counter.builder("tributary.flume.errors")
              .description("Input rejected or connections failed by the Flume connector, by reason")
              .tag("source", source)
              .tag("reason", r.tag())
              .register(registry));
    }
    events =
        Counter.builder("tributary.flume.events")
            .description("Flume events stored reliably")
            .tag("source", source)
            .register(registry);
    recovered =
        Counter.builder("tributary.flume.pull.recovered")
            .description("Pull batches stored before a restart and committed by the recovery ack")
            .tag("source", source)
            .register(registry);
    Gauge.builder("tributary.flume.connections", connections, AtomicInteger::get)
        .description("Open push connections")
        .tag("source", source)
        .register(registry);
  }

  /** Counts the error and logs one WARN line without a stack trace. */
  public void reject(FlumeErrorReason reason, Object remote, String outcome, String detail) {
    errors.get(reason).increment();
    LOG.warn(
        "event=bad_input source={} remote={} reason={} outcome={} detail=\"{}\"",
        source,
        remote,
        reason.tag(),
        outcome,
        detail);
  }

  public double errorCount(FlumeErrorReason reason) {
    return errors.get(reason).count();
  }

  public void events(int n) {
    events.increment(n);
  }

  public void recoveredCommitted() {
    recovered.increment();
  }

  public double recoveredCount() {
    return recovered.count();
  }

  public double eventCount() {
    return events.count();
  }

  public AtomicInteger connections() {
    return connections;
  }

  public String source() {
    return source;
  }
}
