package io.tributary.connector.kinesis;

import io.tributary.core.api.Config;
import io.tributary.core.api.ConfigSpec;
import io.tributary.core.api.Guarantee;
import io.tributary.core.api.Sink;
import io.tributary.core.api.SinkFactory;

/**
 * The {@code kinesis} sink type: a {@link KinesisSink}. Found through {@link
 * java.util.ServiceLoader}.
 *
 * <p>Thread safety: stateless.
 */
public final class KinesisSinkFactory implements SinkFactory {
  @Override
  public String type() {
    return "kinesis";
  }

  @Override
  public String description() {
    return "Writes each batch to a Kinesis data stream with PutRecords (at-least-once; dedup ids for"
        + " exactly-once through a kinesis source)";
  }

  @Override
  public Guarantee guarantee() {
    return Guarantee.AT_LEAST_ONCE;
  }

  @Override
  public ConfigSpec options() {
    return KinesisOptions.SINK;
  }

  @Override
  public Sink create(String name, Config config) {
    return new KinesisSink(config);
  }
}
