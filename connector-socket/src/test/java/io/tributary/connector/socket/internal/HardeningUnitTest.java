package io.tributary.connector.socket.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.tributary.connector.socket.SocketErrorReason;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class HardeningUnitTest {
  @Test
  void rateLimitedLogWritesABurstPerWindowAndReportsWhatItLeftOut() {
    AtomicLong now = new AtomicLong(1_000);
    RateLimitedLog log = new RateLimitedLog(3, 10_000, now::get);
    assertThat(log.tryAcquire()).isZero();
    assertThat(log.tryAcquire()).isZero();
    assertThat(log.tryAcquire()).isZero();
    assertThat(log.tryAcquire()).isEqualTo(-1);
    assertThat(log.tryAcquire()).isEqualTo(-1);
    now.addAndGet(10_000);
    assertThat(log.tryAcquire()).as("left out in the last window").isEqualTo(2);
    assertThat(log.tryAcquire()).isZero();
  }

  @Test
  void printableShowsLengthAndAShortPrefixOnly() {
    byte[] hello = new byte[300];
    Arrays.fill(hello, (byte) 0x41);
    hello[0] = 0x16;
    hello[1] = 0x03;
    String s = Printable.describe(Unpooled.wrappedBuffer(hello), 0, hello.length);
    assertThat(s).isEqualTo("300 bytes starting '..AAAAAAAAAAAAAA'");
  }

  @Test
  void exceptionDetailsNeverCarryADumpOfClientBytes() {
    String dump = "474554202f20485454502f312e310d0a486f73743a206578616d706c652e636f6d0d0a";
    assertThat(
            Printable.describe(
                new io.netty.handler.codec.DecoderException(
                    new io.netty.handler.ssl.NotSslRecordException(
                        "not an SSL/TLS record: " + dump))))
        .startsWith("not a TLS record")
        .doesNotContain("4745");
    assertThat(Printable.describe(new java.io.IOException("bad bytes 0x" + dump + " here")))
        .isEqualTo("java.io.IOException: bad bytes <hex elided> here");
    assertThat(Printable.describe(new RuntimeException("x".repeat(1000)))).hasSize(303);
  }

  @Test
  void snifferRefusesAClientHelloAndPassesEverythingElse() {
    EmbeddedChannel tls = new EmbeddedChannel(new TlsSniffer(), new LineFrameDecoder(64, false));
    tls.writeInbound(Unpooled.wrappedBuffer(new byte[] {0x16}));
    assertThat((Object) tls.readInbound()).isNull();
    tls.writeInbound(Unpooled.wrappedBuffer(new byte[] {0x03, 0x01, 0x00, 0x05, '\n'}));
    Frame.Bad bad = tls.readInbound();
    assertThat(bad.fatal()).isTrue();
    assertThat(bad.error().reason()).isEqualTo(SocketErrorReason.TLS_ON_PLAIN_PORT);
    assertThat((Object) tls.readInbound()).as("no record of the handshake").isNull();
    tls.finishAndReleaseAll();

    EmbeddedChannel plain = new EmbeddedChannel(new TlsSniffer(), new LineFrameDecoder(64, false));
    plain.writeInbound(bytes("a"));
    plain.writeInbound(bytes("b\n"));
    Frame.Lines lines = plain.readInbound();
    assertThat(new String(lines.payloads().get(0), StandardCharsets.UTF_8)).isEqualTo("ab");
    assertThat(plain.pipeline().get(TlsSniffer.class)).isNull();

    EmbeddedChannel shortLine =
        new EmbeddedChannel(new TlsSniffer(), new LineFrameDecoder(64, false));
    shortLine.writeInbound(bytes("x\n"));
    assertThat((Object) shortLine.readInbound()).as("a 2-byte line is not held back").isNotNull();
  }

  @Test
  void decoderRefusesToGrowAPartialFrameBeyondTheBudgetButKeepsCompleteLines() {
    MemoryBudget budget = new MemoryBudget(200_000);
    EmbeddedChannel hog = new EmbeddedChannel(new LineFrameDecoder(1 << 20, false, budget));
    EmbeddedChannel normal = new EmbeddedChannel(new LineFrameDecoder(1 << 20, false, budget));
    normal.writeInbound(bytes("complete\npart"));
    Frame.Lines lines = normal.readInbound();
    assertThat(lines.count()).isEqualTo(1);
    byte[] chunk = new byte[40_000];
    Arrays.fill(chunk, (byte) 'x');
    Object out = null;
    int chunks = 0;
    while (out == null && chunks < 20) {
      hog.writeInbound(Unpooled.wrappedBuffer(chunk.clone()));
      chunks++;
      out = hog.readInbound();
    }
    assertThat(out).isInstanceOf(Frame.Bad.class);
    Frame.Bad bad = (Frame.Bad) out;
    assertThat(bad.error().reason()).isEqualTo(SocketErrorReason.MEMORY_BUDGET);
    assertThat(bad.fatal()).isTrue();
    assertThat(chunks * 40_000).as("refused soon after the budget").isLessThanOrEqualTo(280_000);
    hog.finishAndReleaseAll();
    normal.writeInbound(bytes("ial\n"));
    Frame.Lines rest = normal.readInbound();
    assertThat(new String(rest.payloads().get(0), StandardCharsets.UTF_8)).isEqualTo("partial");
    normal.finishAndReleaseAll();
    assertThat(budget.used()).as("every connection's bytes given back").isZero();
  }

  private static ByteBuf bytes(String s) {
    return Unpooled.copiedBuffer(s, StandardCharsets.UTF_8);
  }
}
