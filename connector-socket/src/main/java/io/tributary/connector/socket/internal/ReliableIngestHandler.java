package io.tributary.connector.socket.internal;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.tributary.connector.socket.ProtocolViolationException;
import io.tributary.connector.socket.SocketErrorReason;
import io.tributary.connector.socket.SocketProtocolException;
import io.tributary.core.api.Record;
import io.tributary.core.api.SourcePosition;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Server side of the TRB1 reliable protocol (spec in the module README).
 *
 * <ul>
 *   <li>HELLO: takes ownership of the producer id (closing an older connection that had it), waits
 *       until that producer's store in flight finished, then answers WELCOME with the highest
 *       durable seq: the max of what this server saw become durable and the runtime's {@code
 *       lastStoredOffset(producerId)} (which survives restarts).
 *   <li>DATA: seq {@code <=} last accepted: duplicate, dropped and counted (acknowledged by the
 *       next ACK); seq {@code ==} last accepted + 1: accepted; larger: sequence gap, ERROR and
 *       close. After WELCOME(-1) (a producer the server knows nothing of, for example one forgotten
 *       after {@code reliable.producer-idle-timeout}) the first DATA may carry any seq: it starts
 *       the sequence.
 *   <li>The accepted frames of one read burst are one {@code storeReliablyAsync} group; ACK(max seq
 *       of the group) is sent only once that group is durable. At most one group per connection is
 *       in flight; while it is, autoRead is off (backpressure through TCP).
 * </ul>
 *
 * <p>Thread safety: one instance per channel; its fields are touched on the channel's event loop
 * only. Shared per-producer state is guarded by the producer's monitor.
 */
public final class ReliableIngestHandler extends ConnectionHandler {
  private final RecordStore store;
  private final ProducerRegistry registry;
  private final String source;
  private ChannelHandlerContext ctx;
  private ProducerRegistry.Producer producer;
  private boolean welcomed;
  private final List<Frame.Data> early = new ArrayList<>();
  private long lastAccepted;
  private long lastAcked;
  private List<Record> pending = new ArrayList<>();
  private boolean inFlight;
  private boolean ackDue;
  private boolean closing;

  /** The peer ended TLS with close_notify: close once what it sent is stored and acknowledged. */
  private boolean peerClosed;

  /**
   * Welcomed with -1 (nothing known of the producer) and no DATA accepted yet: the first DATA sets
   * the sequence.
   */
  private boolean startsSequence;

  ReliableIngestHandler(
      RecordStore store, SocketMetrics metrics, ProducerRegistry registry, String source) {
    super(metrics);
    this.store = store;
    this.registry = registry;
    this.source = source;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (closing) {
      return;
    }
    if (msg instanceof Frame.Hello h) {
      onHello(h.producerId());
    } else if (msg instanceof Frame.Data d) {
      if (welcomed) {
        onData(d);
      } else {
        early.add(d);
      }
    } else if (msg instanceof Frame.Bad bad) {
      if (bad.error().reason() == SocketErrorReason.TLS_ON_PLAIN_PORT) {
        // The peer speaks TLS: an ERROR frame would be garbage to it.
        metrics.reject(bad.error(), ctx.channel().remoteAddress(), "connection closed");
        closing = true;
        ctx.close();
      } else if (bad.fatal()) {
        fail(bad.error());
      } else {
        metrics.reject(
            bad.error(), ctx.channel().remoteAddress(), "frame dropped (not acknowledged)");
      }
    } else {
      ctx.fireChannelRead(msg);
    }
  }

  private void onHello(String producerId) {
    Channel ch = ctx.channel();
    ProducerRegistry.Claim claim = registry.claim(producerId, ch);
    ProducerRegistry.Producer p = claim.producer();
    Channel previous = claim.previousOwner();
    CompletableFuture<Void> tail = claim.tail();
    producer = p;
    if (previous != null && previous != ch && previous.isActive()) {
      LOG.info(
          "event=producer_reconnected {} producer={} old={} new={}",
          metrics.logContext(),
          producerId,
          previous.remoteAddress(),
          ch.remoteAddress());
      metrics.count(SocketErrorReason.REPLACED);
      previous
          .writeAndFlush(
              Protocol.error(
                  previous.alloc(),
                  SocketErrorReason.REPLACED,
                  "A newer connection with producer id " + producerId + " replaced this one"))
          .addListener(ChannelFutureListener.CLOSE);
    }
    ch.config().setAutoRead(false);
    tail.whenComplete((v, e) -> Loops.run(ctx.executor(), () -> sendWelcome(p)));
  }

