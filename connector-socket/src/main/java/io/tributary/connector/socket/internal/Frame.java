package io.tributary.connector.socket.internal;

import io.tributary.connector.socket.SocketProtocolException;
import java.util.List;

/**
 * What the decoders emit: decoded frames, or a description of bad input so that the handler can
 * count, log and act on it. No {@code ByteBuf} leaves a decoder: payloads are copied into arrays
 * (the record needs them anyway), so handlers never own buffers.
 */
public sealed interface Frame {
  /** A plain-mode record payload. */
  record Payload(byte[] bytes) implements Frame {}

  /**
   * Plain mode: consecutive lines decoded from one read, in order, as bounds into one array holding
   * the read's bytes (line {@code i} is {@code data[starts[i], ends[i])}); one message per read
   * instead of one per line, and one array instead of one per line. Nobody changes the arrays after
   * the decoder emits them.
   */
  record Lines(byte[] data, int[] starts, int[] ends, int count) implements Frame {
    /** The lines as separate arrays (copies; for tests and slow paths). */
    public List<byte[]> payloads() {
      List<byte[]> out = new java.util.ArrayList<>(count);
      for (int i = 0; i < count; i++) {
        out.add(java.util.Arrays.copyOfRange(data, starts[i], ends[i]));
      }
      return out;
    }
  }

  /** Reliable mode: the connection's HELLO. */
  record Hello(String producerId) implements Frame {}

  /** Reliable mode: a DATA frame. */
  record Data(long seq, byte[] payload) implements Frame {}

  /** Server to client frames (decoded by the Java client). */
  record Welcome(long lastStored) implements Frame {}

  record Ack(long seq) implements Frame {}

  record ErrorReply(int code, String message) implements Frame {}

  /**
   * Bad input. {@code fatal} means the byte stream cannot be resynchronised and the decoder now
   * discards everything: the handler must close the connection.
   */
  record Bad(SocketProtocolException error, boolean fatal) implements Frame {}
}
