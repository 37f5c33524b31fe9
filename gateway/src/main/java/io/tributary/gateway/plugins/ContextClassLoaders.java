package io.tributary.gateway.plugins;

import io.tributary.core.api.CloseableIterator;
import io.tributary.core.api.Config;
import io.tributary.core.api.ConfigSpec;
import io.tributary.core.api.DirectSource;
import io.tributary.core.api.Guarantee;
import io.tributary.core.api.Receiver;
import io.tributary.core.api.ReceiverRuntime;
import io.tributary.core.api.Record;
import io.tributary.core.api.Sink;
import io.tributary.core.api.SinkFactory;
import io.tributary.core.api.Source;
import io.tributary.core.api.SourceFactory;
import io.tributary.core.api.SupportsPartitionExpiry;
import io.tributary.core.checkpoint.CheckpointStorage;
import io.tributary.core.checkpoint.CheckpointStorageFactory;
import java.io.IOException;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Proxy;
import java.net.URI;
import java.time.Duration;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs every call into a plugin with the thread's context class loader set to the plugin's class
 * loader, and restores it afterwards.
 *
 * <p>Kafka clients, Hadoop, the AWS SDK and Avro look classes and resources up through the thread
 * context class loader (TCCL): a Kafka producer created on the gateway's batch thread would
 * otherwise resolve its serializers in the gateway's class path, where they are not. So the
 * factories of a plugin are wrapped, and so is everything they create: a direct source or a sink (a
 * {@link Proxy} over the contract interfaces it implements, so the runtime's {@code instanceof}
 * checks still see the same capabilities), the objects its methods return ({@code
 * CloseableIterator}, {@code BatchWriter}), a receiver (a {@link Receiver} subclass delegating
 * {@code onStart}/{@code onStop}/{@code onBatchCommitted}) and a checkpoint storage. A thread a
 * plugin starts during such a call inherits the TCCL from its creator (the JDK copies it into every
 * new {@link Thread}), so the plugin's own threads (Netty event loops, Kafka's I/O thread, KCL's
 * workers) see their plugin too.
 *
 * <p>Thread safety: the wrappers are as thread-safe as the objects they wrap.
 */
public final class ContextClassLoaders {
  private static final Logger LOG = LoggerFactory.getLogger(ContextClassLoaders.class);

  private ContextClassLoaders() {}

  /** A call into plugin code. */
  @FunctionalInterface
  public interface PluginCall<T, E extends Exception> {
    T call() throws E;
  }

  /** Runs {@code call} with {@code loader} as the thread's context class loader. */
  public static <T, E extends Exception> T with(ClassLoader loader, PluginCall<T, E> call)
      throws E {
    Thread t = Thread.currentThread();
    ClassLoader old = t.getContextClassLoader();
    if (old == loader) {
      return call.call();
    }
    t.setContextClassLoader(loader);
    try {
      return call.call();
    } finally {
      t.setContextClassLoader(old);
    }
  }

  static SourceFactory wrap(SourceFactory f, ClassLoader loader) {
    return new PluginSourceFactory(f, loader);
  }

  static SinkFactory wrap(SinkFactory f, ClassLoader loader) {
    return new PluginSinkFactory(f, loader);
  }

  static CheckpointStorageFactory wrap(CheckpointStorageFactory f, ClassLoader loader) {
    return new PluginCheckpointStorageFactory(f, loader);
  }

  /** The plugin object a wrapper delegates to; {@code o} itself when it is not a wrapper. */
  public static Object unwrap(Object o) {
    if (o != null && Proxy.isProxyClass(o.getClass())) {
      InvocationHandler h = Proxy.getInvocationHandler(o);
      if (h instanceof Handler handler) {
        return handler.target;
      }
    }
    if (o instanceof ContextReceiver r) {
      return r.target;
    }
    if (o instanceof PluginIterator<?> i) {
      return i.target;
    }
    if (o instanceof PluginSourceFactory f) {
      return f.target;
    }
    if (o instanceof PluginSinkFactory f) {
      return f.target;
    }
    if (o instanceof PluginCheckpointStorageFactory f) {
      return f.target;
    }
    return o;
  }

