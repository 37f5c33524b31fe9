package io.tributary.spark.internal;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tributary.core.api.Config;
import io.tributary.core.api.ConfigException;
import io.tributary.core.api.DirectSource;
import io.tributary.core.api.Receiver;
import io.tributary.core.api.Source;
import io.tributary.core.api.SourceContext;
import io.tributary.core.api.SourceFactory;
import io.tributary.core.checkpoint.CheckpointStorage;
import io.tributary.core.checkpoint.CheckpointStorageFactory;
import io.tributary.spark.TributarySparkOptions;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.TreeMap;

/**
 * Everything needed to build and open the same Tributary source on the driver and on every
 * executor: the type, the source's own options (as the user typed them) and where its state lives.
 * Validated once when built ({@link #parse}), so an executor never meets an option error the driver
 * did not report first.
 *
 * <p>Thread safety: immutable.
 */
public final class SourceSpec implements Serializable {
  private static final long serialVersionUID = 1L;

  /** What a Spark option error starts with, so the user knows which call is meant. */
  static final String WHERE = "Invalid options of spark.readStream.format(\"tributary\")";

  private final String type;
  private final String sourceName;
  private final String pipelineId;
  private final Map<String, String> sourceOptions;
  private final Long maxRecordsPerTrigger;
  private final Long maxBytesPerTrigger;
  private final String stateLocation; // null until the stream knows its checkpoint

  private SourceSpec(
      String type,
      String sourceName,
      String pipelineId,
      Map<String, String> sourceOptions,
      Long maxRecordsPerTrigger,
      Long maxBytesPerTrigger,
      String stateLocation) {
    this.type = type;
    this.sourceName = sourceName;
    this.pipelineId = pipelineId;
    this.sourceOptions = sourceOptions;
    this.maxRecordsPerTrigger = maxRecordsPerTrigger;
    this.maxBytesPerTrigger = maxBytesPerTrigger;
    this.stateLocation = stateLocation;
  }

  /**
   * Splits the user's options into the adapter's own and the source's, and validates both with
   * their declarations, reporting every problem at once.
   *
   * @throws ConfigException naming each problem, in the words the gateway uses
   */
  public static SourceSpec parse(Map<String, String> options) {
    return parse(options, WHERE, false);
  }

  /**
   * Checks the options of a receiver type for {@code TributaryStreams.receiverStream}.
   *
   * @throws ConfigException naming each problem
   */
  public static ReceiverSpec parseReceiver(Map<String, String> options) {
    SourceSpec spec = parse(options, RECEIVER_WHERE, true);
    return new ReceiverSpec(spec);
  }

  static final String RECEIVER_WHERE = "Invalid options of TributaryStreams.receiverStream";

  /** A receiver type with checked options, built on the executor that runs it. */
  public static final class ReceiverSpec implements Serializable {
    private static final long serialVersionUID = 1L;
    private final SourceSpec spec;

    ReceiverSpec(SourceSpec spec) {
      this.spec = spec;
    }

    /** A new receiver from the options. */
    public Receiver build() {
      return (Receiver) spec.build(factories().get(spec.type));
    }
  }

  private static SourceSpec parse(Map<String, String> options, String where, boolean receiver) {
    Map<String, String> own = new LinkedHashMap<>();
    Map<String, String> rest = new TreeMap<>();
    for (Map.Entry<String, String> e : options.entrySet()) {
      String canonical = canonical(e.getKey());
      if (canonical != null) {
        own.put(canonical, e.getValue());
      } else {
        rest.put(e.getKey(), e.getValue());
      }
    }
    List<String> problems = new ArrayList<>();
    problems.addAll(
        TributarySparkOptions.SPEC.validate(own).stream().map(p -> p.message()).toList());
    String type = own.get(TributarySparkOptions.SOURCE_TYPE.name());
    SourceFactory factory = null;
    if (type != null && !type.isBlank()) {
      Map<String, SourceFactory> factories = factories();
      factory = factories.get(type);
      if (factory == null) {
        problems.add(
            "Invalid value "
                + type
                + " for source.type: unknown type (expected one of: "
                + String.join(", ", factories.keySet())
                + "; a connector jar on the class path adds more, e.g. --jars"
                + " tributary-connector-kafka.jar)");
      } else {
        problems.addAll(factory.options().validate(rest).stream().map(p -> p.message()).toList());
      }
    }
    if (receiver) {
      for (String k : List.of("maxRecordsPerTrigger", "maxBytesPerTrigger")) {
        if (own.containsKey(k)) {
          problems.add(
              "Invalid key "
                  + k
                  + " for a receiver: Spark rate-limits receivers itself (expected:"
                  + " spark.streaming.receiver.maxRate, or no "
                  + k
                  + ")");
        }
      }
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(
          problems.stream()
              .map(p -> where + (type == null ? "" : " (source.type " + type + ")") + ": " + p)
              .toList());
    }
    Config own2 = TributarySparkOptions.SPEC.parse(own);
    SourceSpec spec =
        new SourceSpec(
            type,
            own2.get(TributarySparkOptions.SOURCE_NAME),
            own2.get(TributarySparkOptions.PIPELINE_ID),
            Map.copyOf(rest),
            own2.get(TributarySparkOptions.MAX_RECORDS_PER_TRIGGER),
            own2.get(TributarySparkOptions.MAX_BYTES_PER_TRIGGER),
            null);
    // Build it once, unopened: constructors check how options fit together (the gateway does the
    // same at validation), and a receiver type is refused here with the way out.
    Source built = spec.build(factory);
    if (receiver) {
      if (built instanceof DirectSource d) {
        closeQuietly(d);
        throw new ConfigException(
            where
                + ": Invalid value "
                + type
                + " for source.type: it is a direct source (expected: a receiver type; read a"
                + " direct source with TributaryStreams.directStream or"
                + " spark.readStream.format(\"tributary\"))");
      }
      return spec;
    }
    if (built instanceof Receiver) {
      throw new ConfigException(
          WHERE
              + ": Invalid value "
              + type
              + " for source.type: it is a receiver, which Structured Streaming cannot replay"
              + " (expected: a direct source type such as kafka or files; run a receiver with"
              + " TributaryStreams.receiverStream)");
    }
    if (built instanceof DirectSource d) {
      closeQuietly(d);
    }
    return spec;
  }

