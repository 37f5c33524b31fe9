package io.tributary.connector.kafka;

import io.tributary.core.api.Config;
import io.tributary.core.api.ConfigSpec;
import io.tributary.core.api.Guarantee;
import io.tributary.core.api.Sink;
import io.tributary.core.api.SinkFactory;

/**
 * The {@code kafka} sink type: a {@link KafkaSink} writing each batch in one Kafka transaction
 * (exactly-once). Found through {@link java.util.ServiceLoader}.
 *
 * <p>Thread safety: stateless.
 */
public final class KafkaSinkFactory implements SinkFactory {
  @Override
  public String type() {
    return "kafka";
  }

  @Override
  public String description() {
    return "Writes each batch to a Kafka topic in one transaction with a batch marker (exactly-once)";
  }

  @Override
  public Guarantee guarantee() {
    return Guarantee.EXACTLY_ONCE_TRANSACTIONAL;
  }

  @Override
  public ConfigSpec options() {
    return KafkaOptions.SINK;
  }

  @Override
  public Sink create(String name, Config config) {
    return new KafkaSink(config);
  }
}
