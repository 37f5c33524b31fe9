package io.tributary.connector.socket.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * UTF-8 validation of a byte array with an ASCII fast path: 8 bytes per step while no byte has its
 * high bit set, then a byte-wise check of the rest (well-formed sequences per RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF), the same rules as Netty's {@code
 * ByteBufUtil.isText(..., UTF_8)}.
 *
 * <p>Thread safety: stateless.
 */
final class Utf8 {
  private static final VarHandle LONGS =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
  private static final long HIGH_BITS = 0x8080808080808080L;

  private Utf8() {}

  static boolean isValid(byte[] b) {
    return isValid(b, 0, b.length);
  }

  /** Whether {@code b[from, to)} contains only ASCII bytes (8 per step). */
  static boolean isAscii(byte[] b, int from, int to) {
    int i = from;
    long any = 0;
    for (; i + 8 <= to; i += 8) {
      any |= (long) LONGS.get(b, i);
    }
    for (; i < to; i++) {
      any |= b[i];
    }
    return (any & HIGH_BITS) == 0;
  }

  /** Whether {@code b[from, to)} is well-formed UTF-8. */
  static boolean isValid(byte[] b, int from, int to) {
    int i = from;
    int n = to;
    for (; i + 8 <= n; i += 8) {
      if (((long) LONGS.get(b, i) & HIGH_BITS) != 0) {
        break;
      }
    }
    while (i < n) {
      int c = b[i] & 0xFF;
      if (c < 0x80) {
        i++;
        continue;
      }
      if (c < 0xC2) {
        return false; // continuation byte without a lead, or an overlong 2-byte form
      }
      if (c < 0xE0) {
        if (i + 1 >= n || !continuation(b[i + 1])) {
          return false;
        }
        i += 2;
      } else if (c < 0xF0) {
        if (i + 2 >= n || !continuation(b[i + 1]) || !continuation(b[i + 2])) {
          return false;
        }
        int c1 = b[i + 1] & 0xFF;
        if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 > 0x9F)) {
          return false; // overlong 3-byte form, or a UTF-16 surrogate
        }
        i += 3;
      } else if (c < 0xF5) {
        if (i + 3 >= n
            || !continuation(b[i + 1])
            || !continuation(b[i + 2])
            || !continuation(b[i + 3])) {
          return false;
        }
        int c1 = b[i + 1] & 0xFF;
        if ((c == 0xF0 && c1 < 0x90) || (c == 0xF4 && c1 > 0x8F)) {
          return false; // overlong 4-byte form, or above U+10FFFF
        }
        i += 4;
      } else {
        return false;
      }
    }
    return true;
  }

  private static boolean continuation(byte b) {
    return (b & 0xC0) == 0x80;
  }
}
