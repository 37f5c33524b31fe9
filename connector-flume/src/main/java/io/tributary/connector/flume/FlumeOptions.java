package io.tributary.connector.flume;

import io.tributary.core.api.ConfigDocs;
import io.tributary.core.api.ConfigOption;
import io.tributary.core.api.ConfigSpec;
import java.time.Duration;
import java.util.List;

/**
 * Every configuration key of the {@code flume} source, declared once. The README's configuration
 * table is generated from {@link #SPEC} by {@link #markdownTable()}; a unit test fails when the
 * checked-in table is stale.
 *
 * <p>Thread safety: immutable constants.
 */
public final class FlumeOptions {
  /** Whether Flume pushes to Tributary or Tributary pulls from Flume. */
  public enum Mode {
    /**
     * Serve Flume's Avro protocol: agents' {@code avro} sinks and {@code RpcClient}s push to us.
     */
    PUSH,
    /**
     * Poll {@code tributary-flume-sink}s inside agents; their transactions stay open until we ack.
     */
    PULL
  }

  /** Compression of the Avro connection, as Flume's {@code compression-type}. */
  public enum Compression {
    NONE,
    DEFLATE
  }

  public static final ConfigOption<Mode> MODE =
      ConfigOption.enumValue("mode", Mode.class)
          .required()
          .description(
              "push: an Avro RPC server Flume agents send to; pull: poll tributary-flume-sinks inside"
                  + " agents.");

  public static final ConfigOption<String> HOST =
      ConfigOption.string("host")
          .defaultValue("127.0.0.1")
          .validate(ConfigOption.nonBlank())
          .description("Push: address to bind (loopback by default; 0.0.0.0 for all interfaces).");

  public static final ConfigOption<Integer> PORT =
      ConfigOption.integer("port")
          .defaultValue(41414)
          .validate(ConfigOption.between(0, 65535))
          .description("Push: port to listen on (0 picks a free port).");

  public static final ConfigOption<Compression> COMPRESSION_TYPE =
      ConfigOption.enumValue("compression-type", Compression.class)
          .defaultValue(Compression.NONE)
          .description(
              "Push: deflate to match an avro sink / RpcClient with compression-type = deflate (both"
                  + " sides must agree).");

  public static final ConfigOption<Boolean> TLS_ENABLED =
      ConfigOption.bool("tls.enabled")
          .defaultValue(false)
          .description("Push: TLS (the sender sets ssl = true).");

  public static final ConfigOption<String> TLS_KEYSTORE =
      ConfigOption.string("tls.keystore")
          .validate(ConfigOption.nonBlank())
          .description("Push with TLS: key store file holding the server's key and certificate.");

  public static final ConfigOption<String> TLS_KEYSTORE_PASSWORD =
      ConfigOption.string("tls.keystore-password")
          .sensitive()
          .description("Push with TLS: password of the key store and of its key.");

  public static final ConfigOption<String> TLS_KEYSTORE_TYPE =
      ConfigOption.string("tls.keystore-type")
          .defaultValue("PKCS12")
          .validate(ConfigOption.nonBlank())
          .description("Push with TLS: key store type (PKCS12 or JKS).");

  public static final ConfigOption<List<String>> TLS_PROTOCOLS =
      ConfigOption.stringList("tls.protocols")
          .defaultValue(List.of("TLSv1.3", "TLSv1.2"))
          .description("Push with TLS: protocols accepted.");

  public static final ConfigOption<String> IP_FILTER_RULES =
      ConfigOption.string("ip-filter-rules")
          .defaultValue("")
          .description(
              "Push: Flume's ipFilterRules syntax, comma-separated `allow|deny:ip|name:pattern` (`*`"
                  + " matches anything); the first matching rule decides, no match allows. Empty:"
                  + " no filter.");

  public static final ConfigOption<Integer> MAX_THREADS =
      ConfigOption.integer("max-threads")
          .defaultValue(16)
          .validate(ConfigOption.between(1, 1024))
          .description(
              "Push: threads that decode requests and wait for the write-ahead log (named"
                  + " `tributary-<source>-flume-call-N`); at most this many batches are stored at once.");

  public static final ConfigOption<Integer> IO_THREADS =
      ConfigOption.integer("io-threads")
          .defaultValue(2)
          .validate(ConfigOption.between(1, 64))
          .description("Push: Netty event-loop threads; they never block.");

