package io.tributary.connector.flume;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import io.tributary.connector.flume.agent.PullProtocol;
import io.tributary.connector.flume.agent.PulledBatch;
import io.tributary.connector.flume.agent.PulledEvent;
import io.tributary.connector.flume.internal.EventRecords;
import io.tributary.connector.flume.internal.FlumeMetrics;
import io.tributary.connector.flume.internal.NamedThreadFactory;
import io.tributary.core.api.Config;
import io.tributary.core.api.ConfigException;
import io.tributary.core.api.Receiver;
import io.tributary.core.api.ReceiverStoppedException;
import io.tributary.core.api.Record;
import io.tributary.core.api.SourcePosition;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.avro.ipc.CallFuture;
import org.apache.avro.ipc.netty.NettyTransceiver;
import org.apache.avro.ipc.reflect.ReflectRequestor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Flume pull mode: polls the {@code tributary-flume-sink} ({@link
 * io.tributary.connector.flume.agent.TributarySink}) inside one or more agents. The sink takes a
 * batch from its channel in a transaction and keeps the transaction open; this receiver stores the
 * batch with {@link #storeReliably} and only then acks it (the agent commits: the events leave its
 * channel). A failed store nacks (the agent rolls back). Kill either side at any moment: what the
 * agent committed is in the write-ahead log; what it did not is still in its channel.
 *
 * <h2>Exactly once across a gateway crash</h2>
 *
 * The poller, not the sink, names each batch: {@code <pipelineId>/<receiverName>/<slot>@<seq>},
 * where a slot is one poll thread on one sink ({@code host:port#t}, also the records' partition)
 * and {@code seq} grows by one per stored batch. A record's offset is {@code seq << 20 | index}, so
 * {@link #lastStoredOffset} gives the last stored batch after a restart. On start each slot first
 * acks that batch (the recovery ack): if the gateway died between the store and the ack, the sink's
 * transaction is still open and commits now. If it died after the poll and before the store
 * completed, the slot polls the same id again and the sink answers the same open batch. Duplicates
 * remain only when the sink rolled the batch back before the recovery ack (the gateway was down
 * longer than the sink's {@code transaction-timeout}, or the agent restarted): counted as {@link
 * FlumeErrorReason#RECOVERED_BATCH_ROLLED_BACK}. Two gateways polling one agent need distinct
 * pipeline ids or receiver names (their batch ids would collide).
 *
 * <p>Position: partition {@code host:port#t} (slot {@code t} of the sink), offset {@code seq << 20
 * | index in batch}.
 *
 * <h2>Threads</h2>
 *
 * {@code pull.threads-per-host} threads per sink, named {@code tributary-<source>-flume-poll-N},
 * each with its own connection and at most one open batch. They wait for the write-ahead log (the
 * runtime's backpressure holds the agent's transaction, not our memory).
 *
 * <p>Thread safety: {@code onStart}/{@code onStop} are called by the supervisor, never
 * concurrently.
 */
public final class FlumePullReceiver extends Receiver {
  private static final Logger LOG = LoggerFactory.getLogger(FlumePullReceiver.class);

  /** Bits of a record offset that hold its index in its batch ({@code pull.batch-size} fits). */
  static final int INDEX_BITS = 20;

  private final MeterRegistry registry;
  private final List<InetSocketAddress> sinks;
  private final int batchSize;
  private final int threadsPerHost;
  private final long emptyBackoffMs;
  private final long requestTimeoutMs;
  private final String timestampHeader;
  private volatile ExecutorService pollers;
  private volatile boolean stopping;
  private final Object wake = new Object();
  private volatile FlumeMetrics metrics;

  /** Uses {@link Metrics#globalRegistry}. */
  public FlumePullReceiver(Config config) {
    this(config, Metrics.globalRegistry);
  }

  /**
   * @param config parsed with {@link FlumeOptions#SPEC}; mode must be {@code pull}
   * @throws ConfigException listing every problem of options that do not fit pull mode
   */
  public FlumePullReceiver(Config config, MeterRegistry registry) {
    List<String> problems = new ArrayList<>();
    if (config.get(FlumeOptions.MODE) != FlumeOptions.Mode.PULL) {
      problems.add("Invalid value push for mode: this receiver needs pull (expected: pull)");
    }
    List<InetSocketAddress> addrs = new ArrayList<>();
    for (String hp : config.get(FlumeOptions.PULL_HOSTS)) {
      int colon = hp.lastIndexOf(':');
      int port = -1;
      if (colon > 0) {
        try {
          port = Integer.parseInt(hp.substring(colon + 1));
        } catch (NumberFormatException ignored) {
          // reported below
        }
      }
      if (port < 1 || port > 65535) {
        problems.add(
            "Invalid value " + hp + " for pull.hosts: not host:port (expected: agent-1:41415)");
      } else {
        addrs.add(InetSocketAddress.createUnresolved(hp.substring(0, colon), port));
      }
    }
    if (config.get(FlumeOptions.PULL_HOSTS).isEmpty()) {
      problems.add(
          "Missing required key pull.hosts (expected: host:port of each tributary-flume-sink)");
    }
    for (var o :
        List.of(
            FlumeOptions.TLS_ENABLED,
            FlumeOptions.COMPRESSION_TYPE,
            FlumeOptions.IP_FILTER_RULES,
            FlumeOptions.MAX_CONNECTIONS)) {
      if (config.isSet(o)) {
        problems.add(
            "Invalid value "
                + config.asMap().get(o.name())
                + " for "
                + o.name()
                + ": applies to mode push only (expected: unset with mode pull)");
      }
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    this.registry = registry;
    this.sinks = List.copyOf(addrs);
    this.batchSize = config.get(FlumeOptions.PULL_BATCH_SIZE);
    this.threadsPerHost = config.get(FlumeOptions.PULL_THREADS_PER_HOST);
    this.emptyBackoffMs = config.get(FlumeOptions.PULL_EMPTY_BACKOFF).toMillis();
    this.requestTimeoutMs = config.get(FlumeOptions.PULL_REQUEST_TIMEOUT).toMillis();
    this.timestampHeader = config.get(FlumeOptions.TIMESTAMP_HEADER);
  }

  @Override
  public void onStart() {
    String source = receiverName();
    if (metrics == null) {
      metrics = new FlumeMetrics(registry, source);
    }
    stopping = false;
    checkPeers();
    ExecutorService pool =
        Executors.newFixedThreadPool(
            sinks.size() * threadsPerHost,
            new NamedThreadFactory("tributary-" + source + "-flume-poll"));
    pollers = pool;
    List<String> names = new ArrayList<>();
    for (InetSocketAddress sink : sinks) {
      names.add(sink.getHostString() + ":" + sink.getPort());
      for (int i = 0; i < threadsPerHost; i++) {
        Slot slot = new Slot(sink, i);
        pool.execute(() -> pollLoop(slot));
      }
    }
    LOG.info(
        "event=polling source={} sinks={} threads_per_sink={} batch_size={}",
        source,
        names,
        threadsPerHost,
        batchSize);
  }

  /** What a {@code tributary-flume-sink}'s handshake names. */
  static final String PULL_PROTOCOL = "io.tributary.connector.flume.agent.PullProtocol";

  /**
   * Asks each of {@code pull.hosts} what answers there ({@link
   * io.tributary.connector.flume.internal.AvroPeerProbe}): a peer of the wrong kind (an HTTP or TLS
   * server, a Flume Avro source, another Avro protocol) fails the start naming it (the supervisor
   * retries with backoff and shows the error as the receiver's last error); an address not
   * reachable yet is polled as before.
   */
  private void checkPeers() {
    for (InetSocketAddress a : sinks) {
      io.tributary.connector.flume.internal.AvroPeerProbe.Answer ans =
          io.tributary.connector.flume.internal.AvroPeerProbe.probe(
              a.getHostString(), a.getPort(), java.time.Duration.ofSeconds(5));
      switch (ans.kind()) {
        case AVRO -> {
          if (ans.detail().equals(PULL_PROTOCOL)) {
            continue;
          }
        }
        case UNREACHABLE, UNKNOWN_HOST, NO_ANSWER -> {
          continue;
        }
        default -> {}
      }
      String hint =
          ans.kind() == io.tributary.connector.flume.internal.AvroPeerProbe.Kind.AVRO
                  && ans.detail().startsWith("org.apache.flume.source.avro")
              ? "; that is a Flume Avro source, which mode push serves (an agent's Avro sink sends"
                  + " to this source's host and port)"
              : "";
      throw new io.tributary.core.api.TributaryException(
          "Flume pull source "
              + receiverName()
              + ": "
              + a.getHostString()
              + ":"
              + a.getPort()
              + " is not a tributary-flume-sink: "
              + ans.describe()
              + " (expected: host:port of the TributarySink inside a Flume agent ("
              + PULL_PROTOCOL
              + ") in pull.hosts"
              + hint
              + ")");
    }
  }

  @Override
  public void onStop() throws InterruptedException {
    stopping = true;
    synchronized (wake) {
      wake.notifyAll();
    }
    ExecutorService pool = pollers;
    pollers = null;
    if (pool != null) {
      pool.shutdownNow();
      if (!pool.awaitTermination(10, TimeUnit.SECONDS)) {
        LOG.warn("event=stop_slow detail=\"poll threads did not end within 10s\"");
      }
    }
    LOG.info("event=stopped source={}", receiverName());
  }

  /**
   * How many batches stored before a restart were committed by the recovery ack (duplicates
   * avoided; cumulative).
   */
  public double recoveredCount() {
    FlumeMetrics m = metrics;
    return m == null ? 0 : m.recoveredCount();
  }

  /** How many errors of {@code reason} were counted (cumulative). */
  public double errorCount(FlumeErrorReason reason) {
    FlumeMetrics m = metrics;
    return m == null ? 0 : m.errorCount(reason);
  }

  /**
   * One poll thread's slot on one sink: its own partition {@code host:port#t}, its batch sequence
   * and its batch ids. A record's offset is {@code sequence << 20 | index in batch}, so the last
   * stored offset tells the last stored batch.
   */
  private final class Slot {
    final InetSocketAddress address;
    final String sinkName;
    final String partition;
    final String idPrefix;

    /** Sequence of the next batch to poll (its id is chosen before the poll). */
    long nextSeq;

    /** Id of a stored batch whose ack is not confirmed yet, or {@code null}. */
    String pendingAck;

    /** Whether {@link #pendingAck} is the recovery ack of a batch stored before a restart. */
    boolean recovering;

    Slot(InetSocketAddress address, int thread) {
      this.address = address;
      this.sinkName = address.getHostString() + ":" + address.getPort();
      this.partition = sinkName + "#" + thread;
      this.idPrefix = pipelineId() + "/" + receiverName() + "/" + partition + "@";
      OptionalLong last = lastStoredOffset(partition);
      if (last.isPresent()) {
        long seq = last.getAsLong() >>> INDEX_BITS;
        nextSeq = seq + 1;
        pendingAck = idPrefix + seq; // committed now if the crash came between store and ack
        recovering = true;
      }
    }

    String batchId() {
      return idPrefix + nextSeq;
    }

    List<Record> records(PulledBatch batch) {
      long now = System.currentTimeMillis();
      long base = nextSeq << INDEX_BITS;
      List<Record> records = new ArrayList<>(batch.events.size());
      int i = 0;
      for (PulledEvent e : batch.events) {
        records.add(
            EventRecords.toRecord(
                e.headers,
                e.body,
                timestampHeader,
                now,
                new SourcePosition(metrics.source(), partition, base | i++)));
      }
      return records;
    }
  }

  private void pollLoop(Slot slot) {
    NettyTransceiver transceiver = null;
    ReflectRequestor requestor = null;
    boolean reported = false;
    while (!stopping && !Thread.currentThread().isInterrupted()) {
      try {
        if (requestor == null) {
          InetSocketAddress resolved =
              new InetSocketAddress(slot.address.getHostString(), slot.address.getPort());
          transceiver = new NettyTransceiver(resolved, (int) Math.min(requestTimeoutMs, 10_000));
          requestor = new ReflectRequestor(PullProtocol.class, transceiver);
        }
        if (slot.pendingAck != null) {
          ack(requestor, slot);
        }
        PulledBatch batch = call(requestor, "poll", batchSize, slot.batchId());
        reported = false;
        if (!batch.error.isEmpty()) {
          if (batch.error.startsWith("busy")) {
            LOG.debug("event=sink_busy source={} sink={}", metrics.source(), slot.sinkName);
          } else {
            metrics.reject(
                FlumeErrorReason.SINK_UNAVAILABLE, slot.sinkName, "backing off", batch.error);
          }
          backoff();
          continue;
        }
        if (batch.events.isEmpty()) {
          backoff();
          continue;
        }
        if (batch.events.size() > batchSize || !slot.batchId().equals(batch.id)) {
          nackQuietly(requestor, batch.id);
          throw new IllegalStateException(
              "the sink answered batch "
                  + batch.id
                  + " of "
                  + batch.events.size()
                  + " events to a poll of "
                  + slot.batchId()
                  + " for at most "
                  + batchSize
                  + " (is the tributary-flume-sink jar the same version as Tributary?)");
        }
        try {
          storeReliablyAsync(slot.records(batch)).get();
        } catch (ExecutionException | CompletionException | ReceiverStoppedException e) {
          Throwable cause = e.getCause() == null ? e : e.getCause();
          if (stopping
              || isStopped()
              || cause instanceof ReceiverStoppedException
              || e instanceof ReceiverStoppedException) {
            // No nack: the batch may be in the log. The next start acks it if it is (recovery
            // ack), or polls the same id again and gets the same open batch if it is not.
            return;
          }
          nackQuietly(requestor, batch.id);
          metrics.reject(
              FlumeErrorReason.STORE_FAILED,
              slot.sinkName,
              "nacked; the agent rolls back and serves the events again",
              batch.events.size() + " events not stored: " + cause);
          restart("the write-ahead log could not store a pulled batch", cause);
          return;
        }
        metrics.events(batch.events.size());
        slot.pendingAck = batch.id;
        slot.recovering = false;
        slot.nextSeq++;
        ack(requestor, slot);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      } catch (Exception e) {
        if (stopping) {
          break;
        }
        if (!reported) {
          metrics.reject(
              FlumeErrorReason.SINK_UNAVAILABLE,
              slot.sinkName,
              "reconnecting; an open batch is rolled back by the agent unless acked after the"
                  + " reconnection",
              String.valueOf(e));
          reported = true;
        }
        if (transceiver != null) {
          transceiver.close(false);
        }
        transceiver = null;
        requestor = null;
        try {
          backoff();
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          break;
        }
      }
    }
    if (transceiver != null) {
      transceiver.close(false);
    }
  }

  /**
   * Acks {@code slot.pendingAck}; a failed call leaves it pending, to be acked again after the
   * reconnection (the sink's transaction may still be open).
   */
  private void ack(ReflectRequestor requestor, Slot slot) throws Exception {
    String id = slot.pendingAck;
    String answer = call(requestor, "ack", id);
    answer = answer == null ? PullProtocol.ACK_UNKNOWN : answer;
    slot.pendingAck = null;
    boolean recovery = slot.recovering;
    slot.recovering = false;
    switch (answer) {
      case PullProtocol.ACK_COMMITTED -> {
        if (recovery) {
          metrics.recoveredCommitted();
          LOG.info(
              "event=recovered_batch_committed source={} batch={} detail=\"stored before a"
                  + " restart, acked now: no duplicate\"",
              metrics.source(),
              id);
        }
      }
      case PullProtocol.ACK_ALREADY_COMMITTED -> {
        // acked before the restart: nothing to do
      }
      default ->
          metrics.reject(
              recovery
                  ? FlumeErrorReason.RECOVERED_BATCH_ROLLED_BACK
                  : FlumeErrorReason.ACK_REJECTED,
              slot.sinkName,
              "the agent will serve these events again (duplicates)",
              "batch "
                  + id
                  + (recovery
                      ? " stored before a restart was rolled back by the agent before this"
                          + " recovery ack (the gateway was down longer than the sink's"
                          + " transaction-timeout, or the agent restarted)"
                      : " was rolled back before the ack (raise the sink's transaction-timeout)"));
    }
  }

  @SuppressWarnings("unchecked")
  private <T> T call(ReflectRequestor requestor, String message, Object... args) throws Exception {
    CallFuture<T> f = new CallFuture<>();
    requestor.request(message, args, f);
    try {
      T result = f.get(requestTimeoutMs, TimeUnit.MILLISECONDS);
      if (result == null && f.getError() != null) {
        throw new ExecutionException(f.getError());
      }
      return result;
    } catch (TimeoutException e) {
      throw new TimeoutException(message + " got no answer within pull.request-timeout");
    }
  }

  private void nackQuietly(ReflectRequestor requestor, String id) {
    try {
      call(requestor, "nack", id);
    } catch (Exception e) {
      // the sink rolls back on its own after its transaction-timeout
    }
  }

  private void backoff() throws InterruptedException {
    synchronized (wake) {
      if (!stopping) {
        wake.wait(emptyBackoffMs);
      }
    }
  }
}
