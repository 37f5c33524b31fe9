package io.tributary.connector.flume.internal;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HexFormat;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Asks a {@code host:port} what kind of peer it is before the Flume connector talks to it: one Avro
 * RPC handshake "ping" (an unknown client hash, no client protocol, an empty message name), which
 * every Avro responder answers silently with its own protocol, on a short-lived socket.
 *
 * <p>Why: Avro's Netty client meets a wrong peer late: pointed at an HTTP server (which waits for a
 * request line that never comes) each call waits for the whole request timeout and is then retried,
 * and the Flume sink's or pull source's errors say only that the call timed out. The probe names
 * what answered: the Avro protocol (Flume's {@code AvroSourceProtocol}, Tributary's {@code
 * PullProtocol} or another), an HTTP server (asked {@code HEAD /} on a second connection when the
 * ping got no answer), a TLS server, or nothing.
 *
 * <p>What is sent: a 48-byte Avro frame; a Flume agent logs the connection (as it logs every
 * client's) and nothing else. Only when that gets no answer within the timeout, one {@code HEAD /
 * HTTP/1.0} on a new connection.
 *
 * <p>Thread safety: stateless. Blocking: up to about twice {@code timeout} per address.
 */
public final class AvroPeerProbe {
  private static final int SERIAL = 0x7472_6962; // "trib"
  private static final Pattern NAME = Pattern.compile("\"protocol\"\\s*:\\s*\"([^\"]*)\"");
  private static final Pattern NAMESPACE = Pattern.compile("\"namespace\"\\s*:\\s*\"([^\"]*)\"");

  private AvroPeerProbe() {}

  /** What answered. */
  public enum Kind {
    /** An Avro RPC responder; {@link Answer#detail()} is its protocol's full name. */
    AVRO,
    /** An HTTP server; the detail is its status line. */
    HTTP,
    /** A TLS server (a TLS record came back). */
    TLS,
    /** Something else answered; the detail is its first bytes. */
    OTHER,
    /** The connection was accepted and closed without an answer. */
    CLOSED,
    /** The connection was accepted but nothing came back in time. */
    NO_ANSWER,
    /** Refused, unreachable or not accepted in time. */
    UNREACHABLE,
    /** The host name does not resolve. */
    UNKNOWN_HOST
  }

  /** The probe's outcome. */
  public record Answer(Kind kind, String detail) {
    /** For messages: what answered at the address. */
    public String describe() {
      return switch (kind) {
        case AVRO -> "an Avro RPC server of protocol " + detail + " answered";
        case HTTP -> "an HTTP server answered (" + detail + ")";
        case TLS -> "a TLS server answered (TLS record " + detail + ")";
        case OTHER -> "something that is not Avro RPC answered (first bytes " + detail + ")";
        case CLOSED -> "the connection was accepted and closed without an answer";
        case NO_ANSWER -> "the connection was accepted but nothing answered within " + detail;
        case UNREACHABLE -> "nothing could be reached (" + detail + ")";
        case UNKNOWN_HOST -> "the host is unknown (" + detail + ")";
      };
    }
  }

  /** The Avro ping: frame header, one buffer of the handshake request and an empty call. */
  static byte[] ping() {
    byte[] hash = new byte[16];
    for (int i = 0; i < 16; i++) {
      hash[i] = (byte) ("tributary-probe!".charAt(i));
    }
    ByteBuffer payload = ByteBuffer.allocate(36);
    payload.put(hash); // HandshakeRequest.clientHash (fixed MD5)
    payload.put((byte) 0); // clientProtocol: union index 0, null
    payload.put(hash); // serverHash (fixed MD5): unknown to the server
    payload.put((byte) 0); // meta: null
    payload.put((byte) 0); // call metadata: empty map
    payload.put((byte) 0); // message name: "" (a handshake ping)
    ByteBuffer frame = ByteBuffer.allocate(12 + 36);
    frame.putInt(SERIAL).putInt(1).putInt(36).put(payload.array());
    return frame.array();
  }

  /** Probes {@code host:port}; never throws. */
  public static Answer probe(String host, int port, Duration timeout) {
    Answer a = avro(host, port, timeout);
    if (a.kind() == Kind.NO_ANSWER || a.kind() == Kind.CLOSED) {
      String http = httpStatusLine(host, port, timeout);
      if (http != null) {
        return new Answer(Kind.HTTP, http);
      }
    }
    return a;
  }

