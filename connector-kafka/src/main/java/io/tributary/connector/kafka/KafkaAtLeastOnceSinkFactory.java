package io.tributary.connector.kafka;

import io.tributary.core.api.Config;
import io.tributary.core.api.ConfigSpec;
import io.tributary.core.api.Guarantee;
import io.tributary.core.api.Sink;
import io.tributary.core.api.SinkFactory;

/**
 * The {@code kafka-at-least-once} sink type: a {@link KafkaAtLeastOnceSink} (replayed batches are
 * written again). Found through {@link java.util.ServiceLoader}.
 *
 * <p>Thread safety: stateless.
 */
public final class KafkaAtLeastOnceSinkFactory implements SinkFactory {
  @Override
  public String type() {
    return "kafka-at-least-once";
  }

  @Override
  public String description() {
    return "Writes each batch to a Kafka topic with an idempotent producer, no transactions (at-least-once)";
  }

  @Override
  public Guarantee guarantee() {
    return Guarantee.AT_LEAST_ONCE;
  }

  @Override
  public ConfigSpec options() {
    return KafkaOptions.AT_LEAST_ONCE_SINK;
  }

  @Override
  public Sink create(String name, Config config) {
    return new KafkaAtLeastOnceSink(config);
  }
}
