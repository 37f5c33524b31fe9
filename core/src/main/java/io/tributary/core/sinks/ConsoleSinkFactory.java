package io.tributary.core.sinks;

import io.tributary.core.api.Config;
import io.tributary.core.api.ConfigOption;
import io.tributary.core.api.ConfigSpec;
import io.tributary.core.api.Guarantee;
import io.tributary.core.api.Sink;
import io.tributary.core.api.SinkFactory;

/**
 * Sink type {@code console}: prints each batch to standard output ({@link ConsoleSink}). Stateless.
 */
public final class ConsoleSinkFactory implements SinkFactory {
  public static final ConfigOption<Integer> MAX_RECORDS =
      ConfigOption.integer("max-records")
          .defaultValue(10)
          .validate(ConfigOption.atLeast(-1))
          .description("Records of each batch to print; -1 prints all, 0 only the batch header.");
  public static final ConfigSpec SPEC = ConfigSpec.of(MAX_RECORDS);

  @Override
  public String type() {
    return "console";
  }

  @Override
  public String description() {
    return "Prints each batch to standard output (at-least-once).";
  }

  @Override
  public Guarantee guarantee() {
    return Guarantee.AT_LEAST_ONCE;
  }

  @Override
  public ConfigSpec options() {
    return SPEC;
  }

  @Override
  public Sink create(String name, Config config) {
    return new ConsoleSink(System.out, config.get(MAX_RECORDS));
  }
}
