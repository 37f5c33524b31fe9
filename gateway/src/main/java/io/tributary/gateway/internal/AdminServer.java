package io.tributary.gateway.internal;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.tributary.core.runtime.Pipeline;
import io.tributary.core.runtime.PipelineState;
import io.tributary.core.runtime.PipelineStatus;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.UnaryOperator;

/**
 * The gateway's admin HTTP endpoint (JDK HTTP server, one thread): {@code /health}, {@code
 * /metrics} (Prometheus text), {@code /status} (JSON), {@code /} (an HTML status page without
 * external assets). Read-only.
 *
 * <p>Thread safety: thread-safe; requests are served on the {@code tributary-gateway-admin-0}
 * thread.
 */
public final class AdminServer implements AutoCloseable {
  private final HttpServer server;
  private final List<Pipeline> pipelines;
  private final PrometheusMeterRegistry registry;
  private final ExecutorService executor;
  private final UnaryOperator<String> scrub;

  /**
   * @param scrub removes secret values from failure texts before they are shown (a connector's or
   *     client library's message may quote a setting)
   */
  public AdminServer(
      String host,
      int port,
      List<Pipeline> pipelines,
      PrometheusMeterRegistry registry,
      UnaryOperator<String> scrub)
      throws IOException {
    this.pipelines = pipelines;
    this.registry = registry;
    this.scrub = scrub;
    this.server = HttpServer.create(new InetSocketAddress(host, port), 16);
    this.executor =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "tributary-gateway-admin-0");
              t.setDaemon(true);
              return t;
            });
    server.setExecutor(executor);
    server.createContext("/health", this::health);
    server.createContext("/metrics", this::metrics);
    server.createContext("/status", this::status);
    server.createContext("/", this::page);
    server.start();
  }

  public InetSocketAddress address() {
    return server.getAddress();
  }

  private boolean healthy() {
    return pipelines.stream().allMatch(p -> p.status().state() == PipelineState.RUNNING);
  }

  /**
   * 200 {@code {"status":"UP","pipelines":{"id":"RUNNING",...}}} when every pipeline runs, else 503
   * "DOWN".
   */
  private void health(HttpExchange ex) throws IOException {
    StringBuilder states = new StringBuilder("{");
    boolean ok = true;
    for (Pipeline p : pipelines) {
      PipelineState state = p.status().state();
      ok &= state == PipelineState.RUNNING;
      if (states.length() > 1) {
        states.append(',');
      }
      states.append(json(p.id())).append(':').append(json(state.name()));
    }
    states.append('}');
    send(
        ex,
        ok ? 200 : 503,
        "application/json",
        "{\"status\":\"" + (ok ? "UP" : "DOWN") + "\",\"pipelines\":" + states + "}");
  }

  private void metrics(HttpExchange ex) throws IOException {
    send(ex, 200, "text/plain; version=0.0.4; charset=utf-8", registry.scrape());
  }

  private void status(HttpExchange ex) throws IOException {
    send(ex, 200, "application/json", statusJson());
  }

  public String statusJson() {
    StringBuilder sb = new StringBuilder("[");
    for (int i = 0; i < pipelines.size(); i++) {
      PipelineStatus s = pipelines.get(i).status();
      if (i > 0) {
        sb.append(',');
      }
      sb.append("{\"id\":")
          .append(json(s.pipelineId()))
          .append(",\"state\":")
          .append(json(s.state().name()))
          .append(",\"lastPlannedBatch\":")
          .append(s.lastPlannedBatch())
          .append(",\"lastCommittedBatch\":")
          .append(s.lastCommittedBatch())
          .append(",\"recordsIn\":")
          .append(s.recordsIn())
          .append(",\"recordsOut\":")
          .append(s.recordsOut())
          .append(",\"failure\":")
          .append(s.failure() == null ? "null" : json(scrub.apply(s.failure())))
          .append('}');
    }
    return sb.append(']').toString();
  }

  private void page(HttpExchange ex) throws IOException {
    if (!ex.getRequestURI().getPath().equals("/")) {
      send(ex, 404, "text/plain", "not found: try /, /health, /status, /metrics\n");
      return;
    }
    StringBuilder sb = new StringBuilder();
    sb.append("<!doctype html><html><head><meta charset=\"utf-8\"><title>Tributary gateway</title>")
        .append("<meta http-equiv=\"refresh\" content=\"5\">")
        .append("<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}")
        .append("td,th{border:1px solid #ccc;padding:4px 10px;text-align:left}.RUNNING{color:#080}")
        .append(".FAILED{color:#c00}</style></head><body><h1>Tributary gateway</h1>")
        .append("<p>Health: <b id=\"health\">")
        .append(healthy() ? "UP" : "DOWN")
        .append("</b></p>")
        .append(
            "<table id=\"pipelines\"><tr><th>pipeline</th><th>state</th><th>last committed batch</th>")
        .append("<th>records in</th><th>records out</th><th>failure</th></tr>");
    for (Pipeline p : pipelines) {
      PipelineStatus s = p.status();
      sb.append("<tr><td>")
          .append(html(s.pipelineId()))
          .append("</td><td class=\"")
          .append(s.state())
          .append("\">")
          .append(s.state())
          .append("</td><td>")
          .append(s.lastCommittedBatch())
          .append("</td><td>")
          .append(s.recordsIn())
          .append("</td><td>")
          .append(s.recordsOut())
          .append("</td><td>")
          .append(s.failure() == null ? "" : html(scrub.apply(s.failure())))
          .append("</td></tr>");
    }
    sb.append(
            "</table><p><a href=\"/status\">status JSON</a> · <a href=\"/metrics\">Prometheus metrics</a>")
        .append(" · <a href=\"/health\">health</a></p></body></html>");
    send(ex, 200, "text/html; charset=utf-8", sb.toString());
  }

  private static void send(HttpExchange ex, int code, String type, String body) throws IOException {
    byte[] b = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", type);
    ex.sendResponseHeaders(code, b.length);
    try (OutputStream o = ex.getResponseBody()) {
      o.write(b);
    }
  }

  private static String json(String s) {
    StringBuilder sb = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          if (c < 0x20) {
            sb.append(String.format("\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    return sb.append('"').toString();
  }

  private static String html(String s) {
    return s.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\"", "&quot;");
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
