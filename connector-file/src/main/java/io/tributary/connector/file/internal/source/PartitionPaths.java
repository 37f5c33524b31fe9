package io.tributary.connector.file.internal.source;

import java.util.Arrays;

/**
 * Orders partition directories such as {@code date=2026-11-25/hour=10} component by component, so
 * that {@code date=2026-11-25/hour=10} sorts after {@code date=2026-11-25} and {@code a/b} before
 * {@code a-b/c}.
 *
 * <p>Thread safety: stateless.
 */
final class PartitionPaths {
  private PartitionPaths() {}

  /**
   * Compares two relative paths component by component ({@code /} separated); a prefix sorts first.
   */
  static int compare(String a, String b) {
    String[] x = a.isEmpty() ? new String[0] : a.split("/");
    String[] y = b.isEmpty() ? new String[0] : b.split("/");
    for (int i = 0; i < Math.min(x.length, y.length); i++) {
      int c = x[i].compareTo(y[i]);
      if (c != 0) {
        return c;
      }
    }
    return Integer.compare(x.length, y.length);
  }

  /** The first {@code depth} components of {@code rel}. */
  static String prefix(String rel, int depth) {
    if (depth <= 0 || rel.isEmpty()) {
      return "";
    }
    String[] parts = rel.split("/");
    if (depth >= parts.length) {
      return rel;
    }
    return String.join("/", Arrays.copyOf(parts, depth));
  }
}
