package io.tributary.connector.kinesis;

import io.tributary.core.api.Config;
import io.tributary.core.api.ConfigSpec;
import io.tributary.core.api.Source;
import io.tributary.core.api.SourceFactory;

/**
 * The {@code kinesis-kcl} source type: a {@link KinesisKclSource} sharing a stream's shards with
 * the other instances of the same KCL application (leases in DynamoDB). Found through {@link
 * java.util.ServiceLoader}.
 *
 * <p>Thread safety: stateless.
 */
public final class KinesisKclSourceFactory implements SourceFactory {
  @Override
  public String type() {
    return "kinesis-kcl";
  }

  @Override
  public String description() {
    return "Reads a Kinesis data stream with KCL 3 (shards balanced across gateway instances by DynamoDB leases;"
        + " the KCL checkpoint moves only after the batch committed)";
  }

  @Override
  public ConfigSpec options() {
    return KinesisOptions.KCL_SOURCE;
  }

  @Override
  public Source create(String name, Config config) {
    return new KinesisKclSource(config);
  }
}
