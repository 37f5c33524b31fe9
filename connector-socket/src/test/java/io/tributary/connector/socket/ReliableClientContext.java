package io.tributary.connector.socket;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tributary.core.api.Receiver;
import io.tributary.sdk.testkit.ReceiverTestContext;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * The SDK's receiver contract context for a reliable {@link SocketServerReceiver}: the source is a
 * real {@link ReliableSocketClient} over TCP, which keeps every frame until the server acknowledged
 * it and resends the rest after a reconnect. A value counts as acknowledged once the client's
 * {@code lastAcked} covers its seq. Extra server options (hardening settings) are merged in.
 */
final class ReliableClientContext implements ReceiverTestContext {
  private final int port;
  private final Map<String, Object> options;
  private final ExecutorService writer =
      Executors.newSingleThreadExecutor(r -> new Thread(r, "contract-writer"));
  private final CompletableFuture<ReliableSocketClient> client;
  private final List<String> bySeq = new ArrayList<>(); // guarded by itself; index = seq

  ReliableClientContext(Object... extraOptions) throws Exception {
    this(null, extraOptions);
  }

  /**
   * @param tls with a certificate: the server speaks TLS with it and the client trusts it
   */
  ReliableClientContext(TestSupport.Cert tls, Object... extraOptions) throws Exception {
    port = TestSupport.freePort();
    options = new HashMap<>();
    options.put("mode", "server");
    options.put("port", port);
    options.put("reliable", true);
    if (tls != null) {
      options.put("tls.enabled", true);
      options.put("tls.cert-file", tls.certPem().toString());
      options.put("tls.key-file", tls.keyPem().toString());
    }
    for (int i = 0; i < extraOptions.length; i += 2) {
      options.put((String) extraOptions[i], extraOptions[i + 1]);
    }
    // Connects in the background: the kit writes before it starts the receiver.
    client =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                ReliableSocketClient.Builder b =
                    ReliableSocketClient.builder("127.0.0.1", port, "contract-producer");
                if (tls != null) {
                  b.tls(tls.certPem());
                }
                // At most 5 lines in flight: the kit's backpressure case gives the runtime room for
                // 10 records, and a receiver can only block between two stores; with the default
                // window, on an idle machine all 200 lines arrive in one read and one store.
                return b.maxUnacked(5)
                    .connectTimeout(Duration.ofSeconds(60))
                    .reconnectBackoff(Duration.ofMillis(10), Duration.ofMillis(200))
                    .connect();
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
              }
            });
  }

  @Override
  public Receiver createReceiver() {
    return new SocketServerReceiver(SocketOptions.SPEC.parse(options), new SimpleMeterRegistry());
  }

  @Override
  public void writeRecords(List<String> values) {
    List<String> copy = List.copyOf(values);
    writer.execute(
        () -> {
          try {
            ReliableSocketClient c = client.join();
            for (String v : copy) {
              // Listed before the send, which blocks while the client's window is full: the
              // lock is never held across it (acknowledgedValues() needs it meanwhile). One
              // writer thread, so list index = sequence number.
              int expected;
              synchronized (bySeq) {
                expected = bySeq.size();
                bySeq.add(v);
              }
              long seq = c.send(v);
              if (seq != expected) {
                throw new IllegalStateException("seq " + seq + " for value #" + expected);
              }
            }
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        });
  }

  @Override
  public List<String> acknowledgedValues() {
    if (!client.isDone()) {
      return List.of();
    }
    long acked = client.join().lastAcked();
    synchronized (bySeq) {
      return List.copyOf(bySeq.subList(0, (int) Math.min(acked + 1, bySeq.size())));
    }
  }

  @Override
  public boolean skipsRecordsAlreadyStored() {
    return true; // WELCOME carries lastStoredOffset: the client drops what is already stored
  }

  @Override
  public Duration maxStopDuration() {
    return Duration.ofSeconds(5);
  }

  @Override
  public void close() throws Exception {
    writer.shutdownNow();
    writer.awaitTermination(10, TimeUnit.SECONDS);
    client.cancel(true);
    if (client.isDone() && !client.isCompletedExceptionally() && !client.isCancelled()) {
      client.join().close();
    }
  }
}
