package io.tributary.sdk.testkit;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * An in-memory message source for the SDK's own tests: messages get sequence numbers 1, 2, ...; a message stays
 * unacknowledged until {@link #ack(long)}; every new subscription (and every {@link #poll}) sees unacknowledged
 * messages again, like a queue with redelivery.
 *
 * <p>Thread safety: thread-safe. Each push subscription dispatches on its own thread.
 */
final class FakeBroker {
  /** One message: its sequence number and payload. */
  record Message(long seq, String payload) {}

  private final Object lock = new Object();
  private final List<Message> messages = new ArrayList<>();
  private final Set<Long> acked = ConcurrentHashMap.newKeySet();
  private int subscriptions;

  List<String> publish(String prefix, int count) {
    List<String> out = new ArrayList<>();
    synchronized (lock) {
      for (int i = 0; i < count; i++) {
        Message m = new Message(messages.size() + 1, prefix + "-" + (messages.size() + 1));
        messages.add(m);
        out.add(m.payload());
      }
      lock.notifyAll();
    }
    return out;
  }

  void ack(long seq) {
    acked.add(seq);
  }

  List<String> acknowledged() {
    List<String> out = new ArrayList<>();
    synchronized (lock) {
      for (Message m : messages) {
        if (acked.contains(m.seq())) {
          out.add(m.payload());
        }
      }
    }
    return out;
  }

  /** Unacknowledged messages after {@code afterSeq}, at most {@code max}, waiting up to {@code timeoutMs} for one. */
  List<Message> poll(long afterSeq, int max, long timeoutMs, java.util.function.BooleanSupplier woken)
      throws InterruptedException {
    long deadline = System.currentTimeMillis() + timeoutMs;
    synchronized (lock) {
      while (true) {
        List<Message> out = new ArrayList<>();
        for (Message m : messages) {
          if (m.seq() > afterSeq && !acked.contains(m.seq()) && out.size() < max) {
            out.add(m);
          }
        }
        long left = deadline - System.currentTimeMillis();
        if (!out.isEmpty() || left <= 0 || woken.getAsBoolean()) {
          return out;
        }
        lock.wait(left);
      }
    }
  }

  /** Wakes every waiting {@link #poll}. */
  void wakeAll() {
    synchronized (lock) {
      lock.notifyAll();
    }
  }

  /** Starts a dispatcher that calls {@code listener} with every unacknowledged message, in order, then new ones. */
  AutoCloseable subscribe(Consumer<Message> listener) {
    Thread t;
    boolean[] closed = {false};
    synchronized (lock) {
      subscriptions++;
      t =
          new Thread(
              () -> {
                long next = 0;
                while (true) {
                  Message m = null;
                  synchronized (lock) {
                    while (!closed[0]) {
                      for (Message c : messages) {
                        if (c.seq() > next && !acked.contains(c.seq())) {
                          m = c;
                          break;
                        }
                      }
                      if (m != null) {
                        break;
                      }
                      try {
                        lock.wait();
                      } catch (InterruptedException e) {
                        return;
                      }
                    }
                    if (closed[0]) {
                      return;
                    }
                  }
                  next = m.seq();
                  listener.accept(m);
                }
              },
              "tributary-test-broker-" + subscriptions);
    }
    t.setDaemon(true);
    t.start();
    return () -> {
      synchronized (lock) {
        closed[0] = true;
        lock.notifyAll();
      }
      t.interrupt();
      t.join(5000);
    };
  }
}