  private void sendWelcome(ProducerRegistry.Producer p) {
    Channel ch = ctx.channel();
    if (closing || !ch.isActive()) {
      return;
    }
    long fromRuntime = store.lastStoredOffset(p.id).orElse(-1L);
    long last;
    synchronized (p) {
      if (p.owner != ch) {
        // A newer connection claimed the producer id between this HELLO's claim and its welcome.
        // The newer connection's onHello also sends REPLACED, but as a task on this loop that runs
        // after us: a bare close here would reach the client first, without the documented error.
        metrics.count(SocketErrorReason.REPLACED);
        closing = true;
        ch.writeAndFlush(
                Protocol.error(
                    ch.alloc(),
                    SocketErrorReason.REPLACED,
                    "A newer connection with producer id " + p.id + " replaced this one"))
            .addListener(ChannelFutureListener.CLOSE);
        return;
      }
      p.durable = Math.max(p.durable, fromRuntime);
      last = p.durable;
    }
    lastAccepted = last;
    lastAcked = last;
    startsSequence = last < 0;
    welcomed = true;
    LOG.debug(
        "event=welcome {} producer={} remote={} last_stored={}",
        metrics.logContext(),
        p.id,
        ch.remoteAddress(),
        last);
    ch.writeAndFlush(Protocol.welcome(ch.alloc(), last));
    for (Frame.Data d : early) {
      if (closing) {
        break;
      }
      onData(d);
    }
    early.clear();
    if (!closing) {
      afterReadBurst();
    }
  }

  private void onData(Frame.Data d) {
    long seq = d.seq();
    if (startsSequence) {
      // A new producer, or one forgotten after reliable.producer-idle-timeout: it continues its own
      // numbering.
      startsSequence = false;
      if (seq > 0) {
        LOG.info(
            "event=producer_sequence_resumed {} producer={} remote={} first_seq={}",
            metrics.logContext(),
            producer.id,
            ctx.channel().remoteAddress(),
            seq);
      }
      lastAccepted = seq - 1;
    }
    if (seq <= lastAccepted) {
      metrics.duplicate();
      ackDue = true;
      return;
    }
    if (seq != lastAccepted + 1) {
      fail(
          new ProtocolViolationException(
              SocketErrorReason.SEQUENCE_GAP,
              "DATA from producer "
                  + producer.id
                  + " at "
                  + ctx.channel().remoteAddress()
                  + " has seq="
                  + seq
                  + " but the next expected is "
                  + (lastAccepted + 1)
                  + "; resend from "
                  + (lastAccepted + 1)));
      return;
    }
    lastAccepted = seq;
    pending.add(
        new Record(
            null,
            d.payload(),
            System.currentTimeMillis(),
            Map.of(),
            new SourcePosition(source, producer.id, seq)));
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    if (welcomed && !closing) {
      afterReadBurst();
    }
  }

  private void afterReadBurst() {
    if (inFlight) {
      return;
    }
    if (!pending.isEmpty()) {
      storePending();
    } else {
      if (ackDue) {
        ackDue = false;
        ctx.writeAndFlush(Protocol.ack(ctx.alloc(), lastAcked));
      }
      if (peerClosed) {
        closing = true;
        ctx.close(); // after the ACK above: SslHandler answers close_notify, then closes
      } else {
        ctx.channel().config().setAutoRead(true);
      }
    }
  }

  private void storePending() {
    List<Record> batch = pending;
    pending = new ArrayList<>();
    long maxSeq = lastAccepted;
    ProducerRegistry.Producer p = producer;
    Channel ch = ctx.channel();
    ch.config().setAutoRead(false);
    synchronized (p) {
      if (p.owner != ch) {
        // Replaced by a newer connection: it will be told what is durable and resend the rest.
        closing = true;
        ch.close();
        return;
      }
      inFlight = true;
      CompletableFuture<Void> f = store.storeReliablyAsync(batch);
      Object remote = ch.remoteAddress();
      p.tail =
          f.handle(
              (v, e) -> {
                if (e == null) {
                  registry.stored(p, maxSeq);
                } else if (Loops.isStopped(e)) {
                  // Counted here, not on the event loop: at shutdown it may refuse tasks.
                  metrics.reject(
                      SocketErrorReason.SHUTTING_DOWN,
                      remote,
                      "ERROR shutting_down sent, connection closed; "
                          + batch.size()
                          + " frames not acknowledged (the client resends them)",
                      "the receiver stopped before producer " + p.id + "'s group was stored");
                } else {
                  store.storeFailed(Loops.unwrap(e));
                }
                Loops.run(ctx.executor(), () -> onStored(batch.size(), maxSeq, e));
                return null;
              });
    }
  }

