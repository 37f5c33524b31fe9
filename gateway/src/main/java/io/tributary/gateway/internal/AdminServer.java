package io.tributary.gateway.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.tributary.core.api.QuarantinedItem;
import io.tributary.core.api.TributaryException;
import io.tributary.core.runtime.BatchInfo;
import io.tributary.core.runtime.CheckpointOffsets;
import io.tributary.core.runtime.PartitionStatus;
import io.tributary.core.runtime.Pipeline;
import io.tributary.core.runtime.PipelineState;
import io.tributary.core.runtime.PipelineStatus;
import io.tributary.core.runtime.ReceiverStatus;
import io.tributary.gateway.internal.AdminControl.ControlException;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway's admin HTTP endpoint on Netty's HTTP codec: {@code /health}, {@code /metrics}
 * (Prometheus text), {@code /status}, {@code /pipelines} (JSON: state, batches, partitions,
 * failures; control and offsets), {@code /reload}, and the status page {@code /} with its assets
 * (shipped in the jar, nothing loaded from elsewhere).
 *
 * <p>Limits: request line 4 KiB (414), headers 8 KiB (431), body 64 KiB (413); a connection that
 * sends nothing for the read-idle timeout is closed, so a half-sent request holds only its own
 * connection. Requests are parsed on the event loop and answered on two worker threads ({@code
 * tributary-gateway-admin-worker-N}), so a slow scrape or a pipeline draining on {@code stop} never
 * blocks the event loop.
 *
 * <p>Security: with a token, every call but {@code /health} and the page's static files needs
 * {@code Authorization: Bearer <token>}; without one (loopback only, the configuration enforces
 * it), reads are open and state-changing calls are refused (403).
 *
 * <p>Thread safety: thread-safe; {@link #close()} may be called from any thread.
 */
public final class AdminServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(AdminServer.class);

  /** Created on first use: not on the gateway's start path (its ~500 classes). */
  private static final class Json {
    static final ObjectMapper MAPPER = new ObjectMapper();
  }

  private static final int MAX_LINE = 4096;
  private static final int MAX_HEADERS = 8192;
  private static final int MAX_BODY = 64 * 1024;
  private static final io.netty.util.AttributeKey<Boolean> IN_FLIGHT =
      io.netty.util.AttributeKey.valueOf("tributary-admin-in-flight");
  private static final io.netty.util.AttributeKey<Boolean> INPUT_CLOSED =
      io.netty.util.AttributeKey.valueOf("tributary-admin-input-closed");

  /** Where and how to listen. {@code token} and {@code ssl} may be {@code null}. */
  public record Settings(
      String host, int port, String token, SslContext ssl, Duration readIdleTimeout) {
    @Override
    public String toString() {
      return "Settings[host="
          + host
          + ", port="
          + port
          + ", token="
          + (token == null ? "none" : "******")
          + ", tls="
          + (ssl != null)
          + ", readIdleTimeout="
          + readIdleTimeout
          + "]";
    }
  }

  private final Settings settings;
  private final AdminControl control;
  private final PrometheusMeterRegistry registry;
  private final EventLoopGroup boss;
  private final EventLoopGroup workers;
  private final ExecutorService handlers;
  private final Channel channel;

  /**
   * Binds and starts serving. Blocks until bound.
   *
   * @throws IOException when the address cannot be bound
   */
  public AdminServer(Settings settings, AdminControl control, PrometheusMeterRegistry registry)
      throws IOException {
    this.settings = settings;
    this.control = control;
    this.registry = registry;
    this.boss = new NioEventLoopGroup(1, named("tributary-gateway-admin-accept-"));
    this.workers = new NioEventLoopGroup(1, named("tributary-gateway-admin-io-"));
    this.handlers =
        new ThreadPoolExecutor(
            2,
            2,
            0,
            TimeUnit.MILLISECONDS,
            new LinkedBlockingQueue<>(256),
            named("tributary-gateway-admin-worker-"));
    long idleMs = settings.readIdleTimeout().toMillis();
    ServerBootstrap b =
        new ServerBootstrap()
            .group(boss, workers)
            .channel(NioServerSocketChannel.class)
            .option(ChannelOption.SO_BACKLOG, 64)
            // A client that half-closes after its request (HTTP/1.0 style) still gets the answer.
            .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
            .childHandler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    ChannelPipeline p = ch.pipeline();
                    if (settings.ssl() != null) {
                      p.addLast(settings.ssl().newHandler(ch.alloc()));
                    }
                    p.addLast(new IdleStateHandler(idleMs, 0, 0, TimeUnit.MILLISECONDS));
                    p.addLast(new Guard(settings.ssl() == null, 3 * idleMs));
                    p.addLast(new HttpServerCodec(MAX_LINE, MAX_HEADERS, 8192));
                    p.addLast(
                        new HttpObjectAggregator(MAX_BODY) {
                          @Override
                          protected void handleOversizedMessage(
                              ChannelHandlerContext ctx, io.netty.handler.codec.http.HttpMessage m)
                              throws Exception {
                            reject("body_too_large");
                            super.handleOversizedMessage(ctx, m);
                          }
                        });
                    // Requests decoded from one read (pipelined) reach the handler one at a time.
                    p.addLast(new io.netty.handler.flow.FlowControlHandler());
                    p.addLast(new Handler());
                  }
                });
    try {
      channel = b.bind(settings.host(), settings.port()).sync().channel();
    } catch (Exception e) {
      close();
      throw new IOException(e.toString(), e);
    } catch (Error e) {
      close();
      throw e;
    }
  }

  private void reject(String reason) {
    io.micrometer.core.instrument.Counter.builder("tributary.admin.rejected")
        .description(
            "Admin connections closed or requests refused: idle, request_timeout,"
                + " tls_on_plain_port, malformed, line_too_long, headers_too_large, body_too_large")
        .tag("reason", reason)
        .register(registry)
        .increment();
  }

  private final java.util.concurrent.atomic.AtomicLong lastTlsWarnNanos =
      new java.util.concurrent.atomic.AtomicLong(System.nanoTime() - TimeUnit.MINUTES.toNanos(2));

  /**
   * In front of the HTTP codec, per connection: closes a TLS client on the plain port, gives a
   * request {@code requestTimeoutMs} from its first byte to its end (a client trickling a header
   * every second, or an endless preamble of blank lines the codec skips, is answered 408 and
   * closed), and closes gracefully (lingering): after an answer that ends the connection it
   * half-closes, drops what the client still sends, and closes on the client's end or after 2 s, so
   * a client still writing (endless headers) reads its 431 instead of a reset.
   */
  private final class Guard extends io.netty.channel.ChannelInboundHandlerAdapter {
    private final boolean plain;
    private final long requestTimeoutMs;
    private boolean first = true;
    private boolean draining;
    private io.netty.util.concurrent.ScheduledFuture<?> deadline;

    Guard(boolean plain, long requestTimeoutMs) {
      this.plain = plain;
      this.requestTimeoutMs = requestTimeoutMs;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (draining) {
        io.netty.util.ReferenceCountUtil.release(msg);
        return;
      }
      if (msg instanceof io.netty.buffer.ByteBuf b && b.isReadable()) {
        if (first) {
          first = false;
          if (plain
              && b.readableBytes() >= 2
              && b.getUnsignedByte(b.readerIndex()) == 0x16
              && b.getUnsignedByte(b.readerIndex() + 1) == 0x03) {
            b.release();
            reject("tls_on_plain_port");
            long now = System.nanoTime();
            long last = lastTlsWarnNanos.get();
            if (now - last > TimeUnit.MINUTES.toNanos(1)
                && lastTlsWarnNanos.compareAndSet(last, now)) {
              LOG.warn(
                  "event=admin_tls_on_plain_port peer={} detail=\"a TLS client on the plain HTTP"
                      + " admin port: use http://, or set admin.tls-cert and admin.tls-key\""
                      + " (logged once a minute; counted in tributary_admin_rejected_total)",
                  ctx.channel().remoteAddress());
            }
            ctx.close();
            return;
          }
        }
        if (deadline == null && !Boolean.TRUE.equals(ctx.channel().attr(IN_FLIGHT).get())) {
          deadline =
              ctx.executor()
                  .schedule(() -> requestTimedOut(ctx), requestTimeoutMs, TimeUnit.MILLISECONDS);
        }
      }
      ctx.fireChannelRead(msg);
    }

    private void requestTimedOut(ChannelHandlerContext ctx) {
      deadline = null;
      if (draining || Boolean.TRUE.equals(ctx.channel().attr(IN_FLIGHT).get())) {
        return;
      }
      reject("request_timeout");
      ChannelHandlerContext h = ctx.pipeline().context(Handler.class);
      if (h == null) {
        ctx.close();
        return;
      }
      write(
          h,
          Reply.error(
              408,
              "request not complete within "
                  + requestTimeoutMs
                  + " ms (3 x admin.read-idle-timeout)"),
          false);
    }

    /** A whole request arrived (the handler calls this on the event loop). */
    void requestComplete() {
      if (deadline != null) {
        deadline.cancel(false);
        deadline = null;
      }
    }

    /** Ends the connection after the last answer was flushed; on the event loop. */
    void linger(Channel ch) {
      requestComplete();
      if (draining) {
        return;
      }
      draining = true;
      if (plain
          && ch instanceof SocketChannel sc
          && sc.isActive()
          && !sc.isInputShutdown()
          && !sc.isOutputShutdown()) {
        sc.shutdownOutput();
        ch.config().setAutoRead(true);
        ch.eventLoop().schedule(() -> ch.close(), 2, TimeUnit.SECONDS);
      } else {
        ch.close();
      }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
      if (evt instanceof io.netty.channel.socket.ChannelInputShutdownEvent) {
        if (draining || !Boolean.TRUE.equals(ctx.channel().attr(IN_FLIGHT).get())) {
          ctx.close(); // the client is done; no request in flight can still be answered
          return;
        }
        ctx.channel().attr(INPUT_CLOSED).set(Boolean.TRUE); // answer, then close
      }
      super.userEventTriggered(ctx, evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
      requestComplete();
      super.channelInactive(ctx);
    }
  }

  private static java.util.concurrent.ThreadFactory named(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, prefix + n.getAndIncrement());
      t.setDaemon(true);
      return t;
    };
  }

  public InetSocketAddress address() {
    return (InetSocketAddress) channel.localAddress();
  }

  @Override
  public void close() {
    if (channel != null) {
      channel.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
    }
    boss.shutdownGracefully(0, 2, TimeUnit.SECONDS);
    workers.shutdownGracefully(0, 2, TimeUnit.SECONDS);
    handlers.shutdownNow();
  }

  /** A response before it is written. */
  private record Reply(int status, String type, byte[] body, Map<String, String> headers) {
    static Reply json(int status, Object value) {
      try {
        return new Reply(
            status, "application/json", Json.MAPPER.writeValueAsBytes(value), Map.of());
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    }

    static Reply error(int status, String message) {
      ObjectNode n = Json.MAPPER.createObjectNode();
      n.put("status", status);
      n.put("error", message);
      return json(status, n);
    }

    static Reply text(int status, String type, String body) {
      return new Reply(status, type, body.getBytes(StandardCharsets.UTF_8), Map.of());
    }
  }

  private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
      Guard guard = ctx.pipeline().get(Guard.class);
      if (guard != null) {
        guard.requestComplete();
      }
      if (req.decoderResult().isFailure()) {
        Throwable cause = req.decoderResult().cause();
        Reply r;
        if (cause instanceof TooLongHttpHeaderException) {
          reject("headers_too_large");
          r = Reply.error(431, "request headers larger than " + MAX_HEADERS + " bytes");
        } else if (cause instanceof TooLongHttpLineException) {
          reject("line_too_long");
          r = Reply.error(414, "request line longer than " + MAX_LINE + " bytes");
        } else {
          reject("malformed");
          r = Reply.error(400, "malformed request: " + cause.getMessage());
        }
        write(ctx, r, false);
        return;
      }
      boolean keepAlive = HttpUtil.isKeepAlive(req);
      Request request =
          new Request(
              req.method(),
              new QueryStringDecoder(req.uri()),
              req.headers().get(HttpHeaderNames.AUTHORIZATION),
              req.content().toString(StandardCharsets.UTF_8));
      // One request at a time per connection (pipelined requests wait in the socket, so answers
      // keep
      // their order), and no idle close while an answer is being prepared (a restart drains).
      ctx.channel().config().setAutoRead(false);
      ctx.channel().attr(IN_FLIGHT).set(Boolean.TRUE);
      try {
        handlers.execute(() -> write(ctx, handle(request), keepAlive));
      } catch (RejectedExecutionException e) {
        write(ctx, Reply.error(503, "admin endpoint busy or closing: retry later"), false);
      }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
      if (evt instanceof IdleStateEvent) {
        if (!Boolean.TRUE.equals(ctx.channel().attr(IN_FLIGHT).get())) {
          Guard guard = ctx.pipeline().get(Guard.class);
          if (guard == null || !guard.draining) {
            reject("idle");
          }
          ctx.close();
        } // a client that sends nothing (or half a request) for the timeout
      } else {
        super.userEventTriggered(ctx, evt);
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      LOG.debug("event=admin_connection_error error=\"{}\"", cause.toString());
      ctx.close();
    }
  }

  private static void write(ChannelHandlerContext ctx, Reply r, boolean keepAlive) {
    FullHttpResponse resp =
        new DefaultFullHttpResponse(
            HttpVersion.HTTP_1_1,
            HttpResponseStatus.valueOf(r.status()),
            Unpooled.wrappedBuffer(r.body()));
    resp.headers().set(HttpHeaderNames.CONTENT_TYPE, r.type());
    resp.headers().set(HttpHeaderNames.CONTENT_LENGTH, r.body().length);
    resp.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-store");
    resp.headers().set("X-Content-Type-Options", "nosniff");
    r.headers().forEach((k, v) -> resp.headers().set(k, v));
    ctx.channel().attr(IN_FLIGHT).set(Boolean.FALSE);
    if (Boolean.TRUE.equals(ctx.channel().attr(INPUT_CLOSED).get())) {
      keepAlive = false; // the client half-closed: nothing more can come
    }
    if (keepAlive) {
      resp.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
      ctx.writeAndFlush(resp).addListener(f -> ctx.channel().config().setAutoRead(true));
    } else {
      resp.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
      ctx.writeAndFlush(resp)
          .addListener(
              f -> {
                Guard guard = ctx.pipeline().get(Guard.class);
                if (guard != null && f.isSuccess()) {
                  guard.linger(ctx.channel());
                } else {
                  ctx.close();
                }
              });
    }
  }

  private record Request(
      HttpMethod method, QueryStringDecoder uri, String authorization, String body) {}

  // ---------------------------------------------------------------------------------- routing

  private static final Set<String> ACTIONS = Set.of("pause", "resume", "restart", "stop");

  /** Runs on a worker thread. */
  private Reply handle(Request req) {
    String path = req.uri().path();
    try {
      return route(req, path);
    } catch (ControlException e) {
      return Reply.error(e.status(), control.scrub(e.getMessage()));
    } catch (TributaryException | IllegalArgumentException e) {
      return Reply.error(409, control.scrub(e.getMessage()));
    } catch (RuntimeException e) {
      LOG.warn(
          "event=admin_request_failed path={} error=\"{}\"", path, control.scrub(e.toString()));
      return Reply.error(500, control.scrub(e.toString()));
    }
  }

  private Reply route(Request req, String path) {
    HttpMethod m = req.method();
    switch (path) {
      case "/health":
        return only(m, "GET", () -> health());
      case "/":
        return only(m, "GET", () -> Reply.text(200, "text/html; charset=utf-8", page()));
      case "/assets/status.js":
        return only(m, "GET", () -> asset("status.js", "text/javascript; charset=utf-8"));
      case "/favicon.ico": // browsers ask for it; an empty answer keeps their consoles clean
        return only(m, "GET", () -> new Reply(204, "image/x-icon", new byte[0], Map.of()));
      case "/assets/status.css":
        return only(m, "GET", () -> asset("status.css", "text/css; charset=utf-8"));
      default:
        break;
    }
    String[] parts = path.split("/", -1); // "", "pipelines", id, action
    boolean known =
        path.equals("/metrics")
            || path.equals("/status")
            || path.equals("/reload")
            || path.equals("/pipelines")
            || (parts.length == 3 && parts[1].equals("pipelines") && !parts[2].isEmpty())
            || (parts.length == 4
                && parts[1].equals("pipelines")
                && (ACTIONS.contains(parts[3]) || parts[3].equals("offsets")));
    if (!known) {
      return Reply.error(
          404,
          "not found: "
              + path
              + " (try /, /health, /metrics, /status, /pipelines, /pipelines/{id},"
              + " /pipelines/{id}/offsets, /reload)");
    }
    boolean changes = !m.equals(HttpMethod.GET) && !m.equals(HttpMethod.HEAD);
    Reply denied = authorize(req, changes);
    if (denied != null) {
      return denied;
    }
    if (path.equals("/metrics")) {
      return only(
          m,
          "GET",
          () -> Reply.text(200, "text/plain; version=0.0.4; charset=utf-8", registry.scrape()));
    }
    if (path.equals("/status")) {
      return only(m, "GET", () -> Reply.json(200, statusJson()));
    }
    if (path.equals("/reload")) {
      return only(m, "POST", () -> Reply.json(200, control.reload()));
    }
    if (path.equals("/pipelines")) {
      return only(
          m,
          "GET",
          () -> {
            ArrayNode a = Json.MAPPER.createArrayNode();
            for (AdminControl.Entry e : control.entries()) {
              a.add(summary(e));
            }
            return Reply.json(200, a);
          });
    }
    String id = parts[2];
    if (parts.length == 3) {
      return only(m, "GET", () -> Reply.json(200, detail(entry(id))));
    }
    String action = parts[3];
    if (action.equals("offsets")) {
      if (m.equals(HttpMethod.GET)) {
        return Reply.json(200, offsets(id, control.offsets(id)));
      }
      if (m.equals(HttpMethod.PATCH)) {
        return Reply.json(200, offsets(id, control.alterOffsets(id, partitionsToSet(req.body()))));
      }
      if (m.equals(HttpMethod.DELETE)) {
        List<String> only =
            new ArrayList<>(req.uri().parameters().getOrDefault("partition", List.of()));
        return Reply.json(200, offsets(id, control.resetOffsets(id, only)));
      }
      return notAllowed("GET, PATCH, DELETE");
    }
    return only(
        m,
        "POST",
        () -> {
          AdminControl.Entry e =
              switch (action) {
                case "pause" -> control.pause(id);
                case "resume" -> control.resume(id);
                case "restart" -> control.restart(id);
                default -> control.stop(id);
              };
          return Reply.json(200, summary(e));
        });
  }

  private interface Action {
    Reply run();
  }

  private static Reply only(HttpMethod m, String allowed, Action a) {
    if (m.name().equals(allowed) || (allowed.equals("GET") && m.equals(HttpMethod.HEAD))) {
      return a.run();
    }
    return notAllowed(allowed);
  }

  private static Reply notAllowed(String allowed) {
    Reply r = Reply.error(405, "method not allowed (allowed: " + allowed + ")");
    return new Reply(r.status(), r.type(), r.body(), Map.of("Allow", allowed));
  }

  /** {@code null} when the request may proceed. */
  private Reply authorize(Request req, boolean changes) {
    String token = settings.token();
    if (token == null) {
      if (changes) {
        return Reply.error(
            403,
            "state-changing calls need a bearer token: set admin.token-file or admin.token-env in the"
                + " configuration and send Authorization: Bearer <token>");
      }
      return null;
    }
    String auth = req.authorization();
    String expected = "Bearer " + token;
    if (auth == null
        || !MessageDigest.isEqual(
            auth.getBytes(StandardCharsets.UTF_8), expected.getBytes(StandardCharsets.UTF_8))) {
      Reply r =
          Reply.error(401, "missing or wrong bearer token (send Authorization: Bearer <token>)");
      return new Reply(r.status(), r.type(), r.body(), Map.of("WWW-Authenticate", "Bearer"));
    }
    return null;
  }

  private AdminControl.Entry entry(String id) {
    for (AdminControl.Entry e : control.entries()) {
      if (e.id().equals(id)) {
        return e;
      }
    }
    throw new ControlException(404, "no pipeline " + id + " (GET /pipelines lists them)");
  }

  private static Map<String, String> partitionsToSet(String body) {
    try {
      JsonNode n = Json.MAPPER.readTree(body.isBlank() ? "{}" : body);
      JsonNode parts = n.get("partitions");
      if (parts == null || !parts.isObject() || parts.isEmpty()) {
        throw new ControlException(
            400,
            "expected a JSON body {\"partitions\": {\"<partition>\": \"<position>\"}} with at least one"
                + " partition");
      }
      Map<String, String> out = new java.util.LinkedHashMap<>();
      parts.fields().forEachRemaining(e -> out.put(e.getKey(), e.getValue().asText()));
      return out;
    } catch (IOException e) {
      throw new ControlException(400, "body is not JSON: " + e.getMessage());
    }
  }

  // ---------------------------------------------------------------------------------- documents

  private Reply health() {
    ObjectNode states = Json.MAPPER.createObjectNode();
    boolean ok = true;
    for (AdminControl.Entry e : control.entries()) {
      PipelineState s = state(e);
      boolean stalled = e.pipeline() != null && e.pipeline().status().stalled();
      ok &= (s == PipelineState.RUNNING && !stalled) || e.stoppedByOperator();
      states.put(e.id(), stalled ? "STALLED" : s.name());
    }
    ObjectNode n = Json.MAPPER.createObjectNode();
    n.put("status", ok ? "UP" : "DOWN");
    n.set("pipelines", states);
    return Reply.json(ok ? 200 : 503, n);
  }

  private static PipelineState state(AdminControl.Entry e) {
    return e.pipeline() == null ? PipelineState.CREATED : e.pipeline().status().state();
  }

  /** The {@code /status} array (kept for scripts written against the first gateway). */
  public ArrayNode statusJson() {
    ArrayNode a = Json.MAPPER.createArrayNode();
    for (AdminControl.Entry e : control.entries()) {
      if (e.pipeline() == null) {
        continue;
      }
      PipelineStatus s = e.pipeline().status();
      ObjectNode n = a.addObject();
      n.put("id", s.pipelineId());
      n.put("state", s.state().name());
      n.put("lastPlannedBatch", s.lastPlannedBatch());
      n.put("lastCommittedBatch", s.lastCommittedBatch());
      n.put("recordsIn", s.recordsIn());
      n.put("recordsOut", s.recordsOut());
      n.put("failure", s.failure() == null ? null : control.scrub(s.failure()));
      n.put("stalledMs", s.stalledMillis());
    }
    return a;
  }

  private ObjectNode summary(AdminControl.Entry e) {
    ObjectNode n = Json.MAPPER.createObjectNode();
    n.put("id", e.id());
    Pipeline p = e.pipeline();
    PipelineStatus s = p == null ? null : p.status();
    n.put("state", state(e).name());
    n.put("paused", p != null && p.paused());
    n.put("stoppedByOperator", e.stoppedByOperator());
    ObjectNode src = n.putObject("source");
    src.put("type", e.sourceType());
    src.put("kind", e.sourceKind());
    ArrayNode sinks = n.putArray("sinks");
    for (Map.Entry<String, String> s2 : e.sinks()) {
      ObjectNode k = sinks.addObject();
      k.put("type", s2.getKey());
      k.put("guarantee", s2.getValue());
    }
    n.put("lastPlannedBatch", s == null ? -1 : s.lastPlannedBatch());
    n.put("lastCommittedBatch", s == null ? -1 : s.lastCommittedBatch());
    n.put("recordsIn", s == null ? 0 : s.recordsIn());
    n.put("recordsOut", s == null ? 0 : s.recordsOut());
    n.put("lag", p == null ? 0 : p.lag());
    n.put("stalledMs", s == null ? 0 : s.stalledMillis());
    n.put("quarantined", p == null ? 0 : quarantined(p).size());
    n.set("failure", failure(p));
    return n;
  }

  private ObjectNode detail(AdminControl.Entry e) {
    ObjectNode n = summary(e);
    Pipeline p = e.pipeline();
    ArrayNode batches = n.putArray("batches");
    ArrayNode partitions = n.putArray("partitions");
    if (p == null) {
      return n;
    }
    for (BatchInfo b : p.recentBatches()) {
      ObjectNode o = batches.addObject();
      o.put("batchId", b.batchId());
      o.put("batchTimeMs", b.batchTimeMs());
      o.put("records", b.records());
      o.put("bytes", b.bytes());
      o.put("schedulingDelayMs", b.schedulingDelayMs());
      o.put("processingTimeMs", b.processingTimeMs());
      o.put("totalDelayMs", b.totalDelayMs());
      o.put("committedAtMs", b.committedAtMs());
    }
    ArrayNode receivers = n.putArray("receivers");
    for (ReceiverStatus r : p.receivers()) {
      ObjectNode o = receivers.addObject();
      o.put("name", r.name());
      o.put("state", r.state().name());
      o.put("restarts", r.restarts());
      o.put("lastError", r.lastError() == null ? null : control.scrub(r.lastError()));
      o.put("lastErrorAtMs", r.lastErrorAtMs());
      if (r.connectedClients().isPresent()) {
        o.put("connectedClients", r.connectedClients().getAsInt());
      } else {
        o.putNull("connectedClients");
      }
      o.put("bufferedBytes", r.bufferedBytes());
    }
    ArrayNode quarantine = n.putArray("quarantine");
    for (QuarantinedItem q : quarantined(p)) {
      ObjectNode o = quarantine.addObject();
      o.put("partition", q.partition());
      o.put("item", q.item());
      o.put("reason", q.reason());
      o.put("message", control.scrub(q.message()));
      o.put("quarantinedAtMs", q.quarantinedAtMs());
    }
    for (PartitionStatus ps : p.partitions()) {
      ObjectNode o = partitions.addObject();
      o.put("partition", ps.partition());
      o.put("committedPosition", ps.committedPosition());
      o.put("latestPosition", ps.latestPosition());
      if (ps.lag().isPresent()) {
        o.put("lag", ps.lag().getAsLong());
      } else {
        o.putNull("lag");
      }
      if (ps.millisBehindLatest().isPresent()) {
        o.put("millisBehindLatest", ps.millisBehindLatest().getAsLong());
      } else {
        o.putNull("millisBehindLatest");
      }
    }
    return n;
  }

  /**
   * The source's quarantine; empty (logged) when the source fails to answer, so one bad source
   * never breaks the listing.
   */
  private List<QuarantinedItem> quarantined(Pipeline p) {
    try {
      return p.quarantined();
    } catch (RuntimeException e) {
      LOG.warn(
          "event=quarantine_unavailable pipeline={} error=\"{}\"",
          p.id(),
          control.scrub(e.toString()));
      return List.of();
    }
  }

  /** {@code null}, or the message and the cause chain, each scrubbed of secrets. */
  private JsonNode failure(Pipeline p) {
    if (p == null || p.status().failure() == null) {
      return Json.MAPPER.nullNode();
    }
    ObjectNode f = Json.MAPPER.createObjectNode();
    f.put("message", control.scrub(p.status().failure()));
    ArrayNode causes = f.putArray("causes");
    Throwable t = p.failure().orElse(null);
    Set<Throwable> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
    for (Throwable c = t; c != null && seen.add(c); c = c.getCause()) {
      causes.add(control.scrub(c.toString()));
    }
    return f;
  }

  private static ObjectNode offsets(String id, CheckpointOffsets.Snapshot s) {
    ObjectNode n = Json.MAPPER.createObjectNode();
    n.put("id", id);
    if (s == null) {
      n.putNull("batchId");
      n.putObject("partitions");
      n.put("note", "no batch yet: the pipeline starts from the source's starting position");
      return n;
    }
    n.put("batchId", s.batchId());
    n.put("committed", s.committed());
    n.put("kind", s.kind());
    ObjectNode parts = n.putObject("partitions");
    s.positions().forEach(parts::put);
    return n;
  }

  private static Reply asset(String name, String type) {
    try (InputStream in = AdminServer.class.getResourceAsStream("/tributary-admin/" + name)) {
      if (in == null) {
        return Reply.error(500, name + " is missing from the gateway jar");
      }
      return new Reply(200, type, in.readAllBytes(), Map.of());
    } catch (IOException e) {
      return Reply.error(500, e.toString());
    }
  }

  private String page() {
    StringBuilder sb = new StringBuilder();
    List<AdminControl.Entry> entries = control.entries();
    boolean ok =
        entries.stream().allMatch(e -> state(e) == PipelineState.RUNNING || e.stoppedByOperator());
    sb.append("<!doctype html><html><head><meta charset=\"utf-8\"><title>Tributary gateway</title>")
        .append("<link rel=\"stylesheet\" href=\"/assets/status.css\">")
        .append("</head><body><h1>Tributary gateway</h1>")
        .append("<p>Health: <b id=\"health\">")
        .append(ok ? "UP" : "DOWN")
        .append("</b> <span id=\"updated\"></span></p>")
        .append("<table id=\"pipelines\"><thead><tr><th>pipeline</th><th>state</th>")
        .append("<th>last committed batch</th><th>records in</th><th>records out</th><th>lag</th>")
        .append("<th>quarantined</th>")
        .append("<th>failure</th></tr></thead><tbody>");
    for (AdminControl.Entry e : entries) {
      Pipeline p = e.pipeline();
      PipelineStatus s = p == null ? null : p.status();
      String state = state(e).name();
      sb.append("<tr data-id=\"")
          .append(html(e.id()))
          .append("\"><td><a href=\"#p-")
          .append(html(e.id()))
          .append("\">")
          .append(html(e.id()))
          .append("</a></td><td class=\"")
          .append(state)
          .append("\">")
          .append(state)
          .append(s != null && s.stalled() ? " (stalled " + s.stalledMillis() / 1000 + " s)" : "")
          .append("</td><td>")
          .append(s == null ? -1 : s.lastCommittedBatch())
          .append("</td><td>")
          .append(s == null ? 0 : s.recordsIn())
          .append("</td><td>")
          .append(s == null ? 0 : s.recordsOut())
          .append("</td><td>")
          .append(p == null ? 0 : p.lag())
          .append("</td><td class=\"quarantined\">")
          .append(p == null ? 0 : quarantined(p).size())
          .append("</td><td class=\"failure\">")
          .append(s == null || s.failure() == null ? "" : html(control.scrub(s.failure())))
          .append("</td></tr>");
    }
    sb.append("</tbody></table><div id=\"details\"></div>")
        .append("<p class=\"links\"><a href=\"/pipelines\">pipelines JSON</a> · ")
        .append("<a href=\"/metrics\">Prometheus metrics</a> · <a href=\"/health\">health</a></p>")
        .append("<script src=\"/assets/status.js\"></script></body></html>");
    return sb.toString();
  }

  private static String html(String s) {
    return s.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\"", "&quot;");
  }
}
