package io.tributary.gateway.testing;

import io.tributary.core.api.AtLeastOnceSink;
import io.tributary.core.api.Config;
import io.tributary.core.api.ConfigOption;
import io.tributary.core.api.ConfigSpec;
import io.tributary.core.api.Guarantee;
import io.tributary.core.api.Record;
import io.tributary.core.api.Sink;
import io.tributary.core.api.SinkContext;
import io.tributary.core.api.SinkFactory;
import io.tributary.core.api.TributaryException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Test-only sink type {@code test-failing}: fails the first non-empty batch it is given, so the
 * pipeline fails while running. Used to prove that one failing pipeline stops the gateway with exit
 * code 1 after draining the others.
 *
 * <p>Thread safety: thread-safe factory (only {@link #CREATED} is shared); the sink is used by one
 * batch thread.
 */
public final class FailingSinkFactory implements SinkFactory {
  public static final ConfigOption<String> MESSAGE =
      ConfigOption.string("message")
          .defaultValue("injected failure")
          .description("The failure's message.");

  /** Ignored; stands for the client settings a real sink passes through (some of them secrets). */
  public static final ConfigOption<java.util.Map<String, String>> CLIENT =
      ConfigOption.prefixed("client.").description("Ignored client settings.");

  private static final ConfigSpec SPEC = ConfigSpec.of(MESSAGE, CLIENT);

  /**
   * Sinks created so far, by {@code message}: tests give a sink a unique message and count its
   * constructions.
   */
  public static final Map<String, Integer> CREATED = new ConcurrentHashMap<>();

  @Override
  public String type() {
    return "test-failing";
  }

  @Override
  public String description() {
    return "Test sink that fails the first non-empty batch.";
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
    String message = config.get(MESSAGE);
    CREATED.merge(message, 1, Integer::sum);
    return new AtLeastOnceSink() {
      @Override
      public void open(SinkContext context) {}

      @Override
      public void write(long batchId, List<Record> records) {
        if (!records.isEmpty()) {
          throw new TributaryException(
              "test-failing sink " + name + ": " + message + " (batch " + batchId + ")");
        }
      }

      @Override
      public void close() {}
    };
  }
}
