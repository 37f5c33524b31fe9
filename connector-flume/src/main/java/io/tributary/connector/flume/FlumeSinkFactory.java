package io.tributary.connector.flume;

import io.tributary.core.api.Config;
import io.tributary.core.api.ConfigSpec;
import io.tributary.core.api.Guarantee;
import io.tributary.core.api.Sink;
import io.tributary.core.api.SinkFactory;

/**
 * The {@code flume} sink type, found through {@link java.util.ServiceLoader}.
 *
 * <p>Thread safety: stateless.
 */
public final class FlumeSinkFactory implements SinkFactory {
  @Override
  public String type() {
    return "flume";
  }

  @Override
  public String description() {
    return "Apache Flume: forward records to agents' Avro sources (one host, load-balancing or"
        + " failover), at-least-once";
  }

  @Override
  public Guarantee guarantee() {
    return Guarantee.AT_LEAST_ONCE;
  }

  @Override
  public ConfigSpec options() {
    return FlumeSinkOptions.SPEC;
  }

  @Override
  public Sink create(String name, Config config) {
    return new FlumeSink(config);
  }
}
