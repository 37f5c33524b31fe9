package io.tributary.gateway.plugins;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tributary.core.api.BatchWriter;
import io.tributary.core.api.CloseableIterator;
import io.tributary.core.api.DirectSource;
import io.tributary.core.api.OffsetRange;
import io.tributary.core.api.PartitionInfo;
import io.tributary.core.api.Position;
import io.tributary.core.api.RangeEndByReading;
import io.tributary.core.api.Receiver;
import io.tributary.core.api.ReceiverRuntime;
import io.tributary.core.api.Record;
import io.tributary.core.api.RetriableException;
import io.tributary.core.api.Sink;
import io.tributary.core.api.SinkBatch;
import io.tributary.core.api.SinkContext;
import io.tributary.core.api.Source;
import io.tributary.core.api.SourceContext;
import io.tributary.core.api.SupportsPartitionExpiry;
import io.tributary.core.api.TransactionalSink;
import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * The wrappers keep what the engine looks at (capability interfaces, exception types, the receiver
 * runtime) and run every call with the plugin's loader as the thread context class loader.
 */
class ContextClassLoadersTest {
  /** Stands for a plugin's class loader: only its identity matters here. */
  private final ClassLoader plugin = new URLClassLoader("fake-plugin", new URL[0], null);

  private final List<String> calls = new ArrayList<>();

  private void seen(String call) {
    calls.add(call + ":" + (Thread.currentThread().getContextClassLoader() == plugin));
  }

  private class Direct implements DirectSource, RangeEndByReading {
    @Override
    public void open(SourceContext context) {
      seen("open");
    }

    @Override
    public List<PartitionInfo> partitions() {
      seen("partitions");
      return List.of();
    }

    @Override
    public CloseableIterator<Record> read(OffsetRange range) {
      seen("read");
      Iterator<Record> it = List.of(Record.ofString("a")).iterator();
      return new CloseableIterator<>() {
        @Override
        public boolean hasNext() {
          seen("hasNext");
          return it.hasNext();
        }

        @Override
        public Record next() {
          seen("next");
          return it.next();
        }

        @Override
        public void close() {
          seen("iterator-close");
        }
      };
    }

    @Override
    public Position fixRangeEnd(String partition, Position from, long maxRecords, long maxBytes)
        throws Exception {
      seen("fixRangeEnd");
      throw new RetriableException("shard busy");
    }

    @Override
    public void close() {
      seen("close");
    }
  }

  @Test
  void aDirectSourceKeepsItsCapabilitiesAndExceptionsAndRunsUnderThePluginsLoader()
      throws Exception {
    Source s = ContextClassLoaders.wrapSource(new Direct(), plugin);
    assertThat(s).isInstanceOf(DirectSource.class).isInstanceOf(RangeEndByReading.class);
    DirectSource d = (DirectSource) s;
    d.open(null);
    d.partitions();
    try (CloseableIterator<Record> it = d.read(new OffsetRange("p", 0, 1))) {
      // per record: a plain delegating class, no reflective proxy call
      assertThat(java.lang.reflect.Proxy.isProxyClass(it.getClass())).isFalse();
      while (it.hasNext()) {
        assertThat(it.next().valueAsString()).isEqualTo("a");
      }
    }
    assertThatThrownBy(() -> ((RangeEndByReading) s).fixRangeEnd("p", Position.of(0), 1, 1))
        .isExactlyInstanceOf(RetriableException.class)
        .hasMessage("shard busy");
    d.close();
    assertThat(calls)
        .containsExactly(
            "open:true",
            "partitions:true",
            "read:true",
            "hasNext:true",
            "next:true",
            "hasNext:true",
            "iterator-close:true",
            "fixRangeEnd:true",
            "close:true");
    assertThat(Thread.currentThread().getContextClassLoader()).isNotSameAs(plugin);
    assertThat(ContextClassLoaders.unwrap(s)).isInstanceOf(Direct.class);
  }

  /** A capability an iterator may have beyond the contract's iterator (public: a proxy sees it). */
  public interface Tagged {
    String tag();
  }

  private static final class TaggedIterator implements CloseableIterator<Record>, Tagged {
    @Override
    public boolean hasNext() {
      return false;
    }

