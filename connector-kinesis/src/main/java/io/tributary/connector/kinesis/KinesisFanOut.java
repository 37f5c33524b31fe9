package io.tributary.connector.kinesis;

import io.micrometer.core.instrument.Counter;
import io.tributary.connector.kinesis.internal.KinesisClients;
import io.tributary.connector.kinesis.internal.KinesisClients.AsyncClient;
import io.tributary.connector.kinesis.internal.KinesisClients.Target;
import io.tributary.core.api.ConfigException;
import io.tributary.core.api.Position;
import io.tributary.core.api.RetriableException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.ConsumerStatus;
import software.amazon.awssdk.services.kinesis.model.InvalidArgumentException;
import software.amazon.awssdk.services.kinesis.model.LimitExceededException;
import software.amazon.awssdk.services.kinesis.model.Record;
import software.amazon.awssdk.services.kinesis.model.ResourceInUseException;
import software.amazon.awssdk.services.kinesis.model.ResourceNotFoundException;
import software.amazon.awssdk.services.kinesis.model.ShardIteratorType;
import software.amazon.awssdk.services.kinesis.model.StartingPosition;
import software.amazon.awssdk.services.kinesis.model.SubscribeToShardEvent;
import software.amazon.awssdk.services.kinesis.model.SubscribeToShardEventStream;
import software.amazon.awssdk.services.kinesis.model.SubscribeToShardResponseHandler;

/**
 * Enhanced fan-out for {@link KinesisDirectSource} ({@code consumer: efo}): registers the stream
 * consumer and runs one SubscribeToShard subscription per shard over HTTP/2, pulled by the batch
 * thread event by event (reactive-streams demand of {@link #WINDOW} events, so memory is bounded).
 * A subscription ends after 5 minutes on AWS, or when the server completes it; it is renewed from
 * the last event's continuation sequence number (AFTER_SEQUENCE_NUMBER), so no record is skipped or
 * delivered twice. ResourceInUse (the previous subscription of this consumer and shard is still
 * active) and LimitExceeded (SubscribeToShard is allowed once per second per shard and consumer)
 * are retried with backoff and counted as throttled.
 *
 * <p>Thread safety: {@link #open} once; each {@link ShardSubscription} is used by one thread (the
 * batch thread) while the SDK's event-loop threads hand it events through a queue; {@link #close}
 * cancels every subscription.
 */
