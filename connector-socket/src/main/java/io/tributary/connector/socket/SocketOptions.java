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
    LENGTH_PREFIXED,
    /**
     * RFC 6587 octet counting, as syslog senders frame messages over TCP: {@code <ascii length>
     * <space> <message>}.
     */
    OCTET_COUNTED
  }

  /** Which syslog header, if any, plain-mode records are parsed as (headers {@code syslog.*}). */
  public enum SyslogFormat {
    /** No parsing. */
    NONE,
    /** RFC 5424 when the message has a version after its PRI, RFC 3164 otherwise. */
    AUTO,
    /** RFC 5424 only; other messages are stored unparsed (and counted). */
    RFC5424,
    /** RFC 3164 (BSD syslog, rsyslog's traditional formats). */
    RFC3164
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
              "lines: records end with \\n; length-prefixed: 4-byte big-endian length before each record;"
                  + " octet-counted: RFC 6587 `<ascii length> <message>`, the TCP framing of syslog senders"
                  + " (rsyslog omfwd TCP_Framing=\"octet-counted\"). Ignored when reliable is true (the"
                  + " protocol has its own frames).");

  public static final ConfigOption<SyslogFormat> SYSLOG_FORMAT =
      ConfigOption.enumValue("syslog-format", SyslogFormat.class)
          .defaultValue(SyslogFormat.NONE)
          .description(
              "Server, plain mode: parse each record's syslog header into `syslog.*` headers (facility,"
                  + " severity, timestamp, hostname, app-name, procid, msgid, structured-data, message); the"
                  + " value stays the whole message. Messages that do not parse are stored as they are and"
                  + " counted in tributary.socket.syslog.unparsed.");

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

  public static final ConfigOption<Duration> READ_IDLE_TIMEOUT =
      ConfigOption.duration("read-idle-timeout")
          .defaultValue(Duration.ofSeconds(60))
          .validate(ConfigOption.positive())
          .description(
              "Server: a connection that sends nothing for this long is closed and counted"
                  + " (errors{reason=idle_timeout}), also before its TLS handshake or HELLO and between frames"
                  + " of the reliable protocol, so silent connections cannot hold every slot of"
                  + " max-connections. Time while the server itself paused reading (backpressure) does not"
                  + " count.");

  public static final ConfigOption<Long> MAX_BUFFERED_BYTES =
      ConfigOption.size("max-buffered-bytes")
          .defaultValue(64L * 1024 * 1024)
          .validate(ConfigOption.between(1024, 64L * 1024 * 1024 * 1024))
          .description(
              "Server: bytes of partial frames (direct memory) all connections may hold together. When it"
                  + " is reached, a connection whose partial frame grows beyond 64kb is refused"
                  + " (errors{reason=memory_budget}); complete frames are never affected. Keep it well below"
                  + " -XX:MaxDirectMemorySize (by default the heap size).");

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
          SYSLOG_FORMAT,
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
          READ_IDLE_TIMEOUT,
          MAX_BUFFERED_BYTES,
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
