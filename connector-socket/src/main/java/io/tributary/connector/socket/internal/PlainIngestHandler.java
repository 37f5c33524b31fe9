package io.tributary.connector.socket.internal;

import io.netty.channel.ChannelHandlerContext;
import io.tributary.connector.socket.SocketErrorReason;
import io.tributary.core.api.ReceiverStoppedException;
import io.tributary.core.api.Record;
import io.tributary.core.api.SourcePosition;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Plain mode: turns each decoded frame into a {@link Record} and stores the frames of one read
 * burst as one group with {@code storeReliablyAsync}, so the write-ahead log gets them, without
 * acknowledging anything to the peer.
 *
 * <p>Backpressure: at most one group per connection is being stored; while it is, the channel's
 * autoRead is off, so the kernel's receive buffer fills and TCP flow control slows the sender. The
 * event loop never blocks.
 *
 * <p>Thread safety: one instance per channel; all state is touched on the channel's event loop only
 * (store completions hop back onto it).
 */
public final class PlainIngestHandler extends ConnectionHandler {
  /** Header carrying the peer's address ({@code ip:port}) on every record. */
  public static final String REMOTE_HEADER = "remote";

  private final RecordStore store;
  private final String source;
  private final String partition;
  private final AtomicLong offsets;
  private List<Record> pending = new ArrayList<>();

  /**
   * Groups handed to the runtime and not yet stored. Up to {@link #MAX_IN_FLIGHT} overlap, so
   * reading and decoding the next burst goes on while the WAL syncs the previous one; at the limit,
   * reads pause (backpressure).
   */
  private int inFlight;

  public static final int MAX_IN_FLIGHT = 4;
  private byte[] remote;

  /**
   * One immutable header map per connection, shared by its records (Record keeps Map.of maps
   * without copying).
   */
  private Map<String, byte[]> headers = Map.of(REMOTE_HEADER, new byte[0]);

  private ChannelHandlerContext ctx;

  /**
   * @param offsets shared counter of the receiver: the next offset within {@code partition}
   */
  public PlainIngestHandler(
      RecordStore store,
      SocketMetrics metrics,
      String source,
      String partition,
      AtomicLong offsets) {
    super(metrics);
    this.store = store;
    this.source = source;
    this.partition = partition;
    this.offsets = offsets;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) throws Exception {
    remote =
        String.valueOf(ctx.channel().remoteAddress())
            .replaceFirst("^/", "")
            .getBytes(StandardCharsets.UTF_8);
    headers = Map.of(REMOTE_HEADER, remote);
    super.channelActive(ctx);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof Frame.Lines lines) {
      List<byte[]> payloads = lines.payloads();
      int n = payloads.size();
      long offset = offsets.getAndAdd(n); // one reservation for the whole read
      long now = System.currentTimeMillis();
      for (int i = 0; i < n; i++) {
        pending.add(
            new Record(
                null,
                payloads.get(i),
                now,
                headers,
                new SourcePosition(source, partition, offset + i)));
      }
    } else if (msg instanceof Frame.Payload p) {
      pending.add(
          new Record(
              null,
              p.bytes(),
              System.currentTimeMillis(),
              headers,
              new SourcePosition(source, partition, offsets.getAndIncrement())));
    } else if (msg instanceof Frame.Bad bad) {
      metrics.reject(
          bad.error(),
          ctx.channel().remoteAddress(),
          bad.fatal() ? "connection closed" : "frame dropped");
      if (bad.fatal()) {
        ctx.close();
      }
    } else {
      ctx.fireChannelRead(msg);
    }
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    if (inFlight < MAX_IN_FLIGHT && !pending.isEmpty()) {
      storePending();
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    // Frames fully received before the peer closed are still stored.
    if (inFlight < MAX_IN_FLIGHT && !pending.isEmpty()) {
      storePending();
    }
    super.channelInactive(ctx);
  }

  private void storePending() {
    List<Record> batch = pending;
    pending =
        new ArrayList<>(batch.size()); // the next read is likely as large: no regrowth from 10
    inFlight++;
    if (inFlight >= MAX_IN_FLIGHT) {
      ctx.channel().config().setAutoRead(false);
    }
    CompletableFuture<Void> f = store.storeReliablyAsync(batch);
    f.whenComplete((v, e) -> Loops.run(ctx.executor(), () -> onStored(batch.size(), e)));
  }

  private void onStored(int count, Throwable error) {
    inFlight--;
    if (error != null) {
      Throwable cause = Loops.unwrap(error);
      if (cause instanceof ReceiverStoppedException) {
        LOG.debug("event=store_refused source={} reason=receiver_stopped", source);
      } else {
        metrics.reject(
            SocketErrorReason.STORE_FAILED,
            ctx.channel().remoteAddress(),
            "connection closed; " + count + " records lost",
            String.valueOf(cause));
      }
      pending.clear();
      ctx.close();
      return;
    }
    metrics.records(count);
    if (!pending.isEmpty()) {
      storePending();
    } else if (ctx.channel().isActive() && inFlight < MAX_IN_FLIGHT) {
      ctx.channel().config().setAutoRead(true);
    }
  }
}