  /** The same spec with its state kept under {@code location} (the query's checkpoint). */
  public SourceSpec withStateLocation(String location) {
    return new SourceSpec(
        type,
        sourceName,
        pipelineId,
        sourceOptions,
        maxRecordsPerTrigger,
        maxBytesPerTrigger,
        location);
  }

  public String type() {
    return type;
  }

  public String sourceName() {
    return sourceName;
  }

  public Long maxRecordsPerTrigger() {
    return maxRecordsPerTrigger;
  }

  public Long maxBytesPerTrigger() {
    return maxBytesPerTrigger;
  }

  /** Builds and opens the source; the caller closes it. */
  public DirectSource open() throws Exception {
    Source s = build(factories().get(type));
    if (!(s instanceof DirectSource d)) {
      throw new ConfigException(WHERE + ": source type " + type + " is not a direct source");
    }
    try {
      d.open(new Context());
      return d;
    } catch (Exception | Error e) {
      closeQuietly(d);
      throw e;
    }
  }

  private Source build(SourceFactory factory) {
    if (factory == null) {
      throw new ConfigException(
          WHERE
              + ": no Tributary source type "
              + type
              + " on this JVM's class path (add the connector jar to --jars or --packages, so every"
              + " executor has it)");
    }
    try {
      return factory.create(sourceName, factory.options().parse(sourceOptions));
    } catch (ConfigException e) {
      throw new ConfigException(
          e.problems().stream().map(p -> WHERE + " (source.type " + type + "): " + p).toList());
    }
  }

  /** The source factories visible to this thread, by type. */
  static Map<String, SourceFactory> factories() {
    ClassLoader cl = Thread.currentThread().getContextClassLoader();
    if (cl == null) {
      cl = SourceSpec.class.getClassLoader();
    }
    Map<String, SourceFactory> m = new TreeMap<>();
    for (SourceFactory f : ServiceLoader.load(SourceFactory.class, cl)) {
      m.putIfAbsent(f.type(), f);
    }
    if (cl != SourceSpec.class.getClassLoader()) {
      for (SourceFactory f :
          ServiceLoader.load(SourceFactory.class, SourceSpec.class.getClassLoader())) {
        m.putIfAbsent(f.type(), f);
      }
    }
    return m;
  }

  private static String canonical(String key) {
    for (String name : TributarySparkOptions.NAMES) {
      if (name.equalsIgnoreCase(key)) {
        return name;
      }
    }
    return null;
  }

  static void closeQuietly(AutoCloseable c) {
    try {
      c.close();
    } catch (Exception ignored) {
      // closing after a failure or a probe; the first problem is the one to report
    }
  }

  @Override
  public String toString() {
    // never the options: they may hold secrets
    return "tributary source " + sourceName + " (" + type + ")";
  }

  /** The context handed to the source: meters kept locally, state under the query checkpoint. */
  private final class Context implements SourceContext {
    private final MeterRegistry registry = new SimpleMeterRegistry();
    private CheckpointStorage storage;

    @Override
    public String pipelineId() {
      return pipelineId;
    }

    @Override
    public String sourceName() {
      return sourceName;
    }

    @Override
    public MeterRegistry meterRegistry() {
      return registry;
    }

    @Override
    public synchronized CheckpointStorage stateStorage() {
      if (stateLocation == null) {
        throw new UnsupportedOperationException(
            "The tributary source has no checkpoint location yet: set the query's"
                + " checkpointLocation option");
      }
      if (storage == null) {
        try {
          storage = CheckpointStorageFactory.open(stateLocation, Map.of());
        } catch (IOException e) {
          throw new UncheckedIOException(
              "Cannot open the tributary source state at " + stateLocation, e);
        } catch (ConfigException e) {
          throw new ConfigException(
              "Cannot keep the state of source type "
                  + type
                  + " at "
                  + stateLocation
                  + ": "
                  + e.getMessage()
                  + " (put the query's checkpoint on a local or shared file system, or add"
                  + " tributary-connector-file for hdfs:// and s3a:// checkpoints)");
        }
      }
      return storage;
    }
  }
}