final class KinesisFanOut implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(KinesisFanOut.class);
  private static final Duration MAX_BACKOFF = Duration.ofSeconds(5);

  /** Events requested ahead of the consumer per subscription. */
  static final int WINDOW = 4;

  private final Target target;
  private final String consumerName;
  private final Duration throttleBackoff;
  private final Duration readTimeout;
  private final Counter throttled;
  private final Counter subscriptions;
  private final String logPrefix;
  private volatile Duration renewAfter = Duration.ofMinutes(5);
  private AsyncClient async;
  private String consumerArn;
  private volatile boolean closed;

  KinesisFanOut(
      Target target,
      String consumerName,
      Duration throttleBackoff,
      Duration readTimeout,
      Counter throttled,
      Counter subscriptions,
      String logPrefix) {
    this.target = target;
    this.consumerName = consumerName;
    this.throttleBackoff = throttleBackoff;
    this.readTimeout = readTimeout;
    this.throttled = throttled;
    this.subscriptions = subscriptions;
    this.logPrefix = logPrefix;
  }

  /**
   * How long a subscription is used before it is renewed from its continuation (AWS ends each after
   * 5 minutes itself; a shorter span renews it earlier). For tests.
   */
  void renewAfter(Duration d) {
    this.renewAfter = d;
  }

  String consumerArn() {
    return consumerArn;
  }

  /**
   * Registers the consumer on the stream (or finds it registered) and waits until it is ACTIVE.
   *
   * @throws ConfigException when the endpoint does not serve enhanced fan-out, naming the option
   *     that switches back to polling
   */
  void open(KinesisClient sync, String streamArn) {
    long deadline = System.nanoTime() + readTimeout.toNanos();
    long backoff = Math.min(50, throttleBackoff.toMillis());
    boolean registered = false;
    while (true) {
      try {
        if (!registered) {
          try {
            sync.registerStreamConsumer(b -> b.streamARN(streamArn).consumerName(consumerName));
            LOG.info(
                "event=kinesis_efo_consumer_registered {} consumer={}", logPrefix, consumerName);
          } catch (ResourceInUseException exists) {
            // registered before (by an earlier run or another instance): use it
          }
          registered = true;
        }
        var d =
            sync.describeStreamConsumer(b -> b.streamARN(streamArn).consumerName(consumerName))
                .consumerDescription();
        if (d.consumerStatus() == ConsumerStatus.ACTIVE) {
          consumerArn = d.consumerARN();
          break;
        }
        if (d.consumerStatus() == ConsumerStatus.DELETING) {
          registered = false; // register again once the old one is gone
        }
      } catch (ResourceNotFoundException gone) {
        registered = false;
        if (gone.getMessage() != null && !gone.getMessage().toLowerCase().contains("consumer")) {
          throw KinesisClients.translate("register the enhanced fan-out consumer", target, gone);
        }
      } catch (SdkException e) {
        if (KinesisClients.isUnsupportedOperation(e)) {
          throw unsupported("RegisterStreamConsumer", e);
        }
        RuntimeException t =
            KinesisClients.translate("register the enhanced fan-out consumer", target, e);
        if (!(t instanceof RetriableException)) {
          throw t;
        }
        if (KinesisClients.isThrottling(e)) {
          throttled.increment();
        }
      }
      if (System.nanoTime() > deadline) {
        throw new RetriableException(
            "Kinesis "
                + target.describe()
                + ": enhanced fan-out consumer "
                + consumerName
                + " did not become ACTIVE within read-timeout "
                + readTimeout);
      }
      sleep(backoff);
      backoff = Math.min(backoff * 2, 1000);
    }
    async = KinesisClients.createAsync(target);
    LOG.info(
        "event=kinesis_efo_consumer_active {} consumer={} consumer_arn={}",
        logPrefix,
        consumerName,
        consumerArn);
  }

  private ConfigException unsupported(String op, Throwable e) {
    return new ConfigException(
        "The Kinesis endpoint of "
            + target.describe()
            + " does not serve enhanced fan-out: "
            + op
            + " was refused ("
            + e.getMessage()
            + "). Set consumer: polling (the default, GetRecords) for this endpoint, or use an endpoint"
            + " that serves RegisterStreamConsumer and SubscribeToShard over HTTP/2 (AWS Kinesis Data"
            + " Streams).");
  }

  /** Starts reading {@code shard} at {@code from} (a position of {@link KinesisDirectSource}). */
  ShardSubscription subscribe(String shard, Position from) {
    StartingPosition.Builder sp = StartingPosition.builder();
    if (from.equals(Position.ZERO)) {
      sp.type(ShardIteratorType.TRIM_HORIZON);
    } else if (from.sequence().signum() == 0) {
      sp.type(ShardIteratorType.AT_TIMESTAMP).timestamp(Instant.ofEpochMilli(from.sub()));
    } else {
      sp.type(ShardIteratorType.AT_SEQUENCE_NUMBER).sequenceNumber(from.sequence().toString());
    }
    ShardSubscription s = new ShardSubscription(shard, sp.build());
    s.start();
    return s;
  }

  @Override
  public void close() {
    closed = true;
    if (async != null) {
      async.close();
      async = null;
    }
  }

  private static void sleep(long ms) {
    try {
      TimeUnit.MILLISECONDS.sleep(ms); // backoff between attempts, not synchronisation
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RetriableException("Interrupted while backing off from SubscribeToShard", e);
    }
  }

  /** What a subscription hands the batch thread. */
  sealed interface Signal permits Event, Done {}

  /**
   * One SubscribeToShard event: its records (as Kinesis sent them, KPL aggregates not yet split),
   * lag, and whether the shard ended (no continuation: split or merge, every record delivered).
   */
  record Event(
      List<Record> records,
      long millisBehind,
      String continuation,
      boolean shardEnded,
      int generation)
      implements Signal {}

  /** The subscription of {@code generation} completed ({@code error} null) or failed. */
  record Done(Throwable error, int generation) implements Signal {}

  /**
   * The subscription of one shard, renewed as needed. {@link #poll} returns the next event in order
   * across renewals.
   */
  final class ShardSubscription implements AutoCloseable {
    private final String shard;
    private final LinkedBlockingQueue<Signal> queue = new LinkedBlockingQueue<>();
    private StartingPosition start;
    private String continuation; // of the last event taken by the batch thread
    private volatile int generation;
    private volatile Subscription current;
    private volatile java.util.concurrent.CompletableFuture<Void> call;
    private long startedAt;
    private int eventsInGeneration;
    private long backoff = throttleBackoff.toMillis();
    private long lastProgress = System.nanoTime();
    private boolean ended;
    private volatile boolean cancelled;

    ShardSubscription(String shard, StartingPosition start) {
      this.shard = shard;
      this.start = start;
    }

    private void start() {
      int gen = ++generation;
      current = null;
      eventsInGeneration = 0;
      startedAt = System.nanoTime();
      subscriptions.increment();
      SubscribeToShardResponseHandler handler =
          SubscribeToShardResponseHandler.builder()
              .subscriber(() -> new EventSubscriber(gen))
              .build();
      StartingPosition sp = start;
      LOG.debug(
          "event=kinesis_efo_subscribe {} shard={} start={} generation={}",
          logPrefix,
          shard,
          sp,
          gen);
      java.util.concurrent.CompletableFuture<Void> f =
          async
              .kinesis()
              .subscribeToShard(
                  b -> b.consumerARN(consumerArn).shardId(shard).startingPosition(sp), handler);
      call = f;
      f.whenComplete((v, t) -> queue.add(new Done(t, gen)));
    }

    /**
     * The next event, waiting at most {@code waitMs}; null when none arrived in time. Renews the
     * subscription when it completed or is older than the renewal span; retries refusals with
     * backoff.
     *
     * @throws InvalidArgumentException when Kinesis refused the starting position (the caller falls
     *     back to GetRecords, which reports expired data)
     * @throws ConfigException when the endpoint does not serve SubscribeToShard, or for a missing
     *     stream or rejected credentials
     * @throws RetriableException when no event came for {@code read-timeout} because of failures
     */
    Signal poll(long waitMs) {
      if (ended) {
        return null;
      }
      if (continuation != null
          && eventsInGeneration > 0
          && System.nanoTime() - startedAt > renewAfter.toNanos()
          && queue.isEmpty()) {
        renew("renewal span reached");
      }
      long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(waitMs);
      while (true) {
        Signal s;
        try {
          s = queue.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new RetriableException("Interrupted while waiting for SubscribeToShard events", e);
        }
        if (s == null || cancelled) {
          return null;
        }
        if (s instanceof Event ev) {
          if (ev.generation != generation) {
            continue; // from a subscription that was renewed
          }
          Subscription sub = current;
          if (sub != null) {
            sub.request(1);
          }
          lastProgress = System.nanoTime();
          backoff = throttleBackoff.toMillis();
          eventsInGeneration++;
          if (ev.continuation != null) {
            continuation = ev.continuation; // a renewal resumes after this event's records
          }
          if (ev.shardEnded) {
            ended = true;
            cancelCurrent();
          }
          return ev;
        }
        Done d = (Done) s;
        if (d.generation != generation) {
          continue;
        }
        handleDone(d.error);
      }
    }

    /** A completed or failed subscription: renew it, after a backoff when it failed. */
    private void handleDone(Throwable error) {
      Throwable e =
          error instanceof CompletionException && error.getCause() != null
              ? error.getCause()
              : error;
      if (e == null) {
        renew("completed by the server");
        return;
      }
      if (e instanceof InvalidArgumentException ia) {
        throw ia;
      }
      if (KinesisClients.isUnsupportedOperation(e)) {
        throw unsupported("SubscribeToShard", e);
      }
      boolean inUse = e instanceof ResourceInUseException;
      boolean limited = e instanceof LimitExceededException || KinesisClients.isThrottling(e);
      if (!inUse && !limited) {
        RuntimeException t = KinesisClients.translate("subscribe to shard " + shard, target, e);
        if (!(t instanceof RetriableException)
            || System.nanoTime() - lastProgress > readTimeout.toNanos()) {
          throw t;
        }
      } else {
        throttled.increment();
      }
      LOG.debug(
          "event=kinesis_efo_subscription_failed {} shard={} in_use={} limited={} backoff_ms={}"
              + " error=\"{}\"",
          logPrefix,
          shard,
          inUse,
          limited,
          backoff,
          e.getMessage());
      sleep(backoff);
      backoff = Math.min(backoff * 2, MAX_BACKOFF.toMillis());
      renew("failed: " + e.getClass().getSimpleName());
    }

    private void renew(String why) {
      cancelCurrent();
      if (continuation != null) {
        start =
            StartingPosition.builder()
                .type(ShardIteratorType.AFTER_SEQUENCE_NUMBER)
                .sequenceNumber(continuation)
                .build();
      }
      LOG.debug(
          "event=kinesis_efo_resubscribe {} shard={} reason=\"{}\" continuation={}",
          logPrefix,
          shard,
          why,
          continuation);
      if (!closed && !cancelled) {
        start();
      }
    }

    private void cancelCurrent() {
      Subscription s = current;
      current = null;
      if (s != null) {
        s.cancel();
      }
      java.util.concurrent.CompletableFuture<Void> f = call;
      call = null;
      if (f != null) {
        f.cancel(true); // ends the HTTP/2 stream, so the server frees the consumer's shard
      }
    }

    @Override
    public void close() {
      cancelled = true;
      cancelCurrent();
      generation++;
    }

    /** Receives one subscription's events; the batch thread requests more as it takes them. */
    private final class EventSubscriber implements Subscriber<SubscribeToShardEventStream> {
      private final int gen;

      EventSubscriber(int gen) {
        this.gen = gen;
      }

      @Override
      public void onSubscribe(Subscription s) {
        if (cancelled || gen != generation) {
          s.cancel();
          return;
        }
        current = s;
        s.request(WINDOW);
      }

      @Override
      public void onNext(SubscribeToShardEventStream item) {
        if (item instanceof SubscribeToShardEvent ev) {
          queue.add(
              new Event(
                  ev.records(),
                  ev.millisBehindLatest() == null ? 0 : ev.millisBehindLatest(),
                  ev.continuationSequenceNumber(),
                  ev.continuationSequenceNumber() == null,
                  gen));
        }
      }

      @Override
      public void onError(Throwable t) {
        // reported through the call's future (Done), once
      }

      @Override
      public void onComplete() {
        // reported through the call's future (Done)
      }
    }
  }
}
