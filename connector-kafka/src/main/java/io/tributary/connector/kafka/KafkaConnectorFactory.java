package io.tributary.connector.kafka;

import io.tributary.core.api.Config;
import io.tributary.core.api.ConfigSpec;
import io.tributary.core.api.Source;
import io.tributary.core.api.SourceFactory;

/**
 * The {@code kafka} source type: a {@link KafkaDirectSource} reading the configured topics. Found
 * through {@link java.util.ServiceLoader}.
 *
 * <p>Thread safety: stateless.
 */
public final class KafkaConnectorFactory implements SourceFactory {
  @Override
  public String type() {
    return "kafka";
  }

  @Override
  public String description() {
    return "Reads Kafka topics as a direct source (offset ranges in the checkpoint, read_committed by default)";
  }

  @Override
  public ConfigSpec options() {
    return KafkaOptions.SOURCE;
  }

  @Override
  public Source create(String name, Config config) {
    return new KafkaDirectSource(config);
  }
}
