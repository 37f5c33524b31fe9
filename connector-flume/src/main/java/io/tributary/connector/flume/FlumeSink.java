package io.tributary.connector.flume;

import io.tributary.connector.flume.internal.AvroPeerProbe;
import io.tributary.core.api.AtLeastOnceSink;
import io.tributary.core.api.BatchWriter;
import io.tributary.core.api.Config;
import io.tributary.core.api.ConfigException;
import io.tributary.core.api.Record;
import io.tributary.core.api.RetriableException;
import io.tributary.core.api.SinkBatch;
import io.tributary.core.api.SinkContext;
import io.tributary.core.api.TributaryException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import org.apache.flume.Event;
import org.apache.flume.EventDeliveryException;
import org.apache.flume.FlumeException;
import org.apache.flume.api.RpcClient;
import org.apache.flume.api.RpcClientFactory;
import org.apache.flume.event.EventBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code flume} sink: forwards records into Flume agents' Avro sources through {@code
 * flume-ng-sdk}'s {@link RpcClient} (one host, load-balancing or failover), {@code batch-size}
 * events per {@code appendBatch}. The record's value is the body, its headers the event headers
 * (UTF-8), plus its timestamp and key in {@code timestamp-header} / {@code key-header}.
 *
 * <p>Guarantee: at-least-once. A chunk is sent as it arrives and the batch commits when every
 * {@code appendBatch} was answered OK (the agent put it in its channel). A failed call makes the
 * batch fail with a {@link RetriableException}: the runtime writes the whole batch again, so the
 * agent may receive the events already accepted in the failed attempt a second time (Flume has no
 * transactions across calls).
 *
 * <p>Thread safety: called by the pipeline's batch thread only.
 */
public final class FlumeSink implements AtLeastOnceSink {
  private static final Logger LOG = LoggerFactory.getLogger(FlumeSink.class);

  private final Properties clientProps;
  private final String addresses;
  private final List<String> hostList;
  private final boolean probe;

  /** Flume's Avro source protocol, as its handshake names it. */
  static final String AVRO_SOURCE_PROTOCOL = "org.apache.flume.source.avro.AvroSourceProtocol";

  private final int batchSize;
  private final String timestampHeader;
  private final String keyHeader;
  private RpcClient client;
  private String name = "flume";
  private boolean closed;