  public static final ConfigOption<Integer> MAX_CONNECTIONS =
      ConfigOption.integer("max-connections")
          .defaultValue(1024)
          .validate(ConfigOption.atLeast(1))
          .description("Push: connections beyond this many are closed at once (and counted).");

  public static final ConfigOption<Integer> MAX_BATCH_EVENTS =
      ConfigOption.integer("max-batch-events")
          .defaultValue(10_000)
          .validate(ConfigOption.atLeast(1))
          .description(
              "Push: an appendBatch with more events is answered FAILED and counted"
                  + " (batch_too_large); set the sender's batch-size below it.");

  public static final ConfigOption<Long> MAX_REQUEST_BYTES =
      ConfigOption.size("max-request-bytes")
          .defaultValue(64L * 1024 * 1024)
          .validate(ConfigOption.between(1024, 1024L * 1024 * 1024))
          .description(
              "Push: largest Avro request (after inflating); a larger one closes the connection and"
                  + " is counted (request_too_large).");

  public static final ConfigOption<Duration> IDLE_TIMEOUT =
      ConfigOption.duration("idle-timeout")
          .defaultValue(Duration.ofMinutes(5))
          .validate(ConfigOption.positive())
          .description(
              "Push: a connection that sends nothing for this long is closed (idle_timeout); one"
                  + " stalled mid-request is also counted as truncated_request.");

  public static final ConfigOption<String> TIMESTAMP_HEADER =
      ConfigOption.string("timestamp-header")
          .defaultValue("timestamp")
          .description(
              "Event header holding the event time in epoch milliseconds (Flume's timestamp"
                  + " interceptor); absent or not a number: the time of arrival.");

  public static final ConfigOption<List<String>> PULL_HOSTS =
      ConfigOption.stringList("pull.hosts")
          .defaultValue(List.of())
          .description(
              "Pull: `host:port` of each tributary-flume-sink to poll (one receiver may poll several"
                  + " agents).");

  public static final ConfigOption<Integer> PULL_BATCH_SIZE =
      ConfigOption.integer("pull.batch-size")
          .defaultValue(1000)
          .validate(ConfigOption.between(1, 1_000_000))
          .description(
              "Pull: events asked for per poll; at most the channel's transactionCapacity.");

  public static final ConfigOption<Integer> PULL_THREADS_PER_HOST =
      ConfigOption.integer("pull.threads-per-host")
          .defaultValue(2)
          .validate(ConfigOption.between(1, 64))
          .description(
              "Pull: concurrent pollers per sink (named `tributary-<source>-flume-poll-N`); each"
                  + " holds at most one open transaction.");

  public static final ConfigOption<Duration> PULL_EMPTY_BACKOFF =
      ConfigOption.duration("pull.empty-backoff")
          .defaultValue(Duration.ofMillis(100))
          .validate(ConfigOption.positive())
          .description(
              "Pull: wait after an empty poll or an unreachable sink before polling again.");

  public static final ConfigOption<Duration> PULL_REQUEST_TIMEOUT =
      ConfigOption.duration("pull.request-timeout")
          .defaultValue(Duration.ofSeconds(20))
          .validate(ConfigOption.positive())
          .description("Pull: timeout of one poll, ack or nack call.");

  /** All keys of the {@code flume} source type. */
  public static final ConfigSpec SPEC =
      ConfigSpec.of(
          MODE,
          HOST,
          PORT,
          COMPRESSION_TYPE,
          TLS_ENABLED,
          TLS_KEYSTORE,
          TLS_KEYSTORE_PASSWORD,
          TLS_KEYSTORE_TYPE,
          TLS_PROTOCOLS,
          IP_FILTER_RULES,
          MAX_THREADS,
          IO_THREADS,
          MAX_CONNECTIONS,
          MAX_BATCH_EVENTS,
          MAX_REQUEST_BYTES,
          IDLE_TIMEOUT,
          TIMESTAMP_HEADER,
          PULL_HOSTS,
          PULL_BATCH_SIZE,
          PULL_THREADS_PER_HOST,
          PULL_EMPTY_BACKOFF,
          PULL_REQUEST_TIMEOUT);

  private FlumeOptions() {}

  /** The source's configuration reference as a Markdown table, generated from {@link #SPEC}. */
  public static String markdownTable() {
    return ConfigDocs.markdownTable(SPEC);
  }
}
