package io.tributary.connector.kafka.internal;

import io.tributary.core.api.RetriableException;
import io.tributary.core.api.TributaryException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Asks each bootstrap address, before any Kafka client is created, what kind of peer it is: one
 * plaintext Kafka {@code ApiVersions} request (version 0, which every broker answers, if only with
 * an error code) on a short-lived socket, and a look at the first bytes that come back.
 *
 * <p>Why: the Kafka clients meet a wrong peer late and badly. Pointed at an HTTP server they read
 * {@code "HTTP"} as a 1.2 GB response size and run the JVM out of heap; a TLS listener with {@code
 * security.protocol=PLAINTEXT} (or the reverse) shows up a minute later as a bare {@code
 * TimeoutException}; an address where nothing listens is retried silently. The probe turns each of
 * these into an error within seconds that names the component, the address, what answered and the
 * setting to check.
 *
 * <p>What is sent: 4 bytes of size and a 27-byte request header; nothing else. A TLS listener
 * answers it with a TLS alert (and its broker logs one failed handshake); a plaintext or SASL
 * listener with an {@code ApiVersions} response.
 *
 * <p>Thread safety: stateless. Blocking: {@link #check} blocks up to {@code timeout} per address.
 */
public final class KafkaPeerProbe {
  /**
   * Largest response accepted as Kafka's answer to {@code ApiVersions} v0 (a few hundred bytes).
   */
  static final int MAX_PLAUSIBLE_RESPONSE = 1 << 20;

  /** How long one probe of one address waits for the connection and for the answer. */
  static final Duration PROBE_TIMEOUT = Duration.ofSeconds(5);

  private static final Logger LOG = LoggerFactory.getLogger(KafkaPeerProbe.class);
  private static final short API_VERSIONS = 18;
  private static final int CORRELATION_ID = 0x7472_6962; // "trib"

  /**
   * Ends with CR LF so that a line-based server at the address (HTTP, SMTP) sees a complete line
   * and answers at once instead of waiting for one; a Kafka broker takes it as part of the client
   * id.
   */
  private static final byte[] CLIENT_ID = "tributary-probe\r\n".getBytes(StandardCharsets.US_ASCII);

  private KafkaPeerProbe() {}

  /** What answered at an address. */
  public enum Kind {
    /** A Kafka listener without TLS (PLAINTEXT or SASL_PLAINTEXT). */
    KAFKA_PLAINTEXT,
    /** A TLS server (a TLS record came back). */
    TLS,
    /** An HTTP server. */
    HTTP,
    /** Something that is neither Kafka, TLS nor HTTP. */
    OTHER,
    /** The connection was accepted and closed without an answer. */
    CLOSED,
    /** The connection was accepted but nothing came back in time. */
    NO_ANSWER,
    /** The connection could not be made: refused, unreachable, or timed out. */
    UNREACHABLE,
    /** The host name does not resolve. */
    UNKNOWN_HOST
  }

  /** The answer of one address, with a short description for messages. */
  public record Answer(String address, Kind kind, String detail) {
    @Override
    public String toString() {
      return address + " (" + detail + ")";
    }
  }

  /**
   * Probes every address of {@code bootstrapServers} and throws when none of them is a Kafka
   * listener speaking the protocol {@code clientProperties} select ({@code security.protocol},
   * PLAINTEXT when unset).
   *
   * @param component names the component in messages, e.g. {@code Kafka sink out of pipeline p}
   * @throws TributaryException when an address answers as the wrong kind of peer (HTTP, TLS on a
   *     plaintext setting, plaintext on a TLS setting, unknown bytes): a setting to fix, not
   *     retried
   * @throws RetriableException when no address could be reached or none answered (brokers down or
   *     starting): retried by the runtime's batch retries
   */
  public static void check(
      String component,
      String bootstrapServers,
      Map<String, String> clientProperties,
      Duration timeout) {
    checkOnce(component, bootstrapServers, clientProperties, timeout);
  }

  /**
   * {@link #check}, probing again with backoff (250 ms doubling to 2 s) while no address can be
   * reached, until {@code waitFor} has passed: a gateway started a little before its brokers waits
   * for them, an address where nothing ever listens fails after {@code waitFor} with each address
   * and its answer. A wrong kind of peer fails at once. Logs a WARN every 10 s while waiting.
   *
   * @throws InterruptedException when interrupted while waiting
   */
  public static void awaitBrokers(
      String component,
      String bootstrapServers,
      Map<String, String> clientProperties,
      Duration waitFor)
      throws InterruptedException {
    long deadline = System.nanoTime() + waitFor.toNanos();
    long backoffMs = 250;
    long nextWarn = System.nanoTime();
    while (true) {
      long left = deadline - System.nanoTime();
      Duration probeTimeout =
          Duration.ofNanos(
              Math.max(Duration.ofMillis(200).toNanos(), Math.min(left, PROBE_TIMEOUT.toNanos())));
      try {
        checkOnce(component, bootstrapServers, clientProperties, probeTimeout);
        return;
      } catch (RetriableException e) {
        if (System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(backoffMs) >= deadline) {
          throw new RetriableException(
              e.getMessage() + "; waited " + waitFor.toMillis() + " ms (connect-timeout)",
              e.getCause());
        }
        if (System.nanoTime() >= nextWarn) {
          LOG.warn(
              "event=kafka_brokers_unreachable component=\"{}\" error=\"{}\" action=\"waiting up to {} ms\"",
              component,
              e.getMessage(),
              waitFor.toMillis());
          nextWarn = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        }
        Thread.sleep(backoffMs); // backoff between probes of an unreachable address
        backoffMs = Math.min(2000, backoffMs * 2);
      }
    }
  }

  private static void checkOnce(
      String component,
      String bootstrapServers,
      Map<String, String> clientProperties,
      Duration timeout) {
    String protocol =
        clientProperties
            .getOrDefault("security.protocol", "PLAINTEXT")
            .trim()
            .toUpperCase(Locale.ROOT);
    boolean tls = protocol.endsWith("SSL");
    List<Answer> answers = new ArrayList<>();
    for (String address : bootstrapServers.split(",")) {
      String a = address.trim();
      if (a.isEmpty()) {
        continue;
      }
      Answer answer = probe(a, timeout);
      if (answer.kind() == (tls ? Kind.TLS : Kind.KAFKA_PLAINTEXT)) {
        return; // one good bootstrap address is all the clients need
      }
      answers.add(answer);
    }
    List<Answer> wrongKind =
        answers.stream()
            .filter(
                a ->
                    a.kind() == Kind.HTTP
                        || a.kind() == Kind.OTHER
                        || a.kind() == Kind.TLS
                        || a.kind() == Kind.KAFKA_PLAINTEXT)
            .toList();
    if (!wrongKind.isEmpty()) {
      throw new TributaryException(component + ": " + wrongKindMessage(protocol, wrongKind));
    }
    throw new RetriableException(
        component
            + ": no Kafka broker answers at "
            + joined(answers)
            + " (check bootstrap-servers and that the brokers are running and reachable from this host)");
  }

  private static String wrongKindMessage(String protocol, List<Answer> wrong) {
    Answer first = wrong.get(0);
    String what =
        switch (first.kind()) {
          case TLS ->
              "a TLS listener answers, but kafka.security.protocol is "
                  + protocol
                  + " (set kafka.security.protocol: "
                  + (protocol.startsWith("SASL") ? "SASL_SSL" : "SSL")
                  + " with the kafka.ssl.* truststore settings, or use the brokers' plaintext listener)";
          case KAFKA_PLAINTEXT ->
              "a Kafka listener without TLS answers, but kafka.security.protocol is "
                  + protocol
                  + " (set kafka.security.protocol: "
                  + (protocol.startsWith("SASL") ? "SASL_PLAINTEXT" : "PLAINTEXT")
                  + ", or point bootstrap-servers at the brokers' TLS listener)";
          case HTTP ->
              "an HTTP server answers, not a Kafka broker (check bootstrap-servers: host and port of a"
                  + " Kafka listener, often 9092)";
          default ->
              "the peer is not a Kafka broker (check bootstrap-servers: host and port of a Kafka listener)";
        };
    return "wrong kind of peer at " + joined(wrong) + ": " + what;
  }

  private static String joined(List<Answer> answers) {
    StringBuilder b = new StringBuilder();
    for (Answer a : answers) {
      if (b.length() > 0) {
        b.append(", ");
      }
      b.append(a);
    }
    return b.toString();
  }

  /** Probes one {@code host:port} address. Never throws. */
  public static Answer probe(String address, Duration timeout) {
    int colon = address.lastIndexOf(':');
    if (colon <= 0 || colon == address.length() - 1) {
      return new Answer(address, Kind.OTHER, "not host:port");
    }
    String host = address.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    int port;
    try {
      port = Integer.parseInt(address.substring(colon + 1));
    } catch (NumberFormatException e) {
      return new Answer(address, Kind.OTHER, "not host:port");
    }
    int millis = (int) Math.max(1, Math.min(Integer.MAX_VALUE, timeout.toMillis()));
    try (Socket s = new Socket()) {
      try {
        s.connect(new InetSocketAddress(host, port), millis);
      } catch (UnknownHostException e) {
        return new Answer(address, Kind.UNKNOWN_HOST, "unknown host");
      } catch (ConnectException e) {
        return new Answer(address, Kind.UNREACHABLE, "connection refused");
      } catch (SocketTimeoutException e) {
        return new Answer(address, Kind.UNREACHABLE, "connect timed out after " + millis + " ms");
      } catch (IllegalArgumentException e) {
        // an unresolved InetSocketAddress makes connect() throw UnknownHostException; a port out of
        // range lands here
        return new Answer(address, Kind.OTHER, "not host:port");
      }
      s.setSoTimeout(millis);
      s.setTcpNoDelay(true);
      OutputStream out = s.getOutputStream();
      out.write(apiVersionsRequest());
      out.flush();
      java.io.InputStream in = s.getInputStream();
      byte[] head = new byte[8];
      int n = 0;
      try {
        while (n < head.length) {
          int r = in.read(head, n, head.length - n);
          if (r < 0) {
            break;
          }
          n += r;
        }
      } catch (SocketTimeoutException e) {
        if (n == 0) {
          throw e;
        }
        // the peer stopped sending after a few bytes: classify what came
      }
      if (n == 0) {
        return new Answer(address, Kind.CLOSED, "connection closed without an answer");
      }
      return classify(address, head, n);
    } catch (SocketTimeoutException e) {
      return new Answer(address, Kind.NO_ANSWER, "no answer within " + millis + " ms");
    } catch (IOException e) {
      return new Answer(
          address, Kind.UNREACHABLE, e.getClass().getSimpleName() + ": " + e.getMessage());
    }
  }

  /** What the first {@code n} bytes of an answer say about the peer. */
  static Answer classify(String address, byte[] head, int n) {
    int b0 = head[0] & 0xff;
    if ((b0 == 0x15 || b0 == 0x16) && (n < 2 || head[1] == 0x03)) {
      return new Answer(address, Kind.TLS, "a TLS record");
    }
    if (n >= 4 && new String(head, 0, 4, StandardCharsets.US_ASCII).equals("HTTP")) {
      return new Answer(address, Kind.HTTP, "an HTTP response");
    }
    if (n == 8) {
      ByteBuffer bb = ByteBuffer.wrap(head);
      int size = bb.getInt();
      int correlation = bb.getInt();
      if (size >= 4 && size <= MAX_PLAUSIBLE_RESPONSE && correlation == CORRELATION_ID) {
        return new Answer(address, Kind.KAFKA_PLAINTEXT, "a Kafka listener without TLS");
      }
    }
    return new Answer(address, Kind.OTHER, "an answer starting with " + printable(head, n));
  }

  /** At most 8 bytes as printable ASCII with dots for the rest, never more: no payload in logs. */
  private static String printable(byte[] b, int n) {
    StringBuilder s = new StringBuilder("'");
    for (int i = 0; i < n; i++) {
      int c = b[i] & 0xff;
      s.append(c >= 0x20 && c < 0x7f ? (char) c : '.');
    }
    return s.append("'").toString();
  }

  /**
   * {@code ApiVersions} v0 with request header v1: size, api key, version, correlation id, client
   * id.
   */
  static byte[] apiVersionsRequest() {
    int headerSize = 2 + 2 + 4 + 2 + CLIENT_ID.length;
    ByteBuffer b = ByteBuffer.allocate(4 + headerSize);
    b.putInt(headerSize);
    b.putShort(API_VERSIONS);
    b.putShort((short) 0);
    b.putInt(CORRELATION_ID);
    b.putShort((short) CLIENT_ID.length);
    b.put(CLIENT_ID);
    return b.array();
  }
}