  /**
   * @throws ConfigException listing every problem of the options
   */
  public FlumeSink(Config config) {
    List<String> problems = new ArrayList<>();
    Properties p = new Properties();
    List<String> names = new ArrayList<>();
    int i = 0;
    for (String hp : config.get(FlumeSinkOptions.HOSTS)) {
      int colon = hp.lastIndexOf(':');
      boolean ok = colon > 0;
      if (ok) {
        try {
          int port = Integer.parseInt(hp.substring(colon + 1));
          ok = port > 0 && port < 65536;
        } catch (NumberFormatException e) {
          ok = false;
        }
      }
      if (!ok) {
        problems.add("Invalid value " + hp + " for hosts: not host:port (expected: agent-1:41414)");
        continue;
      }
      String n = "h" + i++;
      names.add(n);
      p.setProperty("hosts." + n, hp);
    }
    FlumeSinkOptions.ClientType type = config.get(FlumeSinkOptions.CLIENT_TYPE);
    if (type == FlumeSinkOptions.ClientType.DEFAULT && names.size() > 1) {
      problems.add(
          "Invalid value "
              + config.get(FlumeSinkOptions.HOSTS)
              + " for hosts: client-type default sends to one host (expected: one host, or"
              + " client-type default-loadbalance / default-failover)");
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    p.setProperty("hosts", String.join(" ", names));
    p.setProperty("client.type", type.name().toLowerCase(Locale.ROOT));
    p.setProperty("batch-size", String.valueOf(config.get(FlumeSinkOptions.BATCH_SIZE)));
    p.setProperty(
        "connect-timeout", String.valueOf(config.get(FlumeSinkOptions.CONNECT_TIMEOUT).toMillis()));
    p.setProperty(
        "request-timeout", String.valueOf(config.get(FlumeSinkOptions.REQUEST_TIMEOUT).toMillis()));
    if (config.get(FlumeSinkOptions.COMPRESSION_TYPE) == FlumeOptions.Compression.DEFLATE) {
      p.setProperty("compression-type", "deflate");
    }
    if (config.get(FlumeSinkOptions.SSL)) {
      p.setProperty("ssl", "true");
      p.setProperty(
          "trust-all-certs", String.valueOf(config.get(FlumeSinkOptions.TRUST_ALL_CERTS)));
      if (config.get(FlumeSinkOptions.TRUSTSTORE) != null) {
        p.setProperty("truststore", config.get(FlumeSinkOptions.TRUSTSTORE));
        p.setProperty("truststore-type", config.get(FlumeSinkOptions.TRUSTSTORE_TYPE));
      }
      if (config.get(FlumeSinkOptions.TRUSTSTORE_PASSWORD) != null) {
        p.setProperty("truststore-password", config.get(FlumeSinkOptions.TRUSTSTORE_PASSWORD));
      }
    }
    for (Map.Entry<String, String> e : config.get(FlumeSinkOptions.CLIENT).entrySet()) {
      p.setProperty(e.getKey(), e.getValue());
    }
    this.clientProps = p;
    this.hostList = List.copyOf(config.get(FlumeSinkOptions.HOSTS));
    // The probe speaks plain Avro RPC: a TLS or deflate source would take it for garbage.
    this.probe =
        !config.get(FlumeSinkOptions.SSL)
            && config.get(FlumeSinkOptions.COMPRESSION_TYPE) != FlumeOptions.Compression.DEFLATE;
    this.addresses = String.join(",", config.get(FlumeSinkOptions.HOSTS));
    this.batchSize = config.get(FlumeSinkOptions.BATCH_SIZE);
    this.timestampHeader = config.get(FlumeSinkOptions.TIMESTAMP_HEADER);
    this.keyHeader = config.get(FlumeSinkOptions.KEY_HEADER);
  }

  @Override
  public void open(SinkContext context) {
    name = context.pipelineId() + "/" + context.sinkName();
    if (probe) {
      checkPeers();
    }
    LOG.info(
        "event=flume_sink_opened sink={} hosts={} client_type={}",
        name,
        addresses,
        clientProps.getProperty("client.type"));
  }

  @Override
  public void write(long batchId, List<Record> records) throws Exception {
    io.tributary.core.api.Sink.writeAll(this, batchId, records);
  }

  @Override
  public BatchWriter begin(SinkBatch batch) {
    if (closed) {
      throw new IllegalStateException("Flume sink " + name + " is closed");
    }
    return new BatchWriter() {
      @Override
      public void write(List<Record> chunk) throws Exception {
        for (int from = 0; from < chunk.size(); from += batchSize) {
          List<Record> part = chunk.subList(from, Math.min(chunk.size(), from + batchSize));
          List<Event> events = new ArrayList<>(part.size());
          for (Record r : part) {
            events.add(toEvent(r));
          }
          send(batch.batchId(), events);
        }
      }

      @Override
      public void commit() {
        // every appendBatch was answered OK: the events are in the agents' channels
      }

      @Override
      public void close() {}
    };
  }

  private void send(long batchId, List<Event> events) throws RetriableException {
    try {
      if (client == null) {
        client = RpcClientFactory.getInstance(clientProps);
      }
      client.appendBatch(events);
    } catch (EventDeliveryException | FlumeException e) {
      closeClient();
      throw new RetriableException(
          "Flume sink "
              + name
              + ": appendBatch of "
              + events.size()
              + " events for batch "
              + batchId
              + " to "
              + addresses
              + " failed: "
              + e.getMessage()
              + " (the batch is sent again; is the agent's Avro source up?)",
          e);
    }
  }

  /**
   * Asks each of {@code hosts} what answers there ({@link AvroPeerProbe}): a peer of the wrong kind
   * (an HTTP or TLS server, another Avro protocol, a server that closes) fails the open naming it;
   * an unreachable one is logged (agents restart; its sends fail retriably, naming it).
   */
  private void checkPeers() {
    List<String> unreachable = new ArrayList<>();
    for (String hp : hostList) {
      int colon = hp.lastIndexOf(':');
      String host = hp.substring(0, colon);
      int port = Integer.parseInt(hp.substring(colon + 1));
      AvroPeerProbe.Answer a = AvroPeerProbe.probe(host, port, PROBE_TIMEOUT);
      switch (a.kind()) {
        case AVRO -> {
          if (!a.detail().equals(AVRO_SOURCE_PROTOCOL)) {
            throw wrongPeer(hp, a);
          }
        }
        case UNREACHABLE, UNKNOWN_HOST, NO_ANSWER -> unreachable.add(hp + ": " + a.describe());
        default -> throw wrongPeer(hp, a);
      }
    }
    if (!unreachable.isEmpty()) {
      // Agents restart: not a reason to refuse the start. Sends to them fail (retriably) naming
      // them.
      LOG.warn(
          "event=flume_hosts_unreachable sink={} hosts=\"{}\" detail=\"{}\"",
          name,
          String.join("; ", unreachable),
          unreachable.size() == hostList.size()
              ? "no agent reachable yet: sends fail and are retried until one is (expected:"
                  + " host:port of a Flume agent's Avro source in hosts; is the agent up?)"
              : "sending to the others");
    }
  }

  private TributaryException wrongPeer(String hp, AvroPeerProbe.Answer a) {
    String hint =
        a.kind() == AvroPeerProbe.Kind.TLS
            ? "; if the agent's Avro source has ssl = true, set ssl: true"
            : a.kind() == AvroPeerProbe.Kind.AVRO
                ? "; a tributary-flume-sink (PullProtocol) is read by the flume source in mode pull,"
                    + " not written to"
                : "";
    return new TributaryException(
        "Flume sink "
            + name
            + ": "
            + hp
            + " is not a Flume Avro source: "
            + a.describe()
            + " (expected: host:port of a Flume agent's Avro source ("
            + AVRO_SOURCE_PROTOCOL
            + ") in hosts"
            + hint
            + ")");
  }

  static final java.time.Duration PROBE_TIMEOUT = java.time.Duration.ofSeconds(5);

  private Event toEvent(Record r) {
    Map<String, String> headers = new HashMap<>();
    for (Map.Entry<String, byte[]> h : r.headers().entrySet()) {
      headers.put(h.getKey(), new String(h.getValue(), StandardCharsets.UTF_8));
    }
    if (!timestampHeader.isEmpty()) {
      headers.putIfAbsent(timestampHeader, Long.toString(r.timestamp()));
    }
    if (!keyHeader.isEmpty() && r.key() != null) {
      headers.putIfAbsent(keyHeader, new String(r.key(), StandardCharsets.UTF_8));
    }
    return EventBuilder.withBody(r.value(), headers);
  }

  private void closeClient() {
    RpcClient c = client;
    client = null;
    if (c != null) {
      try {
        c.close();
      } catch (FlumeException e) {
        LOG.debug("event=flume_client_close_failed sink={} detail=\"{}\"", name, e.toString());
      }
    }
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    closeClient();
    LOG.info("event=flume_sink_closed sink={}", name);
  }
}