  static Source wrapSource(Source s, ClassLoader loader) {
    if (s instanceof DirectSource) {
      return (Source) proxy(s, loader);
    }
    Receiver r = (Receiver) s;
    Set<Class<?>> extra = contractInterfaces(r.getClass(), loader);
    extra.remove(Source.class);
    boolean expiring = extra.remove(SupportsPartitionExpiry.class);
    if (!extra.isEmpty()) {
      // A receiver with a capability this wrapper does not know: run it unwrapped rather than hide
      // the capability from the runtime.
      LOG.warn(
          "event=plugin_receiver_unwrapped class={} interfaces={} detail=\"its calls run without"
              + " the plugin's context class loader\"",
          r.getClass().getName(),
          extra);
      return r;
    }
    return expiring ? new ExpiringContextReceiver(r, loader) : new ContextReceiver(r, loader);
  }

  /**
   * A proxy of {@code target} for tests of the wrapping (sinks are otherwise made by factories).
   */
  static Object proxyForTest(Object target, ClassLoader loader) {
    return proxy(target, loader);
  }

  private static Object proxy(Object target, ClassLoader loader) {
    Set<Class<?>> ifaces = contractInterfaces(target.getClass(), loader);
    return Proxy.newProxyInstance(
        ContextClassLoaders.class.getClassLoader(),
        ifaces.toArray(new Class<?>[0]),
        new Handler(target, loader));
  }

  /**
   * The public interfaces {@code c} implements that the gateway can see (not the plugin's own),
   * without sealed ones (a proxy cannot implement them; their permitted sub-interfaces carry them).
   */
  private static Set<Class<?>> contractInterfaces(Class<?> c, ClassLoader pluginLoader) {
    Set<Class<?>> all = new LinkedHashSet<>();
    for (Class<?> k = c; k != null; k = k.getSuperclass()) {
      collect(k.getInterfaces(), all);
    }
    all.removeIf(
        i ->
            i.isSealed()
                || !Modifier.isPublic(i.getModifiers())
                || i.getClassLoader() == pluginLoader);
    return all;
  }

  private static void collect(Class<?>[] ifaces, Set<Class<?>> out) {
    for (Class<?> i : ifaces) {
      if (out.add(i)) {
        collect(i.getInterfaces(), out);
      }
    }
  }

  private static final class Handler implements InvocationHandler {
    final Object target;
    private final ClassLoader loader;

    Handler(Object target, ClassLoader loader) {
      this.target = target;
      this.loader = loader;
    }

