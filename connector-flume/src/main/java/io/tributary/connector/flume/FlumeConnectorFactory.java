package io.tributary.connector.flume;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import io.tributary.core.api.Config;
import io.tributary.core.api.ConfigSpec;
import io.tributary.core.api.Source;
import io.tributary.core.api.SourceFactory;

/**
 * The {@code flume} source type, found through {@link java.util.ServiceLoader}: {@code mode: push}
 * creates a {@link FlumePushReceiver}, {@code mode: pull} a {@link FlumePullReceiver}. Meters go to
 * {@link Metrics#globalRegistry}.
 *
 * <p>Thread safety: stateless.
 */
public final class FlumeConnectorFactory implements SourceFactory {
  @Override
  public String type() {
    return "flume";
  }

  @Override
  public String description() {
    return "Apache Flume: agents push over Avro RPC (acknowledged once durable), or Tributary pulls"
        + " from the tributary-flume-sink inside agents (channel transactions held until stored)";
  }

  @Override
  public ConfigSpec options() {
    return FlumeOptions.SPEC;
  }

  /**
   * @throws io.tributary.core.api.ConfigException listing every problem of options that do not fit
   *     together
   */
  @Override
  public Source create(String name, Config config) {
    return create(config, Metrics.globalRegistry);
  }

  /** Like {@link #create(String, Config)} with an explicit meter registry. */
  public Source create(Config config, MeterRegistry registry) {
    return config.get(FlumeOptions.MODE) == FlumeOptions.Mode.PUSH
        ? new FlumePushReceiver(config, registry)
        : new FlumePullReceiver(config, registry);
  }
}
