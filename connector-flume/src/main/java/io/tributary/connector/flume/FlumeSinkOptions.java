package io.tributary.connector.flume;

import io.tributary.core.api.ConfigDocs;
import io.tributary.core.api.ConfigOption;
import io.tributary.core.api.ConfigSpec;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Every configuration key of the {@code flume} sink, declared once; the README's sink table is
 * generated from {@link #SPEC}.
 *
 * <p>Thread safety: immutable constants.
 */
public final class FlumeSinkOptions {
  /** Flume's {@code client.type}. */
  public enum ClientType {
    /** One agent. */
    DEFAULT,
    /** Spread batches over {@code hosts} (round robin or random), skipping failed ones. */
    DEFAULT_LOADBALANCE,
    /** Send to the first reachable of {@code hosts}, in order. */
    DEFAULT_FAILOVER
  }

  public static final ConfigOption<List<String>> HOSTS =
      ConfigOption.stringList("hosts")
          .required()
          .description("`host:port` of each agent's Avro source.");

  public static final ConfigOption<ClientType> CLIENT_TYPE =
      ConfigOption.enumValue("client-type", ClientType.class)
          .defaultValue(ClientType.DEFAULT)
          .description(
              "default (one host), default-loadbalance or default-failover (several hosts), as"
                  + " flume-ng-sdk's RpcClientFactory.");

  public static final ConfigOption<Integer> BATCH_SIZE =
      ConfigOption.integer("batch-size")
          .defaultValue(500)
          .validate(ConfigOption.between(1, 100_000))
          .description(
              "Events per appendBatch call (at most the agent channel's transactionCapacity).");

  public static final ConfigOption<Duration> CONNECT_TIMEOUT =
      ConfigOption.duration("connect-timeout")
          .defaultValue(Duration.ofSeconds(20))
          .validate(ConfigOption.positive())
          .description("Timeout of connecting to an agent.");

  public static final ConfigOption<Duration> REQUEST_TIMEOUT =
      ConfigOption.duration("request-timeout")
          .defaultValue(Duration.ofSeconds(20))
          .validate(ConfigOption.positive())
          .description(
              "Timeout of one appendBatch; a timeout fails the attempt (the batch is retried whole:"
                  + " the agent may get events twice).");

  public static final ConfigOption<FlumeOptions.Compression> COMPRESSION_TYPE =
      ConfigOption.enumValue("compression-type", FlumeOptions.Compression.class)
          .defaultValue(FlumeOptions.Compression.NONE)
          .description("deflate when the agent's Avro source has compression-type = deflate.");

  public static final ConfigOption<Boolean> SSL =
      ConfigOption.bool("ssl")
          .defaultValue(false)
          .description("TLS to the agent's Avro source (ssl = true there).");

  public static final ConfigOption<Boolean> TRUST_ALL_CERTS =
      ConfigOption.bool("trust-all-certs")
          .defaultValue(false)
          .description("TLS: accept any server certificate (tests only).");

  public static final ConfigOption<String> TRUSTSTORE =
      ConfigOption.string("truststore")
          .validate(ConfigOption.nonBlank())
          .description("TLS: trust store file (default: the JVM's).");

  public static final ConfigOption<String> TRUSTSTORE_PASSWORD =
      ConfigOption.string("truststore-password")
          .sensitive()
          .description("TLS: trust store password.");

  public static final ConfigOption<String> TRUSTSTORE_TYPE =
      ConfigOption.string("truststore-type")
          .defaultValue("JKS")
          .validate(ConfigOption.nonBlank())
          .description("TLS: trust store type.");

  public static final ConfigOption<String> TIMESTAMP_HEADER =
      ConfigOption.string("timestamp-header")
          .defaultValue("timestamp")
          .description(
              "Header that carries the record's timestamp (epoch ms) when the record has no such"
                  + " header; empty: none.");

  public static final ConfigOption<String> KEY_HEADER =
      ConfigOption.string("key-header")
          .defaultValue("key")
          .description(
              "Header that carries the record's key (UTF-8) when it has one; empty: none.");

  public static final ConfigOption<Map<String, String>> CLIENT =
      ConfigOption.prefixed("client.")
          .description(
              "Other flume-ng-sdk RpcClient properties, passed as they are (for example"
                  + " client.host-selector: random, client.backoff: true, client.maxBackoff: 30000).");

  /** All keys of the {@code flume} sink type. */
  public static final ConfigSpec SPEC =
      ConfigSpec.of(
          HOSTS,
          CLIENT_TYPE,
          BATCH_SIZE,
          CONNECT_TIMEOUT,
          REQUEST_TIMEOUT,
          COMPRESSION_TYPE,
          SSL,
          TRUST_ALL_CERTS,
          TRUSTSTORE,
          TRUSTSTORE_PASSWORD,
          TRUSTSTORE_TYPE,
          TIMESTAMP_HEADER,
          KEY_HEADER,
          CLIENT);

  private FlumeSinkOptions() {}

  /** The sink's configuration reference as a Markdown table, generated from {@link #SPEC}. */
  public static String markdownTable() {
    return ConfigDocs.markdownTable(SPEC);
  }
}
