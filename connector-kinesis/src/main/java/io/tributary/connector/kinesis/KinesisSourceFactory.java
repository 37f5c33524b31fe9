package io.tributary.connector.kinesis;

import io.tributary.core.api.Config;
import io.tributary.core.api.ConfigSpec;
import io.tributary.core.api.Source;
import io.tributary.core.api.SourceFactory;

/**
 * The {@code kinesis} source type: a {@link KinesisDirectSource}. Found through {@link
 * java.util.ServiceLoader}.
 *
 * <p>Thread safety: stateless.
 */
public final class KinesisSourceFactory implements SourceFactory {
  @Override
  public String type() {
    return "kinesis";
  }

  @Override
  public String description() {
    return "Reads a Kinesis data stream as a direct source (shards as partitions, sequence-number ranges in"
        + " the checkpoint, resharding, KPL de-aggregation)";
  }

  @Override
  public ConfigSpec options() {
    return KinesisOptions.SOURCE;
  }

  @Override
  public Source create(String name, Config config) {
    return new KinesisDirectSource(config);
  }
}