  private static Answer avro(String host, int port, Duration timeout) {
    int ms = (int) timeout.toMillis();
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(host, port), ms);
      s.setSoTimeout(ms);
      OutputStream out = s.getOutputStream();
      out.write(ping());
      out.flush();
      DataInputStream in = new DataInputStream(s.getInputStream());
      byte[] head = new byte[12];
      int n = in.readNBytes(head, 0, 12);
      if (n == 0) {
        return new Answer(Kind.CLOSED, "");
      }
      String text = new String(head, 0, n, StandardCharsets.ISO_8859_1);
      if (text.startsWith("HTTP/")) {
        return new Answer(Kind.HTTP, statusLine(text, in));
      }
      if (n >= 2 && (head[0] == 0x15 || head[0] == 0x16) && head[1] == 0x03) {
        return new Answer(Kind.TLS, HexFormat.of().formatHex(head, 0, Math.min(n, 5)));
      }
      ByteBuffer h = ByteBuffer.wrap(head);
      if (n < 12 || h.getInt() != SERIAL) {
        return new Answer(Kind.OTHER, HexFormat.of().formatHex(head, 0, n));
      }
      int count = h.getInt();
      int len = h.getInt();
      if (count < 1 || len < 2 || len > (1 << 20)) {
        return new Answer(Kind.OTHER, HexFormat.of().formatHex(head, 0, n));
      }
      byte[] body = new byte[len];
      in.readFully(body);
      return new Answer(Kind.AVRO, protocolName(body));
    } catch (UnknownHostException e) {
      return new Answer(Kind.UNKNOWN_HOST, host);
    } catch (ConnectException e) {
      return new Answer(Kind.UNREACHABLE, host + ":" + port + ": " + e.getMessage());
    } catch (SocketTimeoutException e) {
      return new Answer(Kind.NO_ANSWER, timeout.toMillis() + " ms");
    } catch (EOFException e) {
      return new Answer(Kind.OTHER, "a truncated Avro frame");
    } catch (IOException e) {
      return new Answer(Kind.UNREACHABLE, host + ":" + port + ": " + e);
    }
  }

  /**
   * The server protocol's full name in a HandshakeResponse: match (enum), serverProtocol (union of
   * null and string), ...
   */
  static String protocolName(byte[] body) {
    ByteBuffer b = ByteBuffer.wrap(body);
    readVarLong(b); // match: BOTH, CLIENT or NONE
    if (readVarLong(b) != 1) {
      return "(unnamed: the server sent no protocol)";
    }
    long len = readVarLong(b);
    if (len < 0 || len > b.remaining()) {
      return "(unreadable)";
    }
    byte[] json = new byte[(int) len];
    b.get(json);
    String s = new String(json, StandardCharsets.UTF_8);
    Matcher name = NAME.matcher(s);
    Matcher ns = NAMESPACE.matcher(s);
    String n = name.find() ? name.group(1) : "(unnamed)";
    return ns.find() && !ns.group(1).isEmpty() ? ns.group(1) + "." + n : n;
  }

  private static long readVarLong(ByteBuffer b) {
    long raw = 0;
    int shift = 0;
    while (b.hasRemaining() && shift < 64) {
      int x = b.get() & 0xff;
      raw |= (long) (x & 0x7f) << shift;
      if ((x & 0x80) == 0) {
        return (raw >>> 1) ^ -(raw & 1); // zig-zag
      }
      shift += 7;
    }
    return -1;
  }

  private static String statusLine(String head, InputStream rest) throws IOException {
    StringBuilder sb = new StringBuilder(head);
    for (int c; sb.indexOf("\r") < 0 && sb.length() < 200 && (c = rest.read()) != -1; ) {
      sb.append((char) c);
    }
    int eol = sb.indexOf("\r");
    return (eol > 0 ? sb.substring(0, eol) : sb.toString()).strip();
  }

  private static String httpStatusLine(String host, int port, Duration timeout) {
    int ms = (int) timeout.toMillis();
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(host, port), ms);
      s.setSoTimeout(ms);
      s.getOutputStream()
          .write(
              ("HEAD / HTTP/1.0\r\nHost: " + host + "\r\n\r\n")
                  .getBytes(StandardCharsets.US_ASCII));
      byte[] b = new byte[5];
      int n = s.getInputStream().readNBytes(b, 0, 5);
      String start = new String(b, 0, n, StandardCharsets.ISO_8859_1);
      return start.equals("HTTP/") ? statusLine(start, s.getInputStream()) : null;
    } catch (IOException e) {
      return null;
    }
  }
}
