package io.tributary.connector.socket.internal;

import io.netty.channel.Channel;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Per-producer state of a reliable server, shared by its connections: which connection owns the producer id, the
 * store in flight, and the highest sequence number known durable.
 *
 * <p>Entries are kept for the receiver's lifetime (one small object per distinct producer id).
 *
 * <p>Thread safety: the map is concurrent; each {@link Producer}'s fields are guarded by the producer's monitor.
 */
final class ProducerRegistry {
  static final class Producer {
    final String id;
    /** Guarded by this. The connection that may store for this producer. */
    Channel owner;
    /** Guarded by this. Completes (never exceptionally) once the last store issued for this producer finished. */
    CompletableFuture<Void> tail = CompletableFuture.completedFuture(null);
    /** Guarded by this. Every seq up to this one is durable. */
    long durable = -1;

    Producer(String id) {
      this.id = id;
    }
  }

  private final ConcurrentHashMap<String, Producer> producers = new ConcurrentHashMap<>();

  Producer get(String id) {
    return producers.computeIfAbsent(id, Producer::new);
  }
}
