package io.tributary.connector.socket.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.tributary.connector.socket.SocketErrorReason;
import java.nio.charset.StandardCharsets;

/**
 * Constants and encoders of the TRB1 reliable protocol (byte-level spec in the module README). All
 * integers are big-endian.
 *
 * <p>Thread safety: stateless.
 */
public final class Protocol {
  /** First four bytes of a HELLO: ASCII {@code TRB1}. */
  public static final int MAGIC = ('T' << 24) | ('R' << 16) | ('B' << 8) | '1';

  public static final int MAX_PRODUCER_ID_BYTES = 255;

  /** Client to server: a record. */
  public static final byte DATA = 0x01;

  /** Server to client: the last sequence number stored for the producer. */
  public static final byte WELCOME = (byte) 0x81;

  /** Server to client: every sequence number up to this one is durable. */
  public static final byte ACK = (byte) 0x82;

  /** Server to client: an error code and message; the server then closes the connection. */
  public static final byte ERROR = (byte) 0x83;

  /** Bytes of a DATA header: type, seq, length. */
  public static final int DATA_HEADER_BYTES = 1 + 8 + 4;

  private Protocol() {}

  public static ByteBuf hello(ByteBufAllocator alloc, String producerId) {
    byte[] id = producerId.getBytes(StandardCharsets.UTF_8);
    ByteBuf b = alloc.buffer(4 + 2 + id.length);
    b.writeInt(MAGIC).writeShort(id.length).writeBytes(id);
    return b;
  }

  public static ByteBuf data(ByteBufAllocator alloc, long seq, byte[] payload) {
    ByteBuf b = alloc.buffer(DATA_HEADER_BYTES + payload.length);
    b.writeByte(DATA).writeLong(seq).writeInt(payload.length).writeBytes(payload);
    return b;
  }

  public static ByteBuf welcome(ByteBufAllocator alloc, long lastStored) {
    return alloc.buffer(9).writeByte(WELCOME).writeLong(lastStored);
  }

  public static ByteBuf ack(ByteBufAllocator alloc, long seq) {
    return alloc.buffer(9).writeByte(ACK).writeLong(seq);
  }

  public static ByteBuf error(ByteBufAllocator alloc, SocketErrorReason reason, String message) {
    byte[] m = message.getBytes(StandardCharsets.UTF_8);
    int len = Math.min(m.length, 0xFFFF);
    ByteBuf b = alloc.buffer(1 + 2 + 2 + len);
    b.writeByte(ERROR).writeShort(reason.code()).writeShort(len).writeBytes(m, 0, len);
    return b;
  }
}
