package io.tributary.connector.socket.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.embedded.EmbeddedChannel;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ProducerRegistryTest {
  private static final Duration TIMEOUT = Duration.ofDays(7);

  private final AtomicLong clock = new AtomicLong(1_700_000_000_000L);
  private final ProducerRegistry registry = new ProducerRegistry(TIMEOUT, clock::get);

  private void advance(Duration d) {
    clock.addAndGet(d.toMillis());
  }

  @Test
  void idleProducerWithoutConnectionIsForgottenAfterTheTimeout() {
    EmbeddedChannel ch = new EmbeddedChannel();
    ProducerRegistry.Producer idle = registry.claim("idle", ch).producer();
    registry.stored(idle, 41);
    registry.release(idle, ch);

    advance(TIMEOUT.minusMillis(1));
    registry.claim("other", new EmbeddedChannel());
    assertThat(registry.size()).as("not idle long enough yet").isEqualTo(2);

    advance(Duration.ofMinutes(1));
    ProducerRegistry.Claim back = registry.claim("idle", new EmbeddedChannel());

    assertThat(back.producer()).isNotSameAs(idle);
    assertThat(back.producer().durable).as("nothing known of it any more").isEqualTo(-1);
    assertThat(back.previousOwner()).isNull();
  }

  @Test
  void connectedProducerOrOneWithAStoreInFlightIsKept() {
    EmbeddedChannel connected = new EmbeddedChannel();
    ProducerRegistry.Producer a = registry.claim("connected", connected).producer();
    registry.stored(a, 5);
    EmbeddedChannel gone = new EmbeddedChannel();
    ProducerRegistry.Producer b = registry.claim("storing", gone).producer();
    CompletableFuture<Void> inFlight = new CompletableFuture<>();
    synchronized (b) {
      b.tail = inFlight;
    }
    registry.release(b, gone);

    advance(TIMEOUT.multipliedBy(2));
    registry.claim("trigger", new EmbeddedChannel());

    assertThat(registry.claim("connected", new EmbeddedChannel()).producer()).isSameAs(a);
    assertThat(a.durable).isEqualTo(5);
    assertThat(registry.claim("storing", new EmbeddedChannel()).producer()).isSameAs(b);
  }

  @Test
  void manyShortLivedProducersDoNotAccumulate() {
    for (int i = 0; i < 5_000; i++) {
      EmbeddedChannel ch = new EmbeddedChannel();
      ProducerRegistry.Producer p = registry.claim("p-" + i, ch).producer();
      registry.stored(p, 0);
      registry.release(p, ch);
      advance(Duration.ofMinutes(5)); // one new producer every 5 minutes: 2016 per 7 days
    }

    assertThat(registry.size()).isLessThanOrEqualTo(2_016 + 12);
  }
}
