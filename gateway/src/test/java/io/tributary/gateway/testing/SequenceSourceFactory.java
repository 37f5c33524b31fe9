package io.tributary.gateway.testing;

import io.tributary.core.api.CloseableIterator;
import io.tributary.core.api.Config;
import io.tributary.core.api.ConfigOption;
import io.tributary.core.api.ConfigSpec;
import io.tributary.core.api.DirectSource;
import io.tributary.core.api.OffsetRange;
import io.tributary.core.api.PartitionInfo;
import io.tributary.core.api.Record;
import io.tributary.core.api.Source;
import io.tributary.core.api.SourceContext;
import io.tributary.core.api.SourceFactory;
import io.tributary.core.api.SourcePosition;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Test-only source type {@code test-sequence}: a replayable direct source of {@code count} records {@code
 * <prefix><offset>} in one partition, {@code seq}. Registered through {@code META-INF/services} of the gateway's test
 * resources, so it also proves that a factory on the classpath is all the gateway needs.
 *
 * <p>Thread safety: stateless factory; the sources it creates are immutable.
 */
public final class SequenceSourceFactory implements SourceFactory {
  public static final ConfigOption<Long> COUNT =
      ConfigOption.longValue("count").required().validate(ConfigOption.atLeast(0)).description("Records to produce.");
  public static final ConfigOption<String> PREFIX =
      ConfigOption.string("prefix").defaultValue("rec-").description("Text before each record's offset.");
  public static final ConfigOption<Duration> OPEN_DELAY =
      ConfigOption.duration("open-delay")
          .defaultValue(Duration.ZERO)
          .description("How long open() takes: simulates a slow start (a long WAL recovery, a slow broker).");
  private static final ConfigSpec SPEC = ConfigSpec.of(COUNT, PREFIX, OPEN_DELAY);
  private static final Logger LOG = LoggerFactory.getLogger(SequenceSourceFactory.class);

  @Override
  public String type() {
    return "test-sequence";
  }

  @Override
  public String description() {
    return "Test source: count records <prefix><offset>.";
  }

  @Override
  public ConfigSpec options() {
    return SPEC;
  }

  @Override
  public Source create(String name, Config config) {
    return new Sequence(name, config.get(COUNT), config.get(PREFIX), config.get(OPEN_DELAY));
  }

  private static final class Sequence implements DirectSource {
    private final String name;
    private final long count;
    private final String prefix;
    private final Duration openDelay;

    Sequence(String name, long count, String prefix, Duration openDelay) {
      this.name = name;
      this.count = count;
      this.prefix = prefix;
      this.openDelay = openDelay;
    }

    @Override
    public void open(SourceContext context) throws InterruptedException {
      if (!openDelay.isZero()) {
        LOG.info("event=test_source_opening pipeline={} delay_ms={}", context.pipelineId(), openDelay.toMillis());
        Thread.sleep(openDelay.toMillis()); // the simulated slow start itself, not a synchronisation
      }
    }

    @Override
    public List<PartitionInfo> partitions() {
      return List.of(PartitionInfo.open("seq", 0, count));
    }

    @Override
    public CloseableIterator<Record> read(OffsetRange range) {
      List<Record> out = new ArrayList<>();
      for (long o = range.from(); o < range.until(); o++) {
        out.add(
            Record.of((prefix + o).getBytes(StandardCharsets.UTF_8))
                .withPosition(new SourcePosition(name, "seq", o)));
      }
      return CloseableIterator.of(out);
    }

    @Override
    public void close() {}
  }
}
