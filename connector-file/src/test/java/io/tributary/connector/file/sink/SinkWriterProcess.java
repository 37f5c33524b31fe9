package io.tributary.connector.file.sink;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tributary.core.api.Record;
import java.net.URI;
import java.util.AbstractList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/**
 * A child process for crash tests: writes batch {@code 1} of {@link #RECORDS} records of about 1
 * KiB through a {@link HadoopFileSink}, prints {@link #MARKER} once {@link #MARKER_AT} records are
 * written, then blocks forever in the middle of the write, waiting to be killed with SIGKILL.
 *
 * <p>Arguments: the directory URI, the max file size in bytes, then Hadoop settings as {@code
 * key=value}.
 */
public final class SinkWriterProcess {
  static final String MARKER = "MID-WRITE";
  static final int RECORDS = 8_000;
  static final int MARKER_AT = 7_000;

  private SinkWriterProcess() {}

  static String line(int i) {
    char[] pad = new char[1000];
    Arrays.fill(pad, (char) ('a' + i % 26));
    return "line-" + i + "-" + new String(pad);
  }

  public static void main(String[] args) throws Exception {
    URI dir = URI.create(args[0]);
    long maxFileBytes = Long.parseLong(args[1]);
    Map<String, String> hadoop = new LinkedHashMap<>();
    for (int i = 2; i < args.length; i++) {
      int eq = args[i].indexOf('=');
      hadoop.put(args[i].substring(0, eq), args[i].substring(eq + 1));
    }
    HadoopFileSink sink =
        HadoopFileSink.builder(dir).maxFileBytes(maxFileBytes).hadoop(hadoop).build();
    sink.open(FileSinkContract.context(new SimpleMeterRegistry()));
    CountDownLatch never = new CountDownLatch(1);
    sink.write(
        1,
        new AbstractList<Record>() {
          @Override
          public Record get(int i) {
            if (i == MARKER_AT) {
              System.out.println(MARKER);
              System.out.flush();
              try {
                never.await();
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
              }
            }
            return Record.ofString(line(i));
          }

          @Override
          public int size() {
            return RECORDS;
          }
        });
  }
}
