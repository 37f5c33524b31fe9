package io.tributary.connector.socket.internal;

import io.tributary.connector.socket.SocketOptions.SyslogFormat;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Reads the header fields of a syslog message (RFC 5424, or the BSD format of RFC 3164 that
 * rsyslog's and syslog-ng's traditional forwarding formats produce) into record headers named
 * {@code syslog.*}. The record's value stays the whole message as received: parsing adds headers,
 * it never drops bytes.
 *
 * <p>Headers: {@code syslog.facility}, {@code syslog.severity} (decimal), {@code syslog.version}
 * (5424), {@code syslog.timestamp} (as sent), {@code syslog.hostname}, {@code syslog.app-name} (the
 * 3164 tag), {@code syslog.procid}, {@code syslog.msgid} (5424), {@code syslog.structured-data}
 * (5424, as sent) and {@code syslog.message} (the free-form part). RFC 5424's nil value {@code -}
 * gives no header.
 *
 * <p>Thread safety: stateless.
 */
public final class SyslogParser {
  private static final String[] MONTHS = {
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
  };

  private SyslogParser() {}

  /**
   * The headers of {@code a[from, to)}, or {@code null} when it does not start with a valid {@code
   * <PRI>} (or, for {@code RFC5424}, is not a valid RFC 5424 header).
   */
  public static Map<String, byte[]> parse(SyslogFormat format, byte[] a, int from, int to) {
    if (from >= to || a[from] != '<') {
      return null;
    }
    int i = from + 1;
    int pri = 0;
    int digits = 0;
    while (i < to && a[i] >= '0' && a[i] <= '9' && digits < 3) {
      pri = pri * 10 + (a[i] - '0');
      i++;
      digits++;
    }
    if (digits == 0 || i >= to || a[i] != '>' || pri > 191 || (digits > 1 && a[from + 1] == '0')) {
      return null;
    }
    i++;
    Map<String, byte[]> h = new HashMap<>();
    h.put("syslog.facility", ascii(Integer.toString(pri >> 3)));
    h.put("syslog.severity", ascii(Integer.toString(pri & 7)));
    boolean is5424 =
        i + 1 < to && a[i] >= '1' && a[i] <= '9' && (a[i + 1] == ' ' || isDigit(a, i + 1));
    return switch (format) {
      case RFC5424 -> is5424 ? rfc5424(h, a, i, to) : null;
      case RFC3164 -> rfc3164(h, a, i, to);
      case AUTO -> is5424 ? orElse(rfc5424(h, a, i, to), h, a, i, to) : rfc3164(h, a, i, to);
      case NONE -> null;
    };
  }

  private static Map<String, byte[]> orElse(
      Map<String, byte[]> parsed, Map<String, byte[]> h, byte[] a, int i, int to) {
    return parsed != null ? parsed : rfc3164(h, a, i, to);
  }

  private static boolean isDigit(byte[] a, int i) {
    return a[i] >= '0' && a[i] <= '9';
  }

  /** VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP SD [SP MSG]. */
  private static Map<String, byte[]> rfc5424(Map<String, byte[]> h, byte[] a, int i, int to) {
    String[] names = {
      "syslog.version",
      "syslog.timestamp",
      "syslog.hostname",
      "syslog.app-name",
      "syslog.procid",
      "syslog.msgid"
    };
    Map<String, byte[]> out = new HashMap<>(h);
    for (String name : names) {
      int sp = indexOf(a, i, to, (byte) ' ');
      if (sp < 0 || sp == i) {
        return null;
      }
      if (!(sp - i == 1 && a[i] == '-')) {
        out.put(name, Arrays.copyOfRange(a, i, sp));
      }
      i = sp + 1;
    }
    if (i >= to) {
      return null;
    }
    int sdEnd;
    if (a[i] == '-') {
      sdEnd = i + 1;
    } else if (a[i] == '[') {
      sdEnd = structuredDataEnd(a, i, to);
      if (sdEnd < 0) {
        return null;
      }
      out.put("syslog.structured-data", Arrays.copyOfRange(a, i, sdEnd));
    } else {
      return null;
    }
    if (sdEnd < to) {
      if (a[sdEnd] != ' ') {
        return null;
      }
      int msg = sdEnd + 1;
      // A UTF-8 BOM may precede MSG (RFC 5424 6.4).
      if (to - msg >= 3
          && a[msg] == (byte) 0xEF
          && a[msg + 1] == (byte) 0xBB
          && a[msg + 2] == (byte) 0xBF) {
        msg += 3;
      }
      out.put("syslog.message", message(a, msg, to));
    }
    return out;
  }