    @Override
    public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
      if (method.getDeclaringClass() == Object.class && method.getName().equals("equals")) {
        return proxy == args[0] || target.equals(unwrap(args[0]));
      }
      Object result =
          with(
              loader,
              () -> {
                try {
                  return method.invoke(target, args);
                } catch (InvocationTargetException e) {
                  throw rethrow(e.getCause());
                }
              });
      // A contract object it returns (CloseableIterator, BatchWriter) calls into the plugin later:
      // wrap it too, even when its class is the contract's own (Sink.begin's default BatchWriter
      // calls the plugin's write).
      if (result != null
          && method.getReturnType().isInterface()
          && PluginClassLoader.isShared(method.getReturnType().getName())
          && !Proxy.isProxyClass(result.getClass())) {
        if (method.getReturnType() == CloseableIterator.class
            && isPlainIterator(result.getClass(), loader)) {
          return new PluginIterator<>((CloseableIterator<?>) result, loader);
        }
        return proxy(result, loader);
      }
      return result;
    }
  }

  /**
   * Whether {@code c} implements no contract interface beyond {@link CloseableIterator} and its
   * super-interfaces, so that {@link PluginIterator} hides no capability from the runtime.
   */
  private static boolean isPlainIterator(Class<?> c, ClassLoader loader) {
    Set<Class<?>> ifaces = contractInterfaces(c, loader);
    ifaces.remove(CloseableIterator.class);
    ifaces.remove(Iterator.class);
    ifaces.remove(AutoCloseable.class);
    return ifaces.isEmpty();
  }

  /**
   * A plugin's {@link CloseableIterator} (a direct source's range read) under the plugin's loader,
   * without a {@link Proxy}: {@code hasNext} and {@code next} run once per record on the batch's
   * read threads, where a proxy's reflective call, its argument array and the lambda of {@link
   * #with} showed in the Kafka forwarding profile (bench/README.md). Same behaviour as the proxy:
   * each call runs with the plugin's loader as the thread's context class loader, restored
   * afterwards, and exceptions pass through unchanged. Not thread-safe, like the iterator it wraps.
   */
  static final class PluginIterator<T> implements CloseableIterator<T> {
    private final CloseableIterator<T> target;
    private final ClassLoader loader;

    PluginIterator(CloseableIterator<T> target, ClassLoader loader) {
      this.target = target;
      this.loader = loader;
    }

    @Override
    public boolean hasNext() {
      Thread t = Thread.currentThread();
      ClassLoader old = t.getContextClassLoader();
      if (old == loader) {
        return target.hasNext();
      }
      t.setContextClassLoader(loader);
      try {
        return target.hasNext();
      } finally {
        t.setContextClassLoader(old);
      }
    }

    @Override
    public T next() {
      Thread t = Thread.currentThread();
      ClassLoader old = t.getContextClassLoader();
      if (old == loader) {
        return target.next();
      }
      t.setContextClassLoader(loader);
      try {
        return target.next();
      } finally {
        t.setContextClassLoader(old);
      }
    }

    @Override
    public void close() {
      with(
          loader,
          () -> {
            target.close();
            return null;
          });
    }

    @Override
    public String toString() {
      return target.toString();
    }
  }

  private static Exception rethrow(Throwable t) {
    if (t instanceof Error e) {
      throw e;
    }
    return (Exception) t;
  }

  /**
   * A receiver of a plugin: the runtime attaches this wrapper, and the plugin's receiver is
   * attached to a bridge that stores through the wrapper.
   */
  private static class ContextReceiver extends Receiver {
    final Receiver target;
    final ClassLoader loader;

    ContextReceiver(Receiver target, ClassLoader loader) {
      this.target = target;
      this.loader = loader;
      target.attach(new Bridge());
    }

    @Override
    public void onStart() throws Exception {
      with(
          loader,
          () -> {
            target.onStart();
            return null;
          });
    }

    @Override
    public void onStop() throws Exception {
      with(
          loader,
          () -> {
            target.onStop();
            return null;
          });
    }

    @Override
    public void onBatchCommitted(long batchId, Map<String, Long> committedOffsets)
        throws Exception {
      with(
          loader,
          () -> {
            target.onBatchCommitted(batchId, committedOffsets);
            return null;
          });
    }

    @Override
    public java.util.OptionalInt connectedClients() {
      return with(loader, target::connectedClients);
    }

    @Override
    public String toString() {
      return target.toString();
    }

    private final class Bridge implements ReceiverRuntime {
      @Override
      public void store(Record record) throws InterruptedException {
        ContextReceiver.this.store(record);
      }

      @Override
      public void store(Iterator<Record> records) throws InterruptedException {
        ContextReceiver.this.store(records);
      }

      /**
       * The runtime completes the stored future on a gateway thread (the write-ahead log's): the
       * plugin gets a future of its own, completed under the plugin's loader, so the dependent
       * actions the plugin registered before completion ({@code thenRun}, {@code whenComplete}:
       * e.g. an ack written to its client) run with the plugin's TCCL too. Cancelling the returned
       * future does not cancel the store.
       */
      @Override
      public CompletableFuture<Void> storeReliablyAsync(List<Record> batch) {
        CompletableFuture<Void> forPlugin = new CompletableFuture<>();
        ContextReceiver.this
            .storeReliablyAsync(batch)
            .whenComplete(
                (ok, error) ->
                    with(
                        loader,
                        () ->
                            error == null
                                ? forPlugin.complete(ok)
                                : forPlugin.completeExceptionally(error)));
        return forPlugin;
      }

      @Override
      public OptionalLong lastStoredOffset(String partition) {
        return ContextReceiver.this.lastStoredOffset(partition);
      }

      @Override
      public void restart(String reason, Throwable error) {
        ContextReceiver.this.restart(reason, error);
      }

      @Override
      public void reportError(String message, Throwable error) {
        ContextReceiver.this.reportError(message, error);
      }

      @Override
      public void stop(String reason) {
        ContextReceiver.this.stop(reason);
      }

      @Override
      public boolean isStopped() {
        return ContextReceiver.this.isStopped();
      }

      @Override
      public String receiverName() {
        return ContextReceiver.this.receiverName();
      }

      @Override
      public String pipelineId() {
        return ContextReceiver.this.pipelineId();
      }

      @Override
      public io.micrometer.core.instrument.MeterRegistry meterRegistry() {
        return ContextReceiver.this.meterRegistry();
      }
    }
  }

  private static final class ExpiringContextReceiver extends ContextReceiver
      implements SupportsPartitionExpiry {
    ExpiringContextReceiver(Receiver target, ClassLoader loader) {
      super(target, loader);
    }

    @Override
    public Optional<Duration> partitionIdleTimeout() {
      return with(loader, ((SupportsPartitionExpiry) target)::partitionIdleTimeout);
    }
  }

  private static final class PluginSourceFactory implements SourceFactory {
    final SourceFactory target;
    private final ClassLoader loader;
    private final String type;

    PluginSourceFactory(SourceFactory target, ClassLoader loader) {
      this.target = target;
      this.loader = loader;
      this.type = with(loader, target::type);
    }

    @Override
    public String type() {
      return type;
    }

    @Override
    public String description() {
      return with(loader, target::description);
    }

    @Override
    public ConfigSpec options() {
      return with(loader, target::options);
    }

    @Override
    public Source create(String name, Config config) {
      return wrapSource(with(loader, () -> target.create(name, config)), loader);
    }

    @Override
    public String toString() {
      return target.toString();
    }
  }

  private static final class PluginSinkFactory implements SinkFactory {
    final SinkFactory target;
    private final ClassLoader loader;
    private final String type;

    PluginSinkFactory(SinkFactory target, ClassLoader loader) {
      this.target = target;
      this.loader = loader;
      this.type = with(loader, target::type);
    }

    @Override
    public String type() {
      return type;
    }

    @Override
    public String description() {
      return with(loader, target::description);
    }

    @Override
    public Guarantee guarantee() {
      return with(loader, target::guarantee);
    }

    @Override
    public ConfigSpec options() {
      return with(loader, target::options);
    }

    @Override
    public Sink create(String name, Config config) {
      return (Sink) proxy(with(loader, () -> target.create(name, config)), loader);
    }

    @Override
    public String toString() {
      return target.toString();
    }
  }

  private static final class PluginCheckpointStorageFactory implements CheckpointStorageFactory {
    final CheckpointStorageFactory target;
    private final ClassLoader loader;

    PluginCheckpointStorageFactory(CheckpointStorageFactory target, ClassLoader loader) {
      this.target = target;
      this.loader = loader;
    }

    @Override
    public Set<String> schemes() {
      return with(loader, target::schemes);
    }

    @Override
    public ConfigSpec options() {
      return with(loader, target::options);
    }

    @Override
    public CheckpointStorage create(URI location, Config options) throws IOException {
      return (CheckpointStorage)
          proxy(with(loader, () -> target.create(location, options)), loader);
    }

    @Override
    public String toString() {
      return target.toString();
    }
  }
}