  private void onStored(int count, long maxSeq, Throwable error) {
    inFlight = false;
    if (error != null) {
      Throwable cause = Loops.unwrap(error);
      if (Loops.isStopped(cause)) {
        sendErrorAndClose(
            SocketErrorReason.SHUTTING_DOWN, "The receiver is stopping; reconnect later");
      } else {
        metrics.reject(
            SocketErrorReason.STORE_FAILED,
            ctx.channel().remoteAddress(),
            "connection closed; " + count + " frames not acknowledged",
            String.valueOf(cause));
        sendErrorAndClose(
            SocketErrorReason.STORE_FAILED,
            "Could not store frames up to seq "
                + maxSeq
                + ": "
                + cause.getMessage()
                + "; reconnect and resend");
      }
      return;
    }
    metrics.records(count);
    lastAcked = maxSeq;
    ackDue = false;
    if (!ctx.channel().isActive()) {
      return;
    }
    ctx.writeAndFlush(Protocol.ack(ctx.alloc(), maxSeq));
    if (!closing) {
      afterReadBurst();
    }
  }

  @Override
  void onIdle(ChannelHandlerContext ctx) {
    if (closing) {
      return;
    }
    metrics.reject(
        SocketErrorReason.IDLE_TIMEOUT,
        ctx.channel().remoteAddress(),
        "ERROR idle_timeout sent, connection closed",
        welcomed
            ? "producer " + producer.id + " sent nothing within read-idle-timeout"
            : "no HELLO within read-idle-timeout");
    sendErrorAndClose(
        SocketErrorReason.IDLE_TIMEOUT,
        "Nothing received within the server's read-idle-timeout; reconnect when there is data");
  }

  @Override
  void onPeerClosed(ChannelHandlerContext ctx) {
    peerClosed = true;
    if (closing) {
      return;
    }
    if (producer == null) {
      closing = true;
      ctx.close();
    } else if (welcomed && !inFlight) {
      afterReadBurst();
    } // else: sendWelcome or onStored runs afterReadBurst, which closes
  }

  @Override
  void onShutdown(ChannelHandlerContext ctx) {
    if (closing) {
      return;
    }
    metrics.count(SocketErrorReason.SHUTTING_DOWN);
    sendErrorAndClose(
        SocketErrorReason.SHUTTING_DOWN,
        "The receiver is stopping; reconnect later (unacknowledged frames must be resent)");
  }

  private void fail(SocketProtocolException error) {
    metrics.reject(error, ctx.channel().remoteAddress(), "ERROR sent, connection closed");
    sendErrorAndClose(error.reason(), error.getMessage());
  }

  private void sendErrorAndClose(SocketErrorReason reason, String message) {
    if (closing) {
      return;
    }
    closing = true;
    pending.clear();
    early.clear();
    Channel ch = ctx.channel();
    if (ch.isActive()) {
      ch.writeAndFlush(Protocol.error(ch.alloc(), reason, message))
          .addListener(ChannelFutureListener.CLOSE);
    } else {
      ch.close();
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    closing = true;
    // Accepted but not stored frames were never acknowledged: the producer resends them after
    // reconnecting.
    pending.clear();
    early.clear();
    ProducerRegistry.Producer p = producer;
    if (p != null) {
      registry.release(p, ctx.channel());
    }
    super.channelInactive(ctx);
  }

  /** Sends ERROR(reason) and closes; used when the server refuses a connection. */
  static void refuse(Channel ch, SocketErrorReason reason, String message) {
    ch.writeAndFlush(Protocol.error(ch.alloc(), reason, message))
        .addListener(ChannelFutureListener.CLOSE);
  }
}
