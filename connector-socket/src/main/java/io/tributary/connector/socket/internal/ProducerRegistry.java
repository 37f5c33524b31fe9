package io.tributary.connector.socket.internal;

import io.netty.channel.Channel;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Per-producer state of a reliable server, shared by its connections: which connection owns the
 * producer id, the store in flight, and the highest sequence number known durable.
 *
 * <p>A producer that has no connection, no store in flight and no activity for {@code
 * reliable.producer-idle-timeout} is forgotten (swept at most once a minute, when a producer says
 * HELLO), so a server that sees many short-lived producer ids keeps only the recent ones. The
 * runtime forgets the producer's stored position after the same time (the receiver declares it
 * through {@code SupportsPartitionExpiry}).
 *
 * <p>Thread safety: the map is concurrent; each {@link Producer}'s fields are guarded by the
 * producer's monitor.
 */
final class ProducerRegistry {
  private static final long MAX_SWEEP_INTERVAL_MS = 60_000;

  static final class Producer {
    final String id;

    /** Guarded by this. The connection that may store for this producer. */
    Channel owner;

    /**
     * Guarded by this. Completes (never exceptionally) once the last store issued for this producer
     * finished.
     */
    CompletableFuture<Void> tail = CompletableFuture.completedFuture(null);

    /** Guarded by this. Every seq up to this one is durable. */
    long durable = -1;

    /** Guarded by this. Last HELLO, disconnect or completed store (epoch ms). */
    long lastActiveMs;

    /** Guarded by this. Removed from the registry: a HELLO must not claim it. */
    boolean forgotten;

    Producer(String id) {
      this.id = id;
    }
  }

  /**
   * The result of a HELLO: the producer, the connection that owned it before (or null), its store
   * in flight.
   */
  record Claim(Producer producer, Channel previousOwner, CompletableFuture<Void> tail) {}

  private final ConcurrentHashMap<String, Producer> producers = new ConcurrentHashMap<>();
  private final long idleTimeoutMs;
  private final LongSupplier clockMs;
  private final AtomicLong nextSweepMs = new AtomicLong();

  /**
   * @param idleTimeout how long an unconnected producer is kept
   * @param clockMs epoch milliseconds (a manual clock in tests)
   */
  ProducerRegistry(Duration idleTimeout, LongSupplier clockMs) {
    this.idleTimeoutMs = Math.max(1, idleTimeout.toMillis());
    this.clockMs = clockMs;
  }

  /** Makes {@code channel} the owner of producer {@code id} (HELLO). */
  Claim claim(String id, Channel channel) {
    long now = clockMs.getAsLong();
    sweepIfDue(now);
    while (true) {
      Producer p = producers.computeIfAbsent(id, Producer::new);
      synchronized (p) {
        if (p.forgotten) {
          continue; // swept between the lookup and the lock: take the new entry
        }
        Channel previous = p.owner;
        p.owner = channel;
        p.lastActiveMs = now;
        return new Claim(p, previous, p.tail);
      }
    }
  }

  /** Records that a store of {@code p} up to {@code seq} is durable. */
  void stored(Producer p, long seq) {
    long now = clockMs.getAsLong();
    synchronized (p) {
      p.durable = Math.max(p.durable, seq);
      p.lastActiveMs = now;
    }
  }

  /** {@code channel} closed: it no longer owns {@code p} (if it still did). */
  void release(Producer p, Channel channel) {
    long now = clockMs.getAsLong();
    synchronized (p) {
      if (p.owner == channel) {
        p.owner = null;
        p.lastActiveMs = now;
      }
    }
  }

  /** How many producers are known (for tests and metrics). */
  int size() {
    return producers.size();
  }

  private void sweepIfDue(long now) {
    long due = nextSweepMs.get();
    if (now < due
        || !nextSweepMs.compareAndSet(due, now + Math.min(idleTimeoutMs, MAX_SWEEP_INTERVAL_MS))) {
      return;
    }
    for (Producer p : producers.values()) {
      synchronized (p) {
        if (p.owner == null && p.tail.isDone() && now - p.lastActiveMs >= idleTimeoutMs) {
          p.forgotten = true;
          producers.remove(p.id, p);
        }
      }
    }
  }
}
