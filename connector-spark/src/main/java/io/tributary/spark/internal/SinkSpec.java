package io.tributary.spark.internal;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tributary.core.api.Config;
import io.tributary.core.api.ConfigException;
import io.tributary.core.api.Guarantee;
import io.tributary.core.api.Sink;
import io.tributary.core.api.SinkContext;
import io.tributary.core.api.SinkFactory;
import io.tributary.spark.TributarySparkOptions;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.TreeMap;

/**
 * Everything needed to build and open the same Tributary sink on every executor: the type, the
 * sink's own options (as the user typed them) and its name. Validated once on the driver ({@link
 * #parse}), so an executor never meets an option error the driver did not report first.
 *
 * <p>Thread safety: immutable.
 */
public final class SinkSpec implements Serializable {
  private static final long serialVersionUID = 1L;

  /** What a Spark option error starts with, so the user knows which call is meant. */
  static final String WHERE = "Invalid options of writeStream.format(\"tributary\")";

  /** Options Spark's DataStreamWriter passes along that are Spark's, not the sink's. */
  private static final Set<String> SPARK_KEYS = Set.of("checkpointlocation", "path", "queryname");

  private final String type;
  private final String sinkName;
  private final Map<String, String> sinkOptions;
  private final Guarantee guarantee;

  private SinkSpec(
      String type, String sinkName, Map<String, String> sinkOptions, Guarantee guarantee) {
    this.type = type;
    this.sinkName = sinkName;
    this.sinkOptions = sinkOptions;
    this.guarantee = guarantee;
  }

  /** Whether {@code options} ask for a sink ({@code sink.type} is present, in any case). */
  public static boolean isSink(Map<String, String> options) {
    return options.keySet().stream()
        .anyMatch(k -> k.equalsIgnoreCase(TributarySparkOptions.SINK_TYPE.name()));
  }

  /**
   * Splits the user's options into the adapter's own and the sink's, and validates both with their
   * declarations, reporting every problem at once.
   *
   * @throws ConfigException naming each problem, in the words the gateway uses
   */
  public static SinkSpec parse(Map<String, String> options) {
    Map<String, String> own = new LinkedHashMap<>();
    Map<String, String> rest = new TreeMap<>();
    List<String> problems = new ArrayList<>();
    for (Map.Entry<String, String> e : options.entrySet()) {
      String canonical = canonical(e.getKey());
      if (canonical != null) {
        own.put(canonical, e.getValue());
      } else if (e.getKey().equalsIgnoreCase(TributarySparkOptions.SOURCE_TYPE.name())) {
        problems.add(
            "Invalid key source.type together with sink.type: one format(\"tributary\") is either a"
                + " source or a sink (expected: source.type on readStream, sink.type on"
                + " writeStream)");
      } else if (!SPARK_KEYS.contains(e.getKey().toLowerCase(java.util.Locale.ROOT))) {
        rest.put(e.getKey(), e.getValue());
      }
    }
    problems.addAll(
        TributarySparkOptions.SINK_SPEC.validate(own).stream().map(p -> p.message()).toList());
    String type = own.get(TributarySparkOptions.SINK_TYPE.name());
    SinkFactory factory = null;
    if (type != null && !type.isBlank()) {
      Map<String, SinkFactory> factories = factories();
      factory = factories.get(type);
      if (factory == null) {
        problems.add(
            "Invalid value "
                + type
                + " for sink.type: unknown type (expected one of: "
                + String.join(", ", factories.keySet())
                + "; a connector jar on the class path adds more, e.g. --jars"
                + " tributary-connector-kafka.jar)");
      } else if (factory.guarantee() == Guarantee.EXACTLY_ONCE_IDEMPOTENT) {
        problems.add(
            "Invalid value "
                + type
                + " for sink.type: an idempotent sink names its output by batch id, and from Spark"
                + " every task of a micro-batch writes under the same batch id (expected: a"
                + " transactional sink such as kafka, or an at-least-once one; for files use Spark's"
                + " own file sink)");
      } else {
        problems.addAll(factory.options().validate(rest).stream().map(p -> p.message()).toList());
      }
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(
          problems.stream()
              .map(p -> WHERE + (type == null ? "" : " (sink.type " + type + ")") + ": " + p)
              .toList());
    }
    Config parsed = TributarySparkOptions.SINK_SPEC.parse(own);
    SinkSpec spec =
        new SinkSpec(
            type,
            parsed.get(TributarySparkOptions.SINK_NAME),
            Map.copyOf(rest),
            factory.guarantee());
    // Build it once, unopened: constructors check how options fit together.
    SourceSpec.closeQuietly(spec.build(factory));
    return spec;
  }

  public String type() {
    return type;
  }

  public String sinkName() {
    return sinkName;
  }

  public Guarantee guarantee() {
    return guarantee;
  }

  /**
   * Builds and opens the sink as sink {@code name} of pipeline {@code pipelineId}; the caller
   * closes it.
   */
  public Sink open(String pipelineId, String name) throws Exception {
    Sink s = build(factories().get(type));
    try {
      MeterRegistry registry = new SimpleMeterRegistry();
      s.open(
          new SinkContext() {
            @Override
            public String pipelineId() {
              return pipelineId;
            }

            @Override
            public String sinkName() {
              return name;
            }

            @Override
            public MeterRegistry meterRegistry() {
              return registry;
            }
          });
      return s;
    } catch (Exception | Error e) {
      SourceSpec.closeQuietly(s);
      throw e;
    }
  }

  private Sink build(SinkFactory factory) {
    if (factory == null) {
      throw new ConfigException(
          WHERE
              + ": no Tributary sink type "
              + type
              + " on this JVM's class path (add the connector jar to --jars or --packages, so every"
              + " executor has it)");
    }
    try {
      return factory.create(sinkName, factory.options().parse(sinkOptions));
    } catch (ConfigException e) {
      throw new ConfigException(
          e.problems().stream().map(p -> WHERE + " (sink.type " + type + "): " + p).toList());
    }
  }

  /** The sink factories visible to this thread, by type. */
  static Map<String, SinkFactory> factories() {
    ClassLoader cl = Thread.currentThread().getContextClassLoader();
    if (cl == null) {
      cl = SinkSpec.class.getClassLoader();
    }
    Map<String, SinkFactory> m = new TreeMap<>();
    for (SinkFactory f : ServiceLoader.load(SinkFactory.class, cl)) {
      m.putIfAbsent(f.type(), f);
    }
    if (cl != SinkSpec.class.getClassLoader()) {
      for (SinkFactory f : ServiceLoader.load(SinkFactory.class, SinkSpec.class.getClassLoader())) {
        m.putIfAbsent(f.type(), f);
      }
    }
    return m;
  }

  private static String canonical(String key) {
    for (String name : TributarySparkOptions.SINK_NAMES) {
      if (name.equalsIgnoreCase(key)) {
        return name;
      }
    }
    return null;
  }

  @Override
  public String toString() {
    // never the options: they may hold secrets
    return "tributary sink " + sinkName + " (" + type + ")";
  }
}
