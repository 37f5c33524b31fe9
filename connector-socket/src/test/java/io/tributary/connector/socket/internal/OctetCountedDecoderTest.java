package io.tributary.connector.socket.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.tributary.connector.socket.SocketErrorReason;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class OctetCountedDecoderTest {
  private static List<Object> drain(EmbeddedChannel ch) {
    List<Object> out = new ArrayList<>();
    Object o;
    while ((o = ch.readInbound()) != null) {
      out.add(o);
    }
    return out;
  }

  private static String text(Object frame) {
    return new String(((Frame.Payload) frame).bytes(), StandardCharsets.UTF_8);
  }

  private static void write(EmbeddedChannel ch, String s) {
    ch.writeInbound(Unpooled.copiedBuffer(s, StandardCharsets.UTF_8));
  }

  @Test
  void messagesAcrossReadsKeepTheirNewlines() {
    EmbeddedChannel ch = new EmbeddedChannel(new OctetCountedFrameDecoder(64, null));
    write(ch, "5 hel");
    write(ch, "lo10 two\nlines!3 ab");
    write(ch, "c");
    assertThat(drain(ch))
        .extracting(OctetCountedDecoderTest::text)
        .containsExactly("hello", "two\nlines!", "abc");
    assertThat(ch.finish()).isFalse();
  }

  @Test
  void tooLongMessageIsSkippedAndFramingHolds() {
    EmbeddedChannel ch = new EmbeddedChannel(new OctetCountedFrameDecoder(4, null));
    write(ch, "6 abc");
    write(ch, "def2 ok");
    List<Object> out = drain(ch);
    assertThat(out).hasSize(2);
    assertThat(((Frame.Bad) out.get(0)).error().reason())
        .isEqualTo(SocketErrorReason.FRAME_TOO_LONG);
    assertThat(((Frame.Bad) out.get(0)).fatal()).isFalse();
    assertThat(text(out.get(1))).isEqualTo("ok");
  }

  @Test
  void aLineInsteadOfACountIsFatalAndLogsOnlyAPrintablePrefix() {
    EmbeddedChannel ch = new EmbeddedChannel(new OctetCountedFrameDecoder(64, null));
    write(ch, "<134>Dec  7 05:00:00 host app: a traditional line with secret payload\n");
    List<Object> out = drain(ch);
    assertThat(out).hasSize(1);
    Frame.Bad bad = (Frame.Bad) out.get(0);
    assertThat(bad.fatal()).isTrue();
    assertThat(bad.error().reason()).isEqualTo(SocketErrorReason.BAD_OCTET_COUNT);
    assertThat(bad.error().getMessage())
        .contains("bytes starting '<134>Dec  7 05:0'")
        .doesNotContain("secret");
    write(ch, "3 abc");
    assertThat(drain(ch)).as("nothing after the framing was lost").isEmpty();
  }

  @Test
  void leadingZeroAndTooManyDigitsAreRefused() {
    for (String bad : List.of("05 hello", "1234567890 x", " 5 hello")) {
      EmbeddedChannel ch = new EmbeddedChannel(new OctetCountedFrameDecoder(64, null));
      write(ch, bad);
      assertThat(drain(ch)).singleElement().isInstanceOf(Frame.Bad.class);
    }
  }

  @Test
  void incompleteMessageAtEndIsTruncated() {
    EmbeddedChannel ch = new EmbeddedChannel(new OctetCountedFrameDecoder(64, null));
    write(ch, "10 abc");
    ch.finish();
    assertThat(((Frame.Bad) ch.readInbound()).error().reason())
        .isEqualTo(SocketErrorReason.TRUNCATED_FRAME);
  }
}
