package io.tributary.gateway.testing;

import io.tributary.core.api.Config;
import io.tributary.core.api.ConfigOption;
import io.tributary.core.api.ConfigSpec;
import io.tributary.core.checkpoint.CheckpointStorage;
import io.tributary.core.checkpoint.CheckpointStorageFactory;
import java.io.IOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Test-only checkpoint storage for {@code memtest://} locations: files kept in memory per location
 * for the whole JVM, so a second gateway sees the first one's checkpoint. Stands in for a remote
 * store (HDFS, S3) in gateway tests.
 *
 * <p>Thread safety: thread-safe.
 */
public final class MemoryCheckpointStorageFactory implements CheckpointStorageFactory {
  public static final ConfigOption<String> TOKEN =
      ConfigOption.string("token")
          .defaultValue("")
          .description("Ignored; proves options reach the factory.");
  public static final ConfigOption<Map<String, String>> HADOOP = ConfigOption.prefixed("hadoop.");
  private static final ConfigSpec SPEC = ConfigSpec.of(TOKEN, HADOOP);

  /** Files by location, then by relative path. */
  public static final Map<String, Map<String, byte[]>> FILES = new ConcurrentHashMap<>();

  /** Options the last created storage got. */
  public static volatile Config lastOptions;

  public static final AtomicInteger OPEN = new AtomicInteger();

  @Override
  public Set<String> schemes() {
    return Set.of("memtest");
  }

  @Override
  public ConfigSpec options() {
    return SPEC;
  }

  @Override
  public CheckpointStorage create(URI location, Config options) {
    lastOptions = options;
    Map<String, byte[]> files =
        FILES.computeIfAbsent(location.toString(), k -> new ConcurrentHashMap<>());
    OPEN.incrementAndGet();
    return new CheckpointStorage() {
      private boolean closed;

      @Override
      public Optional<byte[]> read(String path) {
        return Optional.ofNullable(files.get(path));
      }

      @Override
      public void writeAtomically(String path, byte[] data) {
        files.put(path, data.clone());
      }

      @Override
      public List<String> list(String dir) {
        List<String> out = new ArrayList<>();
        for (String p : files.keySet()) {
          if (p.startsWith(dir + "/") && p.indexOf('/', dir.length() + 1) < 0) {
            out.add(p.substring(dir.length() + 1));
          }
        }
        out.sort(null);
        return out;
      }

      @Override
      public void delete(String path) {
        files.remove(path);
      }

      @Override
      public String describe() {
        return location.toString();
      }

      @Override
      public synchronized void close() throws IOException {
        if (!closed) {
          closed = true;
          OPEN.decrementAndGet();
        }
      }
    };
  }
}
