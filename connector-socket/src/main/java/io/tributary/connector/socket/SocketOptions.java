package io.tributary.connector.socket;

import io.tributary.core.api.ConfigDocs;
import io.tributary.core.api.ConfigOption;
import io.tributary.core.api.ConfigSpec;
import java.time.Duration;

/**
 * Every configuration key of the {@code socket} source, declared once. The README's configuration
 * table is generated from {@link #SPEC} by {@link #markdownTable()}; a unit test fails when the
 * checked-in table is stale.
 *
 * <p>Thread safety: immutable constants.
 */
public final class SocketOptions {
  /** Whether the receiver connects to a peer or listens for peers. */
  public enum Mode {
    /**
     * Connect to {@code host:port} and read what the peer sends (Spark's {@code socketTextStream}).
     */
    CLIENT,
    /** Listen on {@code host:port} and accept many senders (the gateway's ingestion port). */
    SERVER
  }

  /**
   * How a byte stream is cut into records (plain mode; the reliable protocol has its own framing).
   */
  public enum Framing {
    /** One record per line ending in {@code \n}; a trailing {@code \r} is removed. */
    LINES,
    /** Each record is preceded by its length as a 4-byte big-endian signed integer. */
    LENGTH_PREFIXED
  }

  public static final ConfigOption<Mode> MODE =
      ConfigOption.enumValue("mode", Mode.class)
          .required()
          .description(
              "client: connect to host:port and read; server: listen on host:port for many senders.");

  public static final ConfigOption<String> HOST =
      ConfigOption.string("host")
          .defaultValue("127.0.0.1")
          .validate(ConfigOption.nonBlank())
          .description(
              "Server: address to bind (loopback by default; 0.0.0.0 for all interfaces). Client: peer"
                  + " to connect to.");

  public static final ConfigOption<Integer> PORT =
      ConfigOption.integer("port")
          .required()
          .validate(ConfigOption.between(0, 65535))
          .description(
              "Server: port to listen on (0 picks a free port). Client: peer port (1-65535).");

  public static final ConfigOption<Framing> FRAMING =
      ConfigOption.enumValue("framing", Framing.class)
          .defaultValue(Framing.LINES)
          .description(
              "lines: records end with \\n; length-prefixed: 4-byte big-endian length before each record."
                  + " Ignored when reliable is true (the protocol has its own frames).");

  public static final ConfigOption<Long> MAX_FRAME_BYTES =
      ConfigOption.size("max-frame-bytes")
          .defaultValue(1024L * 1024)
          .validate(ConfigOption.between(1, 256L * 1024 * 1024))
          .description(
              "Largest accepted record (line without its terminator, or payload). Larger frames are"
                  + " rejected; see the bad-input table.");

  public static final ConfigOption<Boolean> VALIDATE_UTF8 =
      ConfigOption.bool("validate-utf8")
          .defaultValue(true)
          .description("lines framing: drop (and count) lines that are not valid UTF-8.");

  public static final ConfigOption<Boolean> RELIABLE =
      ConfigOption.bool("reliable")
          .defaultValue(false)
          .description(
              "Server only: speak the acknowledged TRB1 protocol; a frame is acknowledged only once it is"
                  + " durable in the write-ahead log.");

  public static final ConfigOption<Duration> RELIABLE_PRODUCER_IDLE_TIMEOUT =
      ConfigOption.duration("reliable.producer-idle-timeout")
          .defaultValue(Duration.ofDays(7))
          .validate(ConfigOption.positive())
          .description(
              "Reliable server: a producer id that stored nothing (and had no connection) for this long is"
                  + " forgotten, by the server and in the checkpoint, so their size is bounded by the producers active"
                  + " within this time. A producer returning later is welcomed as new (WELCOME -1): see \"Idle producers\".");

  public static final ConfigOption<Boolean> TLS_ENABLED =
      ConfigOption.bool("tls.enabled")
          .defaultValue(false)
          .description("Encrypt connections with TLS.");

  public static final ConfigOption<String> TLS_CERT_FILE =
      ConfigOption.string("tls.cert-file")
          .validate(ConfigOption.nonBlank())
          .description("Server with TLS: PEM certificate chain file.");

  public static final ConfigOption<String> TLS_KEY_FILE =
      ConfigOption.string("tls.key-file")
          .validate(ConfigOption.nonBlank())
          .description("Server with TLS: PEM private key file (PKCS#8, unencrypted).");

  public static final ConfigOption<String> TLS_TRUST_CERT_FILE =
      ConfigOption.string("tls.trust-cert-file")
          .validate(ConfigOption.nonBlank())
          .description(
              "Client with TLS: PEM certificates to trust (default: the JVM's trust store). The peer's"
                  + " host name is verified.");

  public static final ConfigOption<Duration> RECONNECT_INITIAL_BACKOFF =
      ConfigOption.duration("reconnect.initial-backoff")
          .defaultValue(Duration.ofMillis(100))
          .validate(ConfigOption.positive())
          .description(
              "Client: delay before the first reconnect after the peer closed or was unreachable.");

  public static final ConfigOption<Duration> RECONNECT_MAX_BACKOFF =
      ConfigOption.duration("reconnect.max-backoff")
          .defaultValue(Duration.ofSeconds(10))
          .validate(ConfigOption.positive())
          .description(
              "Client: the reconnect delay doubles up to this bound; it resets once connected.");

  public static final ConfigOption<Duration> CONNECT_TIMEOUT =
      ConfigOption.duration("connect-timeout")
          .defaultValue(Duration.ofSeconds(5))
          .validate(ConfigOption.positive())
          .description("Client: timeout of one TCP connect attempt.");

  public static final ConfigOption<Integer> MAX_CONNECTIONS =
      ConfigOption.integer("max-connections")
          .defaultValue(1024)
          .validate(ConfigOption.atLeast(1))
          .description("Server: connections beyond this many are closed at once (and counted).");

  public static final ConfigOption<Integer> IO_THREADS =
      ConfigOption.integer("io-threads")
          .defaultValue(2)
          .validate(ConfigOption.between(1, 64))
          .description(
              "Server: Netty event-loop threads, named `tributary-<source>-socket-N`; they never block.");

  /** All keys of the {@code socket} source type. */
  public static final ConfigSpec SPEC =
      ConfigSpec.of(
          MODE,
          HOST,
          PORT,
          FRAMING,
          MAX_FRAME_BYTES,
          VALIDATE_UTF8,
          RELIABLE,
          RELIABLE_PRODUCER_IDLE_TIMEOUT,
          TLS_ENABLED,
          TLS_CERT_FILE,
          TLS_KEY_FILE,
          TLS_TRUST_CERT_FILE,
          RECONNECT_INITIAL_BACKOFF,
          RECONNECT_MAX_BACKOFF,
          CONNECT_TIMEOUT,
          MAX_CONNECTIONS,
          IO_THREADS);

  private SocketOptions() {}

  /**
   * The configuration reference as a Markdown table (key, type, default, description), generated
   * from {@link #SPEC}.
   */
  public static String markdownTable() {
    return ConfigDocs.markdownTable(SPEC);
  }
}
