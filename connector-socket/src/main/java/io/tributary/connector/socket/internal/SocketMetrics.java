package io.tributary.connector.socket.internal;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.tributary.connector.socket.SocketErrorReason;
import io.tributary.connector.socket.SocketProtocolException;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Meters and the one-line WARN of the socket connector, tagged with the pipeline id and the source
 * name, so two pipelines (or two sources of one) never share a counter or the connections gauge.
 *
 * <ul>
 *   <li>{@code tributary.socket.errors{pipeline, source, reason}}: rejected input and failed or
 *       refused connections, by {@link SocketErrorReason#tag()}.
 *   <li>{@code tributary.socket.records{pipeline, source}}: frames handed to the runtime.
 *   <li>{@code tributary.socket.duplicates{pipeline, source}}: reliable DATA frames dropped because
 *       already stored.
 *   <li>{@code tributary.socket.connections{pipeline, source}}: open connections (gauge).
 *   <li>{@code tributary.socket.buffered.bytes{pipeline, source}}: bytes of partial frames held by
 *       all connections, counted against {@code max-buffered-bytes} (gauge).
 *   <li>{@code tributary.socket.syslog.unparsed{pipeline, source}}: messages the syslog parser
 *       could not read (stored as they are, without syslog headers).
 * </ul>
 *
 * <p>WARN lines are rate-limited per reason (10 per 10 s; the next line written says how many were
 * left out): every case is still counted.
 *
 * <p>Thread safety: safe for concurrent use.
 */
public final class SocketMetrics {
  private static final Logger LOG = LoggerFactory.getLogger("io.tributary.connector.socket");
  static final int WARN_BURST = 10;
  static final long WARN_WINDOW_MILLIS = 10_000;

  private final String pipeline;
  private final String source;
  private final String logContext;
  private final Map<SocketErrorReason, Counter> errors = new EnumMap<>(SocketErrorReason.class);
  private final Map<SocketErrorReason, RateLimitedLog> warnLimits =
      new EnumMap<>(SocketErrorReason.class);
  private final Counter records;
  private final Counter duplicates;
  private final Counter syslogUnparsed;
  private final AtomicInteger connections = new AtomicInteger();
  private final MemoryBudget budget;

  /**
   * @param pipeline the pipeline id ({@code Receiver.pipelineId()}; empty in harnesses without one)
   * @param source the source name within the pipeline
   * @param maxBufferedBytes the budget of partial-frame bytes all connections may hold together
   */
  public SocketMetrics(
      MeterRegistry registry, String pipeline, String source, long maxBufferedBytes) {
    this.pipeline = pipeline;
    this.source = source;
    this.logContext = "pipeline=" + pipeline + " source=" + source;
    this.budget = new MemoryBudget(maxBufferedBytes);
    Tags tags = Tags.of("pipeline", pipeline, "source", source);
    for (SocketErrorReason r : SocketErrorReason.values()) {
      errors.put(
          r,
          Counter.builder("tributary.socket.errors")
              .description(
                  "Input rejected or connections failed by the socket connector, by reason")
              .tags(tags)
              .tag("reason", r.tag())
              .register(registry));
      warnLimits.put(
          r, new RateLimitedLog(WARN_BURST, WARN_WINDOW_MILLIS, System::currentTimeMillis));
    }
    records =
        Counter.builder("tributary.socket.records")
            .description("Frames handed to the runtime")
            .tags(tags)
            .register(registry);
    duplicates =
        Counter.builder("tributary.socket.duplicates")
            .description("Reliable DATA frames dropped because they were already stored")
            .tags(tags)
            .register(registry);
    syslogUnparsed =
        Counter.builder("tributary.socket.syslog.unparsed")
            .description(
                "Messages the syslog parser could not read (stored without syslog headers)")
            .tags(tags)
            .register(registry);
    Gauge.builder("tributary.socket.connections", connections, AtomicInteger::get)
        .description("Open connections")
        .tags(tags)
        .register(registry);
    Gauge.builder("tributary.socket.buffered.bytes", budget, MemoryBudget::used)
        .description("Bytes of partial frames held by all connections (max-buffered-bytes)")
        .tags(tags)
        .register(registry);
  }

  /** Counts the error and logs one WARN line without a stack trace (rate-limited). */
  public void reject(SocketProtocolException e, Object remote, String outcome) {
    errors.get(e.reason()).increment();
    long left = warnLimits.get(e.reason()).tryAcquire();
    if (left >= 0) {
      LOG.warn(
          "event=bad_input {} remote={} reason={} outcome={} detail=\"{}\"{}",
          logContext,
          remote,
          e.reason().tag(),
          outcome,
          e.getMessage(),
          suppressed(left));
    }
  }

  /** Counts an error that has no exception of its own and logs one WARN line (rate-limited). */
  public void reject(SocketErrorReason reason, Object remote, String outcome, String detail) {
    errors.get(reason).increment();
    long left = warnLimits.get(reason).tryAcquire();
    if (left >= 0) {
      LOG.warn(
          "event=connection_error {} remote={} reason={} outcome={} detail=\"{}\"{}",
          logContext,
          remote,
          reason.tag(),
          outcome,
          detail,
          suppressed(left));
    }
  }

  private static String suppressed(long left) {
    return left > 0 ? " suppressed_since_last=" + left : "";
  }

  /** Counts without a log line (the caller logs at its own level). */
  public void count(SocketErrorReason reason) {
    errors.get(reason).increment();
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

  public void syslogUnparsed() {
    syslogUnparsed.increment();
  }

  public AtomicInteger connections() {
    return connections;
  }

  public MemoryBudget budget() {
    return budget;
  }

  public String pipeline() {
    return pipeline;
  }

  public String source() {
    return source;
  }

  /** {@code pipeline=P source=S}, the context every log line of the connector carries. */
  public String logContext() {
    return logContext;
  }
}