    @Override
    public Record next() {
      throw new java.util.NoSuchElementException();
    }

    @Override
    public void close() {}

    @Override
    public String tag() {
      return "t";
    }
  }

  @Test
  void aRangeIteratorThrowsThroughTheWrapperUnchangedAndOneWithMoreCapabilitiesKeepsThem() {
    IllegalStateException broken = new IllegalStateException("fetch failed");
    DirectSource throwing =
        new Direct() {
          @Override
          public CloseableIterator<Record> read(OffsetRange range) {
            return new CloseableIterator<>() {
              @Override
              public boolean hasNext() {
                seen("hasNext");
                throw broken;
              }

              @Override
              public Record next() {
                throw new AssertionError("not called");
              }

              @Override
              public void close() {
                seen("iterator-close");
              }
            };
          }
        };
    DirectSource d = (DirectSource) ContextClassLoaders.wrapSource(throwing, plugin);
    CloseableIterator<Record> it;
    try {
      it = d.read(new OffsetRange("p", 0, 1));
    } catch (Exception e) {
      throw new AssertionError(e);
    }
    assertThatThrownBy(it::hasNext).isSameAs(broken);
    it.close();
    assertThat(calls).containsExactly("hasNext:true", "iterator-close:true");
    assertThat(Thread.currentThread().getContextClassLoader()).isNotSameAs(plugin);
    assertThat(ContextClassLoaders.unwrap(it)).isNotSameAs(it);

    // an iterator class that also implements another contract interface stays a proxy over all
    // of them, so the runtime's instanceof checks still see it
    DirectSource extra =
        new Direct() {
          @Override
          public CloseableIterator<Record> read(OffsetRange range) {
            return new TaggedIterator();
          }
        };
    DirectSource e = (DirectSource) ContextClassLoaders.wrapSource(extra, plugin);
    try (CloseableIterator<Record> r = e.read(new OffsetRange("p", 0, 1))) {
      assertThat(r).isInstanceOf(Tagged.class);
      assertThat(((Tagged) r).tag()).isEqualTo("t");
      assertThat(r.hasNext()).isFalse();
    } catch (Exception ex) {
      throw new AssertionError(ex);
    }
  }

  private final class Transactional implements TransactionalSink {
    final List<String> written = new ArrayList<>();

    @Override
    public void open(SinkContext context) {
      seen("open");
    }

    @Override
    public void write(long batchId, List<Record> records) {
      seen("write");
      records.forEach(r -> written.add(batchId + ":" + r.valueAsString()));
    }

    @Override
    public OptionalLong lastCommittedBatch() {
      seen("lastCommittedBatch");
      return OptionalLong.of(4);
    }

    @Override
    public void close() {
      seen("close");
    }
  }

  @Test
  void aSinksDefaultBatchWriterCallsThePluginUnderItsLoader() throws Exception {
    Transactional target = new Transactional();
    Sink s = (Sink) ContextClassLoaders.proxyForTest(target, plugin);
    assertThat(s).isInstanceOf(TransactionalSink.class);
    assertThat(((TransactionalSink) s).lastCommittedBatch()).hasValue(4);
    try (BatchWriter w = s.begin(SinkBatch.of(5))) {
      w.write(List.of(Record.ofString("x")));
      w.commit();
    }
    assertThat(target.written).containsExactly("5:x");
    assertThat(calls).containsExactly("lastCommittedBatch:true", "write:true");
  }

  private final class Expiring extends Receiver implements SupportsPartitionExpiry {
    @Override
    public void onStart() throws Exception {
      seen("onStart");
      store(Record.ofString("r1"));
      storeReliably(List.of(Record.ofString("r2")));
      seen("stored-" + lastStoredOffset("p").orElse(-1));
    }

    @Override
    public void onStop() {
      seen("onStop");
    }

    @Override
    public Optional<Duration> partitionIdleTimeout() {
      seen("partitionIdleTimeout");
      return Optional.of(Duration.ofMinutes(5));
    }

    @Override
    public java.util.OptionalInt connectedClients() {
      seen("connectedClients");
      return java.util.OptionalInt.of(4);
    }
  }

