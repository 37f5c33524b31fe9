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
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Test-only source type {@code test-sequence}: a replayable direct source of {@code count} records
 * {@code <prefix><offset>} in one partition, {@code seq}. Registered through {@code
 * META-INF/services} of the gateway's test resources, so it also proves that a factory on the
 * classpath is all the gateway needs.
 *
 * <p>Thread safety: thread-safe factory (only {@link #CREATED} is shared); the sources it creates
 * are immutable.
 */
public final class SequenceSourceFactory implements SourceFactory {
  public static final ConfigOption<Long> COUNT =
      ConfigOption.longValue("count")
          .required()
          .validate(ConfigOption.atLeast(0))
          .description("Records to produce.");
  public static final ConfigOption<String> PREFIX =
      ConfigOption.string("prefix")
          .defaultValue("rec-")
          .description("Text before each record's offset.");
  public static final ConfigOption<String> OPEN_GATE =
      ConfigOption.string("open-gate")
          .defaultValue("")
          .description(
              "If set, open() blocks until this file exists (at most 60 s): simulates a slow start (a long WAL"
                  + " recovery, a slow broker) that the test ends when it chooses.");
  public static final ConfigOption<String> READ_GATE =
      ConfigOption.string("read-gate")
          .defaultValue("")
          .description(
              "If set, every read() blocks until this file exists (at most 60 s): a batch that makes"
                  + " no progress (stall detection) until the test ends it.");
  private static final ConfigSpec SPEC = ConfigSpec.of(COUNT, PREFIX, OPEN_GATE, READ_GATE);
  private static final Logger LOG = LoggerFactory.getLogger(SequenceSourceFactory.class);

  /**
   * Sources created so far, by {@code prefix}: tests give a pipeline a unique prefix and count its
   * constructions.
   */
  public static final Map<String, Integer> CREATED = new ConcurrentHashMap<>();

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
    CREATED.merge(config.get(PREFIX), 1, Integer::sum);
    return new Sequence(
        name, config.get(COUNT), config.get(PREFIX), config.get(OPEN_GATE), config.get(READ_GATE));
  }

  private static final class Sequence implements DirectSource {
    private final String name;
    private final long count;
    private final String prefix;
    private final String openGate;
    private final String readGate;

    Sequence(String name, long count, String prefix, String openGate, String readGate) {
      this.name = name;
      this.count = count;
      this.prefix = prefix;
      this.openGate = openGate;
      this.readGate = readGate;
    }

    @Override
    public void open(SourceContext context) throws IOException, InterruptedException {
      if (openGate.isEmpty()) {
        return;
      }
      LOG.info("event=test_source_opening pipeline={} gate={}", context.pipelineId(), openGate);
      awaitGate(openGate);
    }

    /** Blocks until the file {@code gatePath} exists, at most 60 s. */
    private static void awaitGate(String gatePath) throws IOException, InterruptedException {
      Path gate = Path.of(gatePath).toAbsolutePath();
      try (WatchService ws = gate.getFileSystem().newWatchService()) {
        gate.getParent().register(ws, StandardWatchEventKinds.ENTRY_CREATE);
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!Files.exists(gate)) {
          long left = deadline - System.nanoTime();
          if (left <= 0) {
            throw new IllegalStateException(
                "test-sequence: gate " + gate + " was not created within 60 s");
          }
          WatchKey key = ws.poll(left, TimeUnit.NANOSECONDS);
          if (key != null) {
            key.pollEvents();
            key.reset();
          }
        }
      }
    }

    @Override
    public List<PartitionInfo> partitions() {
      return List.of(PartitionInfo.open("seq", 0, count));
    }

    @Override
    public CloseableIterator<Record> read(OffsetRange range)
        throws IOException, InterruptedException {
      if (!readGate.isEmpty()) {
        awaitGate(readGate);
      }
      List<Record> out = new ArrayList<>();
      for (long o = range.fromOffset(); o < range.untilOffset(); o++) {
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
