package io.tributary.core.api;

import java.util.Map;

/**
 * Validated configuration values of one {@link ConfigSpec}. Reading an option that was not set returns its default.
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

  /** The value set for {@code option}, else its default (which may be {@code null} for optional keys). */
  @SuppressWarnings("unchecked")
  public <T> T get(ConfigOption<T> option) {
    if (!spec.declares(option)) {
      throw new IllegalArgumentException("Option " + option.name() + " is not declared in this config's spec");
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
}