  /** One or more {@code [id param="value" ...]}; quoted values may hold escaped {@code " \ ]}. */
  private static int structuredDataEnd(byte[] a, int i, int to) {
    while (i < to && a[i] == '[') {
      boolean quoted = false;
      i++;
      while (true) {
        if (i >= to) {
          return -1;
        }
        byte b = a[i];
        if (quoted && b == '\\') {
          i += 2;
          continue;
        }
        if (b == '"') {
          quoted = !quoted;
        } else if (b == ']' && !quoted) {
          i++;
          break;
        }
        i++;
      }
    }
    return i;
  }

  /**
   * {@code Mmm dd hh:mm:ss SP HOSTNAME SP TAG[PID]: MSG}; without a valid timestamp the rest is the
   * message (RFC 3164 4.3.3).
   */
  private static Map<String, byte[]> rfc3164(Map<String, byte[]> h, byte[] a, int i, int to) {
    Map<String, byte[]> out = new HashMap<>(h);
    if (!timestamp3164(a, i, to)) {
      out.put("syslog.message", message(a, i, to));
      return out;
    }
    out.put("syslog.timestamp", Arrays.copyOfRange(a, i, i + 15));
    i += 16;
    int sp = indexOf(a, i, to, (byte) ' ');
    if (sp <= i) {
      out.put("syslog.message", message(a, i, to));
      return out;
    }
    out.put("syslog.hostname", Arrays.copyOfRange(a, i, sp));
    i = sp + 1;
    int t = i;
    while (t < to && t - i < 48 && a[t] != '[' && a[t] != ':' && a[t] != ' ') {
      t++;
    }
    if (t > i && t < to && (a[t] == '[' || a[t] == ':')) {
      out.put("syslog.app-name", Arrays.copyOfRange(a, i, t));
      if (a[t] == '[') {
        int close = indexOf(a, t, to, (byte) ']');
        if (close > t + 1) {
          out.put("syslog.procid", Arrays.copyOfRange(a, t + 1, close));
          t = close + 1;
        }
      }
      if (t < to && a[t] == ':') {
        t++;
      }
      if (t < to && a[t] == ' ') {
        t++;
      }
      i = t;
    }
    out.put("syslog.message", message(a, i, to));
    return out;
  }

  /**
   * The free-form part without trailing line ends: rsyslog's forwarding templates end every message
   * in {@code \n}, also inside an octet-counted frame.
   */
  private static byte[] message(byte[] a, int from, int to) {
    while (to > from && (a[to - 1] == '\n' || a[to - 1] == '\r')) {
      to--;
    }
    return Arrays.copyOfRange(a, from, to);
  }

  private static boolean timestamp3164(byte[] a, int i, int to) {
    if (to - i < 16 || a[i + 15] != ' ') {
      return false;
    }
    String month = new String(a, i, 3, StandardCharsets.US_ASCII);
    if (!Arrays.asList(MONTHS).contains(month) || a[i + 3] != ' ') {
      return false;
    }
    return (a[i + 4] == ' ' || isDigit(a, i + 4))
        && isDigit(a, i + 5)
        && a[i + 6] == ' '
        && isDigit(a, i + 7)
        && isDigit(a, i + 8)
        && a[i + 9] == ':'
        && isDigit(a, i + 10)
        && isDigit(a, i + 11)
        && a[i + 12] == ':'
        && isDigit(a, i + 13)
        && isDigit(a, i + 14);
  }

  private static int indexOf(byte[] a, int from, int to, byte b) {
    for (int i = from; i < to; i++) {
      if (a[i] == b) {
        return i;
      }
    }
    return -1;
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }
}
