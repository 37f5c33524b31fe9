package io.tributary.connector.flume;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.flume.Event;
import org.apache.flume.EventDeliveryException;
import org.apache.flume.api.RpcClient;
import org.apache.flume.api.RpcClientFactory;
import org.apache.flume.event.EventBuilder;

/**
 * A Flume sender as an agent's avro sink behaves: sends batches with a {@code flume-ng-sdk} {@link
 * RpcClient} and, when a batch fails, makes a new client and sends the same batch again, until it
 * is answered OK. Records which values were acknowledged (OK), each once.
 *
 * <p>Thread safety: {@link #send} and {@link #acknowledged} may be called from any thread.
 */
final class RetryingSender implements AutoCloseable {
  private final Properties clientProps;
  private final int batchSize;
  private final BlockingQueue<String> pending = new LinkedBlockingQueue<>();
  private final List<String> acked = new CopyOnWriteArrayList<>();
  private final Thread thread;
  private volatile boolean closed;

  RetryingSender(Properties clientProps, int batchSize) {
    this.clientProps = clientProps;
    this.batchSize = batchSize;
    this.thread = new Thread(this::run, "test-flume-sender");
    thread.setDaemon(true);
    thread.start();
  }

  /** A default client (one host) with a short request timeout. */
  static Properties defaultClient(int port) {
    Properties p = new Properties();
    p.setProperty("hosts", "h1");
    p.setProperty("hosts.h1", "127.0.0.1:" + port);
    p.setProperty("connect-timeout", "2000");
    p.setProperty("request-timeout", "60000");
    return p;
  }

  void send(List<String> values) {
    pending.addAll(values);
  }

  List<String> acknowledged() {
    return new ArrayList<>(acked);
  }

  private void run() {
    RpcClient client = null;
    List<String> batch = new ArrayList<>();
    while (!closed) {
      try {
        if (batch.isEmpty()) {
          String first = pending.poll(100, TimeUnit.MILLISECONDS);
          if (first == null) {
            continue;
          }
          batch.add(first);
          pending.drainTo(batch, batchSize - 1);
        }
        if (client == null) {
          client = RpcClientFactory.getInstance(clientProps);
        }
        List<Event> events = new ArrayList<>();
        for (String v : batch) {
          events.add(EventBuilder.withBody(v, StandardCharsets.UTF_8));
        }
        client.appendBatch(events);
        acked.addAll(batch);
        batch.clear();
      } catch (InterruptedException e) {
        break;
      } catch (EventDeliveryException | RuntimeException e) {
        if (client != null) {
          client.close();
          client = null;
        }
        try {
          // retry backoff of the simulated agent, as Flume's sink runner backs off
          TimeUnit.MILLISECONDS.sleep(50);
        } catch (InterruptedException ie) {
          break;
        }
      }
    }
    if (client != null) {
      client.close();
    }
  }

  @Override
  public void close() throws InterruptedException {
    closed = true;
    thread.interrupt();
    thread.join(10_000);
  }
}
