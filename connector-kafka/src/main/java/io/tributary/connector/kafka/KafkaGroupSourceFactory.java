package io.tributary.connector.kafka;

import io.tributary.core.api.Config;
import io.tributary.core.api.ConfigSpec;
import io.tributary.core.api.Source;
import io.tributary.core.api.SourceFactory;

/**
 * The {@code kafka-group} source type: a {@link KafkaGroupSource} sharing the configured topics'
 * partitions with the other members of a consumer group. Found through {@link
 * java.util.ServiceLoader}.
 *
 * <p>Thread safety: stateless.
 */
public final class KafkaGroupSourceFactory implements SourceFactory {
  @Override
  public String type() {
    return "kafka-group";
  }

  @Override
  public String description() {
    return "Reads Kafka topics as a consumer group member (partitions balanced across instances; offsets committed"
        + " in the Kafka sink's transaction)";
  }

  @Override
  public ConfigSpec options() {
    return KafkaOptions.GROUP_SOURCE;
  }

  @Override
  public Source create(String name, Config config) {
    return new KafkaGroupSource(config);
  }
}
