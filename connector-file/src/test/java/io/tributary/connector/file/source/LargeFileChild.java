package io.tributary.connector.file.source;

import io.tributary.connector.file.QuarantinedFile;
import io.tributary.connector.file.internal.source.FileReader;
import io.tributary.core.api.CloseableIterator;
import io.tributary.core.api.OffsetRange;
import io.tributary.core.api.Record;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Run by {@link LargeFileMemoryIT} in a JVM with a small heap: reads every file of a directory with
 * the {@code files} source (one batch, all files, {@code on-bad-file: skip}), checking that the
 * lines of each file come in order and counting them, without holding them. Prints {@code LINES
 * <file name> <count>} per file, {@code QUARANTINED <file name> <reason>} per quarantined file and
 * {@code DONE}.
 *
 * <p>Arguments: the directory, the checkpoint directory.
 */
public final class LargeFileChild {
  private LargeFileChild() {}

  public static void main(String[] args) throws Exception {
    Map<String, Object> options =
        Map.of(
            "paths",
            Path.of(args[0]).toUri().toString(),
            "include-existing",
            true,
            "on-bad-file",
            "skip");
    Map<String, Long> counts = new TreeMap<>();
    try (SourceHarness h = new SourceHarness(options, Path.of(args[1]))) {
      List<OffsetRange> ranges = h.plan();
      for (OffsetRange r : ranges) {
        try (CloseableIterator<Record> it = h.source.read(r)) {
          while (it.hasNext()) {
            Record rec = it.next();
            String file =
                new String(rec.headers().get(FileReader.FILE_HEADER), StandardCharsets.UTF_8);
            String name = file.substring(file.lastIndexOf('/') + 1);
            long n = counts.getOrDefault(name, 0L);
            String line = rec.valueAsString();
            String expected = "line-" + n + "-";
            if (!line.startsWith(expected)) {
              throw new IllegalStateException(
                  name
                      + ": line "
                      + n
                      + " is '"
                      + line.substring(0, Math.min(40, line.length()))
                      + "'");
            }
            counts.put(name, n + 1);
          }
        }
      }
      h.commit(ranges);
      for (Map.Entry<String, Long> e : counts.entrySet()) {
        System.out.println("LINES " + e.getKey() + " " + e.getValue());
      }
      for (QuarantinedFile q : h.source.quarantinedFiles()) {
        String p = q.path();
        System.out.println("QUARANTINED " + p.substring(p.lastIndexOf('/') + 1) + " " + q.reason());
      }
    }
    System.out.println("HEAP_MAX_MB " + Runtime.getRuntime().maxMemory() / (1024 * 1024));
    System.out.println("DONE");
  }
}
