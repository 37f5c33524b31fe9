package io.tributary.spark;

import io.tributary.core.api.Config;
import io.tributary.core.api.ConfigOption;
import io.tributary.core.api.ConfigSpec;
import io.tributary.core.api.Receiver;
import io.tributary.core.api.Source;
import io.tributary.core.api.SourceFactory;

/**
 * A receiver type for the tests ({@code test-counter}): stores {@code count} records "0".."n-1"
 * reliably, in batches of 10, then idles. Registered in the test class path's ServiceLoader file.
 */
public final class TestReceiverFactory implements SourceFactory {
  static final ConfigOption<Integer> COUNT =
      ConfigOption.integer("count").defaultValue(100).description("records to store");
  static final ConfigOption<String> PREFIX =
      ConfigOption.string("prefix").defaultValue("r").description("value prefix");

  @Override
  public String type() {
    return "test-counter";
  }

  @Override
  public String description() {
    return "counts (tests only)";
  }

  @Override
  public ConfigSpec options() {
    return ConfigSpec.of(COUNT, PREFIX);
  }

  @Override
  public Source create(String name, Config config) {
    return new CountingReceiver(config.get(PREFIX), config.get(COUNT));
  }

  /** Stores prefix-0 .. prefix-(n-1). */
  public static Receiver counting(String prefix, int count) {
    return new CountingReceiver(prefix, count);
  }
}
