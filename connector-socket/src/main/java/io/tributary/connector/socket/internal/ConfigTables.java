package io.tributary.connector.socket.internal;

import io.tributary.core.api.ConfigOption;
import io.tributary.core.api.ConfigSpec;
import java.time.Duration;
import java.util.Locale;

/** Renders a {@link ConfigSpec} as a Markdown reference table. Thread safety: stateless. */
public final class ConfigTables {
  private ConfigTables() {}

  public static String markdown(ConfigSpec spec) {
    StringBuilder sb = new StringBuilder();
    sb.append("| Key | Type | Default | Description |\n");
    sb.append("| --- | --- | --- | --- |\n");
    for (ConfigOption<?> o : spec.options()) {
      sb.append("| `").append(o.name()).append("` | ")
          .append(escape(o.type())).append(" | ")
          .append(o.isRequired() ? "*required*" : formatDefault(o.name(), o.defaultValue())).append(" | ")
          .append(escape(o.description())).append(" |\n");
    }
    return sb.toString();
  }

  private static String formatDefault(String name, Object value) {
    if (value == null) {
      return "-";
    }
    String s;
    if (value instanceof Duration d) {
      s = d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
    } else if (value instanceof Enum<?> e) {
      s = e.name().toLowerCase(Locale.ROOT).replace('_', '-');
    } else if (value instanceof Long l && name.endsWith("bytes")) {
      s = formatSize(l);
    } else {
      s = value.toString();
    }
    return "`" + s + "`";
  }

  private static String formatSize(long bytes) {
    if (bytes % (1024L * 1024 * 1024) == 0) {
      return bytes / (1024L * 1024 * 1024) + "gb";
    } else if (bytes % (1024L * 1024) == 0) {
      return bytes / (1024L * 1024) + "mb";
    } else if (bytes % 1024 == 0) {
      return bytes / 1024 + "kb";
    }
    return Long.toString(bytes);
  }

  private static String escape(String s) {
    return s.replace("|", "\\|").replace("\n", " ");
  }
}
