package io.tributary.core.api;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Validated configuration values of one {@link ConfigSpec}. Reading an option that was not set
 * returns its default.
 *
 * <p>{@link #toString()} shows the values set, with the secrets of {@linkplain
 * ConfigOption#sensitive() sensitive} options and entries masked; {@link #asMap()} is the raw
 * values, not for display.
 *
 * <p>Thread safety: immutable.
 */
public final class Config {
  private final Map<String, Object> values;
  private final ConfigSpec spec;

  Config(Map<String, Object> values, ConfigSpec spec) {
    this.values = Map.copyOf(values);
    this.spec = spec;
  }

  /**
   * The value set for {@code option}, else its default (which may be {@code null} for optional
   * keys).
   */
  @SuppressWarnings("unchecked")
  public <T> T get(ConfigOption<T> option) {
    if (!spec.declares(option)) {
      throw new IllegalArgumentException(
          "Option " + option.name() + " is not declared in this config's spec");
    }
    Object v = values.get(option.name());
    return v == null ? option.defaultValue() : (T) v;
  }

  /** Whether the user set {@code option} explicitly. */
  public boolean isSet(ConfigOption<?> option) {
    return values.containsKey(option.name());
  }

  /** The values the user set, by key. */
  public Map<String, Object> asMap() {
    return values;
  }

  /**
   * Every secret value set (of sensitive options, and of secret-named entries of pass-through
   * options), for {@link Secrets#scrub} of text Tributary did not write itself, such as a client
   * library's exception message.
   */
  public List<String> secretValues() {
    List<String> out = new ArrayList<>();
    for (ConfigOption<?> o : spec.options()) {
      out.addAll(o.secretValues(values.get(o.name())));
    }
    return out;
  }

  /** The values set, in declaration order, as {@code {key=value, ...}}; secrets masked. */
  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder("{");
    for (ConfigOption<?> o : spec.options()) {
      Object v = values.get(o.name());
      if (v == null) {
        continue;
      }
      Object shown = o.shown(v);
      if (o.isPrefix() && shown instanceof Map<?, ?> m) {
        for (Map.Entry<?, ?> e : m.entrySet()) {
          append(sb, o.name() + e.getKey(), e.getValue());
        }
      } else {
        append(sb, o.name(), shown);
      }
    }
    return sb.append('}').toString();
  }

  private static void append(StringBuilder sb, String key, Object value) {
    if (sb.length() > 1) {
      sb.append(", ");
    }
    sb.append(key).append('=').append(value);
  }
}
