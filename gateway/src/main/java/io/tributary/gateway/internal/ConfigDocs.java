package io.tributary.gateway.internal;

import io.tributary.core.api.ConfigOption;
import io.tributary.core.api.ConfigSpec;
import java.time.Duration;
import java.util.Locale;

/**
 * Renders a {@link ConfigSpec} as a Markdown table, so the README's reference tables come from the declarations
 * themselves ({@code ReadmeTablesTest} fails when the checked-in tables are stale).
 *
 * <p>Thread safety: stateless.
 */
public final class ConfigDocs {
  private ConfigDocs() {}

  public static String markdown(ConfigSpec spec) {
    StringBuilder sb = new StringBuilder();
    sb.append("| key | type | default | meaning |\n");
    sb.append("|---|---|---|---|\n");
    for (ConfigOption<?> o : spec.options()) {
      sb.append("| `").append(o.name()).append("` | ")
          .append(escape(o.type())).append(" | ")
          .append(o.isRequired() ? "*required*" : defaultValue(o)).append(" | ")
          .append(escape(o.description())).append(" |\n");
    }
    return sb.toString();
  }

  private static String defaultValue(ConfigOption<?> o) {
    Object v = o.defaultValue();
    if (v == null) {
      return "-";
    }
    String s;
    if (v instanceof Duration d) {
      s = d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
    } else if (v instanceof Enum<?> e) {
      s = e.name().toLowerCase(Locale.ROOT).replace('_', '-');
    } else if (v instanceof Long l && o.type().equals("size")) {
      s = size(l);
    } else {
      s = v.toString();
    }
    return "`" + s + "`";
  }

  private static String size(long bytes) {
    if (bytes > 0 && bytes % (1024L * 1024 * 1024) == 0) {
      return bytes / (1024L * 1024 * 1024) + "gb";
    } else if (bytes > 0 && bytes % (1024L * 1024) == 0) {
      return bytes / (1024L * 1024) + "mb";
    } else if (bytes > 0 && bytes % 1024 == 0) {
      return bytes / 1024 + "kb";
    }
    return Long.toString(bytes);
  }

  private static String escape(String s) {
    return s.replace("|", "\\|").replace("\n", " ");
  }
}
