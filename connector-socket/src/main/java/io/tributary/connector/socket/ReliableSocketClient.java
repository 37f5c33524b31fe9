package io.tributary.connector.socket;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.handler.ssl.SslContext;
import io.tributary.connector.socket.internal.Backoff;
import io.tributary.connector.socket.internal.Frame;
import io.tributary.connector.socket.internal.NamedThreadFactory;
import io.tributary.connector.socket.internal.Protocol;
import io.tributary.connector.socket.internal.ReplyDecoder;
import io.tributary.connector.socket.internal.Tls;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Objects;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends frames to a {@link SocketServerReceiver} in reliable mode over the TRB1 protocol and keeps
 * every frame until the server acknowledged it as durable.
 *
 * <h2>Guarantees</h2>
 *
 * <ul>
 *   <li>{@link #send} assigns the next sequence number and returns it. A frame is acknowledged
 *       ({@link #lastAcked()} {@code >=} its seq) only once the server's runtime stored it durably.
 *       Until then the client holds it in memory and, after any disconnect, reconnects with
 *       exponential backoff (connection refused while the server is down is expected), sends HELLO,
 *       drops what the server's WELCOME reports as already stored and resends the rest in order.
 *       The server drops duplicates, so each frame is stored once.
 *   <li>Frames not acknowledged when {@link #close()} is called, or when this process dies, are
 *       lost: call {@link #flush(Duration)} first. Sequence numbers continue after the server's
 *       last stored one for the producer id, so a restarted client process with the same id
 *       continues the sequence.
 *   <li>Use each producer id from one client at a time: a second connection with the same id
 *       replaces the first.
 *   <li>A server forgets a producer id idle (no frame stored, not connected) for its {@code
 *       reliable.producer-idle-timeout} (default 7 days) and then welcomes it with -1. This client
 *       then keeps its numbering and resends its unacknowledged frames (logged as {@code
 *       event=producer_forgotten_by_server}); one that the server had stored before it forgot the
 *       id, but whose ACK never arrived, is stored twice. A restarted client process starts again
 *       at seq 0.
 * </ul>
 *
 * <h2>Blocking</h2>
 *
 * {@link #send} blocks while {@code maxUnacked} frames are unacknowledged (backpressure from the
 * server); {@link #flush} and {@link #awaitAcked} block up to their timeout. All of them honour
 * interruption.
 *
 * <h2>Thread safety</h2>
 *
 * All methods may be called from any thread; concurrent {@code send}s are ordered by the sequence
 * numbers they return. One event-loop thread, {@code tributary-client-<producerId>-N}, does the
 * I/O.
 *
 * <pre>{@code
 * try (ReliableSocketClient client = ReliableSocketClient.builder("127.0.0.1", 9999, "sensor-7").connect()) {
 *   for (String line : lines) {
 *     client.send(line);
 *   }
 *   client.flush(Duration.ofSeconds(30));
 * }
 * }</pre>
 */
public final class ReliableSocketClient implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ReliableSocketClient.class);

  private record Pending(long seq, byte[] payload) {}

  private final String host;
  private final int port;
  private final String producerId;
  private final int maxUnacked;
  private final int maxFrameBytes;
  private final Backoff backoff;
  private final EventLoopGroup group;
  private final Bootstrap bootstrap;

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  // Guarded by lock:
  private final ArrayDeque<Pending> unacked = new ArrayDeque<>();
  private long nextSeq;
  private long lastAcked = -1;
  private boolean welcomedOnce;
  private Channel ready;
  private boolean closed;
  private SocketProtocolException failure;
  private String lastError;
  private int connections;

  private ReliableSocketClient(Builder b) {
    this.host = b.host;
    this.port = b.port;
    this.producerId = b.producerId;
    this.maxUnacked = b.maxUnacked;
    this.maxFrameBytes = b.maxFrameBytes;
    this.backoff = new Backoff(b.initialBackoff, b.maxBackoff);
    SslContext ssl =
        b.tls ? Tls.client(b.trustCertFile == null ? null : b.trustCertFile.toString()) : null;
    this.group = new NioEventLoopGroup(1, new NamedThreadFactory("tributary-client-" + producerId));
    this.bootstrap =
        new Bootstrap()
            .group(group)
            .channel(NioSocketChannel.class)
            .option(ChannelOption.TCP_NODELAY, true)
            .option(
                ChannelOption.CONNECT_TIMEOUT_MILLIS,
                (int) Math.min(Integer.MAX_VALUE, b.attemptTimeout.toMillis()))
            .handler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    if (ssl != null) {
                      ch.pipeline().addLast("tls", ssl.newHandler(ch.alloc(), host, port));
                    }
                    // send() flushes every frame; consolidate those flushes into few syscalls
                    // without delaying any frame.
                    ch.pipeline().addLast("flush", new FlushConsolidationHandler(256, true));
                    ch.pipeline().addLast("decoder", new ReplyDecoder());
                    ch.pipeline().addLast("client", new ClientHandler());
                  }
                });
  }

  /**
   * Connects without TLS and waits up to 30 s for the server's WELCOME; see {@link
   * Builder#connect()}.
   */
  public static ReliableSocketClient connect(String host, int port, String producerId)
      throws InterruptedException {
    return builder(host, port, producerId).connect();
  }

  /**
   * @param producerId names this sender's sequence on the server (1 to 255 UTF-8 bytes); records
   *     get position {@code (source, producerId, seq)}
   */
  public static Builder builder(String host, int port, String producerId) {
    return new Builder(host, port, producerId);
  }

  /**
   * Queues {@code payload} as the next frame and sends it when connected. Blocks while {@code
   * maxUnacked} frames are unacknowledged.
   *
   * @return the frame's sequence number
   * @throws FrameTooLongException if the payload is larger than {@code maxFrameBytes} (nothing
   *     queued)
   * @throws SocketProtocolException if the client failed for good (see {@link #lastError()})
   * @throws IllegalStateException if the client is closed
   */
  public long send(byte[] payload) throws InterruptedException {
    Objects.requireNonNull(payload, "payload");
    if (payload.length > maxFrameBytes) {
      throw new FrameTooLongException(
          "Payload of "
              + payload.length
              + " bytes exceeds maxFrameBytes="
              + maxFrameBytes
              + " of client "
              + producerId
              + "; split it or raise the limit on client and server");
    }
    lock.lockInterruptibly();
    try {
      while (unacked.size() >= maxUnacked && !closed && failure == null) {
        changed.await();
      }
      checkUsable();
      long seq = nextSeq++;
      unacked.addLast(new Pending(seq, payload));
      Channel ch = ready;
      if (ch != null) {
        ch.writeAndFlush(Protocol.data(ch.alloc(), seq, payload));
      }
      return seq;
    } finally {
      lock.unlock();
    }
  }

  /** Sends the UTF-8 encoding of {@code line}; see {@link #send(byte[])}. */
  public long send(String line) throws InterruptedException {
    return send(line.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * Waits until every frame sent so far is acknowledged.
   *
   * @return {@code true} if all were acknowledged, {@code false} on timeout
   * @throws SocketProtocolException if the client failed for good
   */
  public boolean flush(Duration timeout) throws InterruptedException {
    lock.lockInterruptibly();
    try {
      return awaitAckedLocked(nextSeq - 1, timeout);
    } finally {
      lock.unlock();
    }
  }

  /**
   * Waits until frame {@code seq} (and every earlier one) is acknowledged.
   *
   * @return {@code true} if acknowledged, {@code false} on timeout
   */
  public boolean awaitAcked(long seq, Duration timeout) throws InterruptedException {
    lock.lockInterruptibly();
    try {
      return awaitAckedLocked(seq, timeout);
    } finally {
      lock.unlock();
    }
  }

  private boolean awaitAckedLocked(long seq, Duration timeout) throws InterruptedException {
    long nanos = timeout.toNanos();
    while (lastAcked < seq) {
      if (failure != null) {
        throw copy(failure);
      }
      if (closed || nanos <= 0) {
        return false;
      }
      nanos = changed.awaitNanos(nanos);
    }
    return true;
  }

  /**
   * The highest acknowledged sequence number (every frame up to it is durable on the server); -1 if
   * none.
   */
  public long lastAcked() {
    lock.lock();
    try {
      return lastAcked;
    } finally {
      lock.unlock();
    }
  }

  /** How many frames are sent or queued but not acknowledged. */
  public int unackedCount() {
    lock.lock();
    try {
      return unacked.size();
    } finally {
      lock.unlock();
    }
  }

  /** How many times a connection was welcomed by the server (1 after connect, +1 per reconnect). */
  public int connectionCount() {
    lock.lock();
    try {
      return connections;
    } finally {
      lock.unlock();
    }
  }

  /** The last error the server reported or the last connection failure, or {@code null}. */
  public String lastError() {
    lock.lock();
    try {
      return lastError;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Closes the connection and the I/O thread. Unacknowledged frames are dropped (logged). Safe to
   * call twice.
   */
  @Override
  public void close() {
    Channel ch;
    int dropped;
    lock.lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      ch = ready;
      ready = null;
      dropped = unacked.size();
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    if (dropped > 0) {
      LOG.warn(
          "event=client_closed producer={} unacknowledged_dropped={} detail=\"call flush() before close()\"",
          producerId,
          dropped);
    }
    if (ch != null) {
      ch.close();
    }
    group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
  }

  private void checkUsable() {
    if (failure != null) {
      throw copy(failure);
    }
    if (closed) {
      throw new IllegalStateException("ReliableSocketClient " + producerId + " is closed");
    }
  }

  private static SocketProtocolException copy(SocketProtocolException f) {
    return new SocketProtocolException(f.reason(), f.getMessage());
  }

  private void start() {
    attempt();
  }

  private void attempt() {
    lock.lock();
    try {
      if (closed || failure != null) {
        return;
      }
    } finally {
      lock.unlock();
    }
    ChannelFuture cf;
    try {
      cf = bootstrap.connect(host, port);
    } catch (RejectedExecutionException e) {
      return;
    }
    cf.addListener(
        f -> {
          if (!f.isSuccess()) {
            noteError("connect to " + host + ":" + port + " failed: " + f.cause());
            retryLater();
          }
        });
  }

  private void retryLater() {
    long delay = backoff.nextDelayMillis();
    lock.lock();
    try {
      if (closed || failure != null) {
        return;
      }
    } finally {
      lock.unlock();
    }
    LOG.debug("event=reconnect_scheduled producer={} delay_ms={}", producerId, delay);
    try {
      group.schedule(this::attempt, delay, TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException e) {
      // Closing.
    }
  }

  private void noteError(String error) {
    lock.lock();
    try {
      lastError = error;
    } finally {
      lock.unlock();
    }
  }

  private void fail(SocketProtocolException e, Channel ch) {
    lock.lock();
    try {
      if (failure == null) {
        failure = e;
        lastError = e.getMessage();
      }
      ready = null;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    LOG.error(
        "event=client_failed producer={} reason={} detail=\"{}\"",
        producerId,
        e.reason().tag(),
        e.getMessage());
    ch.close();
  }

  private void onWelcome(Channel ch, long lastStored) {
    lock.lock();
    try {
      if (closed || failure != null) {
        ch.close();
        return;
      }
      if (!welcomedOnce) {
        welcomedOnce = true;
        nextSeq = Math.max(nextSeq, lastStored + 1);
        lastAcked = Math.max(lastAcked, lastStored);
      } else if (lastStored < 0 && lastAcked >= 0) {
        // The server forgot this producer (idle longer than its reliable.producer-idle-timeout, or
        // a new checkpoint):
        // it accepts our numbering from the next frame on. Frames still unacknowledged are resent;
        // any of them that
        // was stored before the server forgot us (its ACK lost) is stored again.
        LOG.warn(
            "event=producer_forgotten_by_server producer={} server={}:{} last_acked={} resending={}"
                + " reason=\"idle longer than the server's reliable.producer-idle-timeout, or its checkpoint was reset\"",
            producerId,
            host,
            port,
            lastAcked,
            unacked.size());
      } else if (lastStored < lastAcked) {
        // Cannot resend what was already dropped after its ACK.
        throw new ProtocolViolationException(
            SocketErrorReason.PROTOCOL_ERROR,
            "Server at "
                + host
                + ":"
                + port
                + " reports last stored seq "
                + lastStored
                + " for producer "
                + producerId
                + " but it acknowledged "
                + lastAcked
                + " before: acknowledged data was lost on the server (WAL or checkpoint removed?)");
      } else if (lastStored >= nextSeq) {
        throw new ProtocolViolationException(
            SocketErrorReason.PROTOCOL_ERROR,
            "Server at "
                + host
                + ":"
                + port
                + " reports last stored seq "
                + lastStored
                + " for producer "
                + producerId
                + " but this client only sent"
                + " up to "
                + (nextSeq - 1)
                + ": is another client using the same producer id?");
      }
      while (!unacked.isEmpty() && unacked.peekFirst().seq() <= lastStored) {
        unacked.pollFirst();
      }
      lastAcked = Math.max(lastAcked, lastStored);
      connections++;
      int resent = unacked.size();
      for (Pending p : unacked) {
        ch.write(Protocol.data(ch.alloc(), p.seq(), p.payload()));
      }
      ch.flush();
      ready = ch;
      changed.signalAll();
      LOG.info(
          "event=welcomed producer={} server={}:{} last_stored={} resent={}",
          producerId,
          host,
          port,
          lastStored,
          resent);
    } finally {
      lock.unlock();
    }
    backoff.reset();
  }

  private void onAck(Channel ch, long seq) {
    lock.lock();
    try {
      if (seq >= nextSeq) {
        throw new ProtocolViolationException(
            SocketErrorReason.PROTOCOL_ERROR,
            "Server acknowledged seq "
                + seq
                + " but producer "
                + producerId
                + " only sent up to "
                + (nextSeq - 1));
      }
      if (seq > lastAcked) {
        lastAcked = seq;
        while (!unacked.isEmpty() && unacked.peekFirst().seq() <= seq) {
          unacked.pollFirst();
        }
        changed.signalAll();
      }
    } finally {
      lock.unlock();
    }
  }

  private void onInactive(Channel ch) {
    boolean retry;
    lock.lock();
    try {
      if (ready == ch) {
        ready = null;
      }
      retry = !closed && failure == null;
    } finally {
      lock.unlock();
    }
    if (retry) {
      LOG.debug("event=disconnected producer={} server={}:{}", producerId, host, port);
      retryLater();
    }
  }

  /** Handles one connection. Runs on the client's event loop. */
  private final class ClientHandler extends ChannelInboundHandlerAdapter {
    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
      ctx.writeAndFlush(Protocol.hello(ctx.alloc(), producerId));
      super.channelActive(ctx);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      try {
        if (msg instanceof Frame.Welcome w) {
          onWelcome(ctx.channel(), w.lastStored());
        } else if (msg instanceof Frame.Ack a) {
          onAck(ctx.channel(), a.seq());
        } else if (msg instanceof Frame.ErrorReply e) {
          SocketErrorReason reason = SocketErrorReason.ofCode(e.code());
          noteError("server error " + reason.tag() + ": " + e.message());
          if (reason == SocketErrorReason.IDLE_TIMEOUT
              || reason == SocketErrorReason.SHUTTING_DOWN) {
            // Expected in normal operation: an idle client, a server restart. It reconnects.
            LOG.info(
                "event=server_closed producer={} reason={} detail=\"{}\"",
                producerId,
                reason.tag(),
                e.message());
          } else {
            LOG.warn(
                "event=server_error producer={} reason={} detail=\"{}\"",
                producerId,
                reason.tag(),
                e.message());
          }
          if (reason == SocketErrorReason.FRAME_TOO_LONG) {
            fail(
                new FrameTooLongException(
                    "Server at "
                        + host
                        + ":"
                        + port
                        + " rejected a frame of producer "
                        + producerId
                        + ": "
                        + e.message()),
                ctx.channel());
          }
          ctx.close();
        } else if (msg instanceof Frame.Bad bad) {
          noteError(bad.error().getMessage());
          LOG.warn(
              "event=bad_reply producer={} detail=\"{}\"", producerId, bad.error().getMessage());
          ctx.close();
        }
      } catch (ProtocolViolationException e) {
        fail(e, ctx.channel());
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
      onInactive(ctx.channel());
      super.channelInactive(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      noteError(String.valueOf(cause));
      LOG.debug("event=connection_error producer={} detail=\"{}\"", producerId, cause.toString());
      ctx.close();
    }
  }

  /**
   * Options of a {@link ReliableSocketClient}.
   *
   * <p>Thread safety: not thread-safe; use from one thread.
   */
  public static final class Builder {
    private final String host;
    private final int port;
    private final String producerId;
    private int maxUnacked = 1024;
    private int maxFrameBytes = 1024 * 1024;
    private boolean tls;
    private Path trustCertFile;
    private Duration initialBackoff = Duration.ofMillis(50);
    private Duration maxBackoff = Duration.ofSeconds(2);
    private Duration connectTimeout = Duration.ofSeconds(30);
    private Duration attemptTimeout = Duration.ofSeconds(5);

    private Builder(String host, int port, String producerId) {
      this.host = Objects.requireNonNull(host, "host");
      this.port = port;
      this.producerId = Objects.requireNonNull(producerId, "producerId");
      int len = producerId.getBytes(StandardCharsets.UTF_8).length;
      if (len == 0 || len > Protocol.MAX_PRODUCER_ID_BYTES) {
        throw new IllegalArgumentException(
            "Invalid value "
                + producerId
                + " for producerId: "
                + len
                + " bytes"
                + " (expected: 1 to "
                + Protocol.MAX_PRODUCER_ID_BYTES
                + " UTF-8 bytes)");
      }
    }

    /** Frames sent but not acknowledged before {@code send} blocks (default 1024). */
    public Builder maxUnacked(int n) {
      if (n < 1) {
        throw new IllegalArgumentException(
            "Invalid value " + n + " for maxUnacked (expected: >= 1)");
      }
      this.maxUnacked = n;
      return this;
    }

    /**
     * Largest payload {@code send} accepts; keep it at or below the server's max-frame-bytes
     * (default 1 MiB).
     */
    public Builder maxFrameBytes(int n) {
      if (n < 1) {
        throw new IllegalArgumentException(
            "Invalid value " + n + " for maxFrameBytes (expected: >= 1)");
      }
      this.maxFrameBytes = n;
      return this;
    }

    /** Enables TLS, trusting the JVM's trust store; the server's host name is verified. */
    public Builder tls() {
      this.tls = true;
      return this;
    }

    /**
     * Enables TLS, trusting the PEM certificates in {@code trustCertFile}; the server's host name
     * is verified.
     */
    public Builder tls(Path trustCertFile) {
      this.tls = true;
      this.trustCertFile = trustCertFile;
      return this;
    }

    /**
     * Reconnect delays: starts at {@code initial}, doubles up to {@code max} (defaults 50 ms, 2 s).
     */
    public Builder reconnectBackoff(Duration initial, Duration max) {
      this.initialBackoff = initial;
      this.maxBackoff = max;
      return this;
    }

    /**
     * How long {@link #connect()} waits for the first WELCOME, retrying refused connections
     * (default 30 s).
     */
    public Builder connectTimeout(Duration timeout) {
      this.connectTimeout = timeout;
      return this;
    }

    /**
     * Starts the client and waits until the server welcomed it, retrying with backoff while the
     * server is down.
     *
     * @throws SocketConnectException if no WELCOME arrived within the connect timeout (the client
     *     is then closed)
     */
    public ReliableSocketClient connect() throws InterruptedException {
      ReliableSocketClient c = new ReliableSocketClient(this);
      c.start();
      long nanos = connectTimeout.toNanos();
      c.lock.lock();
      try {
        while (!c.welcomedOnce && c.failure == null && nanos > 0) {
          nanos = c.changed.awaitNanos(nanos);
        }
        if (c.welcomedOnce && c.failure == null) {
          return c;
        }
      } catch (InterruptedException e) {
        c.lock.unlock();
        c.close();
        throw e;
      } finally {
        if (c.lock.isHeldByCurrentThread()) {
          c.lock.unlock();
        }
      }
      String err = c.lastError();
      c.close();
      throw new SocketConnectException(
          "Could not connect producer "
              + producerId
              + " to "
              + host
              + ":"
              + port
              + " within "
              + connectTimeout
              + ": "
              + err
              + " (is the server running in reliable mode?)",
          null);
    }
  }
}
