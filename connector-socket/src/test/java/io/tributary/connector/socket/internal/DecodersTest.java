package io.tributary.connector.socket.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.tributary.connector.socket.SocketErrorReason;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class DecodersTest {
  private static ByteBuf bytes(String s) {
    return Unpooled.copiedBuffer(s, StandardCharsets.UTF_8);
  }

  /**
   * The frames read, with the lines of each {@link Frame.Lines} as one {@link Frame.Payload} each,
   * in order.
   */
  private static List<Object> drain(EmbeddedChannel ch) {
    List<Object> out = new ArrayList<>();
    Object o;
    while ((o = ch.readInbound()) != null) {
      if (o instanceof Frame.Lines lines) {
        lines.payloads().forEach(b -> out.add(new Frame.Payload(b)));
      } else {
        out.add(o);
      }
    }
    return out;
  }

  private static String text(Object frame) {
    return new String(((Frame.Payload) frame).bytes(), StandardCharsets.UTF_8);
  }

  @Test
  void linesAcrossReadsWithCrLfAndEmptyLines() {
    EmbeddedChannel ch = new EmbeddedChannel(new LineFrameDecoder(16, true));
    ch.writeInbound(bytes("ab"), bytes("c\r\n\nd"), bytes("e\n"));
    List<Object> out = drain(ch);
    assertThat(out).extracting(DecodersTest::text).containsExactly("abc", "", "de");
    assertThat(ch.finish()).isFalse();
  }

  @Test
  void linesOfOneReadAreOneMessageAndABadLineSplitsThemInOrder() {
    EmbeddedChannel ch = new EmbeddedChannel(new LineFrameDecoder(4, true));
    ch.writeInbound(bytes("a\nb\ntoolong\nc\n"));
    List<Object> raw = new ArrayList<>();
    Object o;
    while ((o = ch.readInbound()) != null) {
      raw.add(o);
    }
    assertThat(raw).hasSize(3);
    assertThat(((Frame.Lines) raw.get(0)).payloads())
        .extracting(b -> new String(b, StandardCharsets.UTF_8))
        .containsExactly("a", "b");
    assertThat(((Frame.Bad) raw.get(1)).error().reason())
        .isEqualTo(SocketErrorReason.FRAME_TOO_LONG);
    assertThat(((Frame.Lines) raw.get(2)).payloads())
        .extracting(b -> new String(b, StandardCharsets.UTF_8))
        .containsExactly("c");
    assertThat(ch.finish()).isFalse();
  }

  @Test
  void overlongLineIsReportedOnceAndSkippedToItsNewline() {
    EmbeddedChannel ch = new EmbeddedChannel(new LineFrameDecoder(4, true));
    ch.writeInbound(bytes("ok\n123456"), bytes("7890"), bytes("abc\nnext\n"));
    List<Object> out = drain(ch);
    assertThat(out).hasSize(3);
    assertThat(text(out.get(0))).isEqualTo("ok");
    assertThat(((Frame.Bad) out.get(1)).error().reason())
        .isEqualTo(SocketErrorReason.FRAME_TOO_LONG);
    assertThat(((Frame.Bad) out.get(1)).fatal()).isFalse();
    assertThat(text(out.get(2))).isEqualTo("next");
  }

  @Test
  void overlongLineFollowedByLinesInTheSameBufferKeepsThem() {
    EmbeddedChannel ch = new EmbeddedChannel(new LineFrameDecoder(4, true));
    ch.writeInbound(bytes("a\n" + "x".repeat(50) + "\nb\nc\n"));
    List<Object> out = drain(ch);
    assertThat(out).hasSize(4);
    assertThat(text(out.get(0))).isEqualTo("a");
    assertThat(out.get(1)).isInstanceOf(Frame.Bad.class);
    assertThat(text(out.get(2))).isEqualTo("b");
    assertThat(text(out.get(3))).isEqualTo("c");
  }

  @Test
  void lineOfExactlyMaxBytesWithCrLfIsAccepted() {
    EmbeddedChannel ch = new EmbeddedChannel(new LineFrameDecoder(4, true));
    ch.writeInbound(bytes("abcd\r"), bytes("\nabcde\n"));
    List<Object> out = drain(ch);
    assertThat(text(out.get(0))).isEqualTo("abcd");
    assertThat(((Frame.Bad) out.get(1)).error().reason())
        .isEqualTo(SocketErrorReason.FRAME_TOO_LONG);
  }

  @Test
  void invalidUtf8LineIsDroppedAndTruncatedTailReportedAtClose() {
    EmbeddedChannel ch = new EmbeddedChannel(new LineFrameDecoder(64, true));
    ch.writeInbound(
        Unpooled.wrappedBuffer(new byte[] {'a', (byte) 0xC3, '\n', 'o', 'k', '\n', 'p', 'a'}));
    List<Object> out = drain(ch);
    assertThat(((Frame.Bad) out.get(0)).error().reason()).isEqualTo(SocketErrorReason.INVALID_UTF8);
    assertThat(text(out.get(1))).isEqualTo("ok");
    ch.finish();
    List<Object> last = drain(ch);
    assertThat(last)
        .singleElement()
        .satisfies(
            b ->
                assertThat(((Frame.Bad) b).error().reason())
                    .isEqualTo(SocketErrorReason.TRUNCATED_FRAME));
  }

  @Test
  void newlineSearchFindsTheFirstNewlineAtEveryAlignment() {
    java.util.Random random = new java.util.Random(7);
    for (int round = 0; round < 2_000; round++) {
      byte[] a = new byte[random.nextInt(40)];
      for (int i = 0; i < a.length; i++) {
        int pick = random.nextInt(12);
        a[i] = pick == 0 ? (byte) '\n' : pick == 1 ? (byte) 0x8A : (byte) (random.nextInt(256));
      }
      int from = a.length == 0 ? 0 : random.nextInt(a.length);
      int naive = -1;
      for (int i = from; i < a.length; i++) {
        if (a[i] == '\n') {
          naive = i;
          break;
        }
      }
      assertThat(LineFrameDecoder.indexOfNewline(a, from)).isEqualTo(naive);
    }
  }

  @Test
  void manyReadsOfMixedLinesGiveEveryGoodLineInOrderAndReportEachBadOne() {
    java.util.Random random = new java.util.Random(11);
    StringBuilder text = new StringBuilder();
    List<String> good = new ArrayList<>();
    int bad = 0;
    for (int i = 0; i < 3_000; i++) {
      int kind = random.nextInt(20);
      if (kind == 0) {
        text.append("x".repeat(40)).append('\n'); // too long
        bad++;
      } else if (kind == 1) {
        text.append("ü-").append(i).append("\r\n");
        good.add("ü-" + i);
      } else {
        String line = "line-" + i + "-" + "y".repeat(random.nextInt(20));
        text.append(line).append('\n');
        good.add(line);
      }
    }
    byte[] all = text.toString().getBytes(StandardCharsets.UTF_8);
    EmbeddedChannel ch = new EmbeddedChannel(new LineFrameDecoder(32, true));
    List<Object> out = new ArrayList<>();
    for (int pos = 0; pos < all.length; ) {
      int n = Math.min(all.length - pos, 1 + random.nextInt(700)); // reads cut lines anywhere
      ch.writeInbound(Unpooled.wrappedBuffer(all, pos, n));
      pos += n;
      out.addAll(drain(ch));
    }
    assertThat(ch.finish()).isFalse();
    assertThat(out.stream().filter(o -> o instanceof Frame.Payload).map(DecodersTest::text))
        .containsExactlyElementsOf(good);
    assertThat(out.stream().filter(o -> o instanceof Frame.Bad)).hasSize(bad);
  }

  @Test
  void lengthPrefixedFramesAndFatalOversizePrefix() {
    EmbeddedChannel ch = new EmbeddedChannel(new LengthPrefixedFrameDecoder(8));
    ByteBuf in = Unpooled.buffer();
    in.writeInt(3)
        .writeBytes("abc".getBytes(StandardCharsets.UTF_8))
        .writeInt(0)
        .writeInt(9)
        .writeBytes(new byte[9]);
    ch.writeInbound(in);
    List<Object> out = drain(ch);
    assertThat(text(out.get(0))).isEqualTo("abc");
    assertThat(text(out.get(1))).isEmpty();
    assertThat(((Frame.Bad) out.get(2)).fatal()).isTrue();
    ch.writeInbound(Unpooled.buffer().writeInt(1).writeByte('x'));
    assertThat(drain(ch)).as("nothing is decoded after a fatal error").isEmpty();
    ch.finish();
  }

  @Test
  void reliableDecoderRejectsBadMagicAndUnknownFrameTypes() {
    EmbeddedChannel bad = new EmbeddedChannel(new ReliableFrameDecoder(64));
    bad.writeInbound(bytes("GET / HTTP/1.1\r\n"));
    assertThat(((Frame.Bad) drain(bad).get(0)).error().reason())
        .isEqualTo(SocketErrorReason.BAD_MAGIC);

    EmbeddedChannel ch = new EmbeddedChannel(new ReliableFrameDecoder(64));
    ByteBuf in = Protocol.hello(Unpooled.buffer().alloc(), "p");
    ch.writeInbound(
        in,
        Protocol.data(Unpooled.buffer().alloc(), 0, "x".getBytes(StandardCharsets.UTF_8)),
        Unpooled.wrappedBuffer(new byte[] {0x42}));
    List<Object> out = drain(ch);
    assertThat(out.get(0)).isEqualTo(new Frame.Hello("p"));
    assertThat(((Frame.Data) out.get(1)).seq()).isZero();
    assertThat(((Frame.Bad) out.get(2)).error().reason())
        .isEqualTo(SocketErrorReason.PROTOCOL_ERROR);
    ch.finish();
  }
}
