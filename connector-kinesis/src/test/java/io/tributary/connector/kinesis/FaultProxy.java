package io.tributary.connector.kinesis;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An HTTP proxy in front of the real kinesis-mock that injects the failures the mock never
 * produces, the way AWS reports them (JSON protocol; the module's tests run with CBOR off):
 * throttled calls, PutRecords entries that fail, rejected credentials, and an empty page before a
 * closed shard's end. Everything else is forwarded unchanged.
 *
 * <p>Thread safety: the counters are atomic; configure before use.
 */
final class FaultProxy implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Set<String> SKIP_HEADERS =
      Set.of("host", "content-length", "connection", "expect", "transfer-encoding");

  private final HttpServer server;
  private final HttpClient http =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private final String upstream;

  /** GetRecords calls still to throttle. */
  final AtomicInteger throttleGetRecords = new AtomicInteger();

  /** Calls throttled so far. */
  final AtomicInteger throttled = new AtomicInteger();

  /** PutRecords requests still to throttle as a whole. */
  final AtomicInteger throttlePutRecords = new AtomicInteger();

  /** PutRecords requests still to fail partially (every other entry fails). */
  final AtomicInteger failPutEntries = new AtomicInteger();

  /** PutRecords entries failed so far. */
  final AtomicInteger failedEntries = new AtomicInteger();

  /**
   * Whether the enhanced fan-out calls are answered as a Kinesis-compatible server without them
   * answers (kinesalite: UnknownOperationException).
   */
  volatile boolean refuseFanOut;

  /**
   * Whether a GetRecords that reaches a closed shard's end (no next iterator) is first answered
   * with an empty page whose next iterator is the one asked with, as kinesalite answers when the
   * shard was closed more than a second after its last record; the call with that iterator then
   * gets the records and the end.
   */
  volatile boolean emptyPageBeforeShardEnd;

  /** Empty pages answered so far instead of a shard's end. */
  final AtomicInteger emptyPagesBeforeEnd = new AtomicInteger();

  private final Set<String> delayedEnds = java.util.concurrent.ConcurrentHashMap.newKeySet();

  /** Whether every call is answered as AWS answers an unknown access key. */
  volatile boolean rejectCredentials;

  FaultProxy(String upstream) throws IOException {
    this.upstream = upstream;
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
    server.setExecutor(Executors.newFixedThreadPool(8));
    server.createContext("/", this::handle);
    server.start();
  }

  String endpoint() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  private void handle(HttpExchange ex) throws IOException {
    try (ex) {
      byte[] body = ex.getRequestBody().readAllBytes();
      String target = ex.getRequestHeaders().getFirst("X-Amz-Target");
      String op = target == null ? "" : target.substring(target.indexOf('.') + 1);
      if (rejectCredentials) {
        reply(
            ex,
            400,
            "{\"__type\":\"UnrecognizedClientException\",\"message\":\"The security token included in the"
                + " request is invalid.\"}");
        return;
      }
      if (refuseFanOut && (op.endsWith("StreamConsumer") || op.equals("SubscribeToShard"))) {
        reply(ex, 400, "{\"__type\":\"UnknownOperationException\"}");
        return;
      }
      if (op.equals("GetRecords") && decrementIfPositive(throttleGetRecords)) {
        throttled.incrementAndGet();
        reply(
            ex,
            400,
            "{\"__type\":\"ProvisionedThroughputExceededException\",\"message\":\"Rate exceeded for"
                + " shard\"}");
        return;
      }
      if (op.equals("PutRecords") && decrementIfPositive(throttlePutRecords)) {
        throttled.incrementAndGet();
        reply(
            ex,
            400,
            "{\"__type\":\"ProvisionedThroughputExceededException\",\"message\":\"Rate exceeded for"
                + " stream\"}");
        return;
      }
      if (op.equals("PutRecords") && decrementIfPositive(failPutEntries)) {
        putRecordsPartially(ex, body);
        return;
      }
      HttpResponse<byte[]> resp = forward(ex, body);
      if (op.equals("GetRecords") && emptyPageBeforeShardEnd && resp.statusCode() == 200) {
        JsonNode page = JSON.readTree(resp.body());
        String iterator = JSON.readTree(body).path("ShardIterator").asText();
        JsonNode next = page.path("NextShardIterator");
        if ((next.isMissingNode() || next.isNull()) && delayedEnds.add(iterator)) {
          // the call with the same iterator returns this page's records and the end
          emptyPagesBeforeEnd.incrementAndGet();
          ObjectNode out = JSON.createObjectNode();
          out.set("Records", JSON.createArrayNode());
          out.put("MillisBehindLatest", 0);
          out.put("NextShardIterator", iterator);
          reply(ex, 200, JSON.writeValueAsString(out));
          return;
        }
      }
      ex.getResponseHeaders().put("Content-Type", resp.headers().allValues("Content-Type"));
      ex.sendResponseHeaders(resp.statusCode(), resp.body().length == 0 ? -1 : resp.body().length);
      ex.getResponseBody().write(resp.body());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Forwards the even entries, answers the odd ones as throttled. */
  private void putRecordsPartially(HttpExchange ex, byte[] body)
      throws IOException, InterruptedException {
    ObjectNode req = (ObjectNode) JSON.readTree(body);
    ArrayNode all = (ArrayNode) req.get("Records");
    ArrayNode kept = JSON.createArrayNode();
    for (int i = 0; i < all.size(); i += 2) {
      kept.add(all.get(i));
    }
    req.set("Records", kept);
    HttpResponse<byte[]> resp = forward(ex, JSON.writeValueAsBytes(req));
    if (resp.statusCode() != 200) {
      reply(ex, resp.statusCode(), new String(resp.body(), StandardCharsets.UTF_8));
      return;
    }
    JsonNode real = JSON.readTree(resp.body()).get("Records");
    ArrayNode merged = JSON.createArrayNode();
    int failed = 0;
    for (int i = 0; i < all.size(); i++) {
      if (i % 2 == 0) {
        JsonNode r = real.get(i / 2);
        merged.add(r);
        if (r.has("ErrorCode")) {
          failed++;
        }
      } else {
        failed++;
        failedEntries.incrementAndGet();
        merged.add(
            JSON.createObjectNode()
                .put("ErrorCode", "ProvisionedThroughputExceededException")
                .put("ErrorMessage", "Rate exceeded for shard (injected)"));
      }
    }
    ObjectNode out = JSON.createObjectNode();
    out.put("FailedRecordCount", failed);
    out.set("Records", merged);
    reply(ex, 200, JSON.writeValueAsString(out));
  }

  private HttpResponse<byte[]> forward(HttpExchange ex, byte[] body)
      throws IOException, InterruptedException {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(upstream + ex.getRequestURI()))
            .method(ex.getRequestMethod(), HttpRequest.BodyPublishers.ofByteArray(body));
    ex.getRequestHeaders()
        .forEach(
            (k, vs) -> {
              if (!SKIP_HEADERS.contains(k.toLowerCase(java.util.Locale.ROOT))) {
                for (String v : vs) {
                  try {
                    b.header(k, v);
                  } catch (IllegalArgumentException restricted) {
                    // a header the JDK client sets itself
                  }
                }
              }
            });
    return http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  private static void reply(HttpExchange ex, int status, String json) throws IOException {
    byte[] b = json.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().put("Content-Type", List.of("application/x-amz-json-1.1"));
    ex.sendResponseHeaders(status, b.length);
    ex.getResponseBody().write(b);
  }

  private static boolean decrementIfPositive(AtomicInteger n) {
    return n.getAndUpdate(v -> v > 0 ? v - 1 : 0) > 0;
  }

  @Override
  public void close() {
    server.stop(0);
    ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
  }
}