  @Test
  void aReceiverStoresThroughTheRuntimeTheEngineAttachedAndKeepsPartitionExpiry() throws Exception {
    Source s = ContextClassLoaders.wrapSource(new Expiring(), plugin);
    assertThat(s).isInstanceOf(Receiver.class).isInstanceOf(SupportsPartitionExpiry.class);
    List<String> stored = new ArrayList<>();
    Receiver r = (Receiver) s;
    r.attach(
        new ReceiverRuntime() {
          @Override
          public void store(Record record) {
            stored.add("store:" + record.valueAsString());
          }

          @Override
          public void store(Iterator<Record> records) {
            records.forEachRemaining(x -> stored.add("store:" + x.valueAsString()));
          }

          @Override
          public CompletableFuture<Void> storeReliablyAsync(List<Record> batch) {
            batch.forEach(x -> stored.add("reliable:" + x.valueAsString()));
            return CompletableFuture.completedFuture(null);
          }

          @Override
          public OptionalLong lastStoredOffset(String partition) {
            return OptionalLong.of(7);
          }

          @Override
          public void restart(String reason, Throwable error) {}

          @Override
          public void reportError(String message, Throwable error) {}

          @Override
          public void stop(String reason) {}

          @Override
          public boolean isStopped() {
            return false;
          }

          @Override
          public String receiverName() {
            return "source";
          }
        });
    r.onStart();
    assertThat(((SupportsPartitionExpiry) s).partitionIdleTimeout())
        .hasValue(Duration.ofMinutes(5));
    assertThat(r.connectedClients()).hasValue(4); // the status page's figure, from the plugin
    r.onStop();
    assertThat(stored).containsExactly("store:r1", "reliable:r2");
    assertThat(calls)
        .containsExactly(
            "onStart:true",
            "stored-7:true",
            "partitionIdleTimeout:true",
            "connectedClients:true",
            "onStop:true");
  }

  /**
   * The runtime completes a reliable store on its own thread (the write-ahead log's, whose TCCL is
   * the gateway's): what the plugin chained on the future before it completed runs with the
   * plugin's loader all the same, and a failed store reaches the plugin as the same exception.
   */
  @Test
  void aReliableStoresFutureRunsThePluginsCallbacksUnderItsLoaderOnTheRuntimesThread()
      throws Exception {
    List<CompletableFuture<Void>> pending = new ArrayList<>();
    List<String> outcomes = new ArrayList<>();
    Receiver plugin =
        new Receiver() {
          @Override
          public void onStart() {
            storeReliablyAsync(List.of(Record.ofString("a"))).thenRun(() -> seen("acked-a"));
            storeReliablyAsync(List.of(Record.ofString("b")))
                .whenComplete(
                    (ok, e) -> {
                      seen("failed-b");
                      outcomes.add(String.valueOf(e));
                    });
          }

          @Override
          public void onStop() {}
        };
    Receiver r = (Receiver) ContextClassLoaders.wrapSource(plugin, this.plugin);
    r.attach(
        new ReceiverRuntime() {
          @Override
          public void store(Record record) {}

          @Override
          public void store(Iterator<Record> records) {}

          @Override
          public CompletableFuture<Void> storeReliablyAsync(List<Record> batch) {
            CompletableFuture<Void> f = new CompletableFuture<>();
            pending.add(f);
            return f;
          }

          @Override
          public OptionalLong lastStoredOffset(String partition) {
            return OptionalLong.empty();
          }

          @Override
          public void restart(String reason, Throwable error) {}

          @Override
          public void reportError(String message, Throwable error) {}

          @Override
          public void stop(String reason) {}

          @Override
          public boolean isStopped() {
            return false;
          }

          @Override
          public String receiverName() {
            return "source";
          }
        });
    r.onStart();
    assertThat(pending).hasSize(2);
    assertThat(calls).isEmpty();
    IOException diskFull = new IOException("disk full");
    Thread walThread =
        new Thread(
            () -> {
              pending.get(0).complete(null);
              pending.get(1).completeExceptionally(diskFull);
            },
            "wal-writer");
    walThread.setContextClassLoader(ClassLoader.getSystemClassLoader());
    walThread.start();
    walThread.join(10_000);
    assertThat(calls).containsExactly("acked-a:true", "failed-b:true");
    assertThat(outcomes).containsExactly(diskFull.toString());
  }
}
