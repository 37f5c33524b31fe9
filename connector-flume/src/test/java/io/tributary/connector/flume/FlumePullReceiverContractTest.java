package io.tributary.connector.flume;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tributary.connector.flume.agent.TributarySink;
import io.tributary.core.api.Receiver;
import io.tributary.sdk.testkit.ReceiverContractTest;
import io.tributary.sdk.testkit.ReceiverTestContext;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.apache.flume.Context;
import org.apache.flume.Event;
import org.apache.flume.Transaction;
import org.apache.flume.channel.AbstractChannel;
import org.apache.flume.channel.MemoryChannel;
import org.apache.flume.conf.Configurables;
import org.apache.flume.event.EventBuilder;

/**
 * The SDK's receiver contract for pull mode: the real {@code tributary-flume-sink} ({@link
 * TributarySink}) serves Flume's real {@link MemoryChannel} over Avro RPC in this JVM, and {@link
 * FlumePullReceiver} polls it. Acknowledged means what the sink committed out of the channel (a
 * channel transaction's commit after the poller's {@code ack}); what it rolled back is served again
 * to the next poller, as the contract's redelivery cases need. Against a Flume agent in a child JVM
 * the same path is covered by {@code FlumePullReceiverIT}.
 */
class FlumePullReceiverContractTest extends ReceiverContractTest {
  @Override
  protected ReceiverTestContext createContext() throws Exception {
    CommitTrackingChannel channel = new CommitTrackingChannel();
    channel.start();
    TributarySink sink = new TributarySink();
    sink.setName("k1");
    Context c = new Context();
    c.put("hostname", "127.0.0.1");
    c.put("port", "0");
    c.put("threads", "4");
    c.put("transaction-timeout", "5000");
    c.put("poll-timeout", "1000");
    Configurables.configure(sink, c);
    sink.setChannel(channel);
    sink.start();
    int port = sink.boundPort();
    return new ReceiverTestContext() {
      @Override
      public Receiver createReceiver() {
        return new FlumePullReceiver(
            // Batches of 5: the contract's backpressure case gives the runtime room for 10 records,
            // and a receiver can only block between two stores.
            FlumeTestSupport.config(
                "mode", "pull", "pull.hosts", "127.0.0.1:" + port, "pull.batch-size", 5),
            new SimpleMeterRegistry());
      }

      @Override
      public void writeRecords(List<String> values) {
        channel.putAll(values);
      }

      @Override
      public List<String> acknowledgedValues() {
        return channel.committedTakes();
      }

      @Override
      public void close() {
        sink.stop();
        channel.stop();
      }
    };
  }

  /**
   * Flume's {@link MemoryChannel}, with each transaction's takes recorded when it commits: the
   * values the sink removed from the channel for good.
   */
  static final class CommitTrackingChannel extends AbstractChannel {
    private final MemoryChannel inner = new MemoryChannel();
    private final ThreadLocal<List<String>> taken = ThreadLocal.withInitial(ArrayList::new);
    private final List<String> committed = Collections.synchronizedList(new ArrayList<>());

    CommitTrackingChannel() {
      setName("c1");
      inner.setName("c1-memory");
      Context c = new Context();
      c.put("capacity", "200000");
      c.put("transactionCapacity", "20000");
      // A take from an empty memory channel waits keep-alive seconds (3 by default) for an event; a
      // poll that empties the channel would then outlast the sink's poll-timeout of this test.
      c.put("keep-alive", "0");
      Configurables.configure(inner, c);
    }

    @Override
    public synchronized void start() {
      inner.start();
      super.start();
    }

    @Override
    public synchronized void stop() {
      inner.stop();
      super.stop();
    }

    /** Puts {@code values} in one committed channel transaction, in order. */
    void putAll(List<String> values) {
      Transaction tx = inner.getTransaction();
      tx.begin();
      try {
        for (String v : values) {
          inner.put(EventBuilder.withBody(v, StandardCharsets.UTF_8));
        }
        tx.commit();
      } catch (RuntimeException e) {
        tx.rollback();
        throw e;
      } finally {
        tx.close();
      }
    }

    List<String> committedTakes() {
      synchronized (committed) {
        return List.copyOf(committed);
      }
    }

    @Override
    public void put(Event event) {
      inner.put(event);
    }

    @Override
    public Event take() {
      Event e = inner.take();
      if (e != null) {
        taken.get().add(new String(e.getBody(), StandardCharsets.UTF_8));
      }
      return e;
    }

    @Override
    public Transaction getTransaction() {
      Transaction tx = inner.getTransaction();
      return new Transaction() {
        @Override
        public void begin() {
          taken.get().clear();
          tx.begin();
        }

        @Override
        public void commit() {
          tx.commit();
          committed.addAll(taken.get());
          taken.get().clear();
        }

        @Override
        public void rollback() {
          tx.rollback();
          taken.get().clear();
        }

        @Override
        public void close() {
          tx.close();
        }
      };
    }
  }
}
