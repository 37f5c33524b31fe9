package io.tributary.connector.socket.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.tributary.core.api.Record;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class PlainIngestHandlerTest {
  /** Holds every store until the test completes it. */
  private static final class HeldStore implements RecordStore {
    final List<List<Record>> groups = new ArrayList<>();
    final List<CompletableFuture<Void>> futures = new ArrayList<>();

    @Override
    public CompletableFuture<Void> storeReliablyAsync(List<Record> batch) {
      CompletableFuture<Void> f = new CompletableFuture<>();
      groups.add(batch);
      futures.add(f);
      return f;
    }

    @Override
    public OptionalLong lastStoredOffset(String partition) {
      return OptionalLong.empty();
    }
  }

  private static byte[] lines(int from, int count, int pad) {
    StringBuilder sb = new StringBuilder();
    String p = "x".repeat(pad);
    for (int i = from; i < from + count; i++) {
      sb.append(i).append(' ').append(p).append('\n');
    }
    return sb.toString().getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void readsOnIntoOneNextGroupWhileGroupsAreInFlightAndPausesAtItsByteBound() {
    HeldStore store = new HeldStore();
    EmbeddedChannel ch =
        new EmbeddedChannel(
            new LineFrameDecoder(1 << 20, true),
            new PlainIngestHandler(
                store,
                new SocketMetrics(new SimpleMeterRegistry(), "p", "s", 1 << 20),
                "s",
                "0",
                new AtomicLong()));
    int perRead = 1000;
    int pad = 200; // ~205 KB per read
    int next = 0;
    // Four read bursts: four groups in flight, reading goes on.
    for (int i = 0; i < PlainIngestHandler.MAX_IN_FLIGHT; i++) {
      ch.writeInbound(Unpooled.wrappedBuffer(lines(next, perRead, pad)));
      next += perRead;
    }
    assertThat(store.groups).hasSize(PlainIngestHandler.MAX_IN_FLIGHT);
    assertThat(ch.config().isAutoRead()).isTrue();
    // Further bursts wait in the next group (no fifth store) until it holds MAX_PENDING_BYTES.
    long pendingBytes = 0;
    int bursts = 0;
    while (pendingBytes < PlainIngestHandler.MAX_PENDING_BYTES) {
      assertThat(ch.config().isAutoRead()).as("reading before the bound").isTrue();
      byte[] read = lines(next, perRead, pad);
      ch.writeInbound(Unpooled.wrappedBuffer(read));
      pendingBytes += read.length;
      next += perRead;
      bursts++;
    }
    assertThat(bursts).isGreaterThan(1);
    assertThat(store.groups).hasSize(PlainIngestHandler.MAX_IN_FLIGHT);
    assertThat(ch.config().isAutoRead()).as("paused at the bound").isFalse();

    // One store completes: everything read meanwhile goes as one group, and reading resumes.
    store.futures.get(0).complete(null);
    ch.runPendingTasks();
    assertThat(store.groups).hasSize(PlainIngestHandler.MAX_IN_FLIGHT + 1);
    assertThat(store.groups.get(PlainIngestHandler.MAX_IN_FLIGHT)).hasSize(bursts * perRead);
    assertThat(ch.config().isAutoRead()).isTrue();

    // Every line stored once, in order, with consecutive offsets.
    store.futures.forEach(f -> f.complete(null));
    ch.runPendingTasks();
    List<Record> all = new ArrayList<>();
    store.groups.forEach(all::addAll);
    assertThat(all).hasSize(next);
    for (int i = 0; i < next; i++) {
      Record r = all.get(i);
      assertThat(r.valueAsString()).startsWith(i + " ");
      assertThat(r.position().offset()).isEqualTo(i);
    }
    assertThat(ch.config().isAutoRead()).isTrue();
    ch.finishAndReleaseAll();
  }
}
