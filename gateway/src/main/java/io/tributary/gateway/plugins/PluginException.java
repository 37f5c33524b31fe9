package io.tributary.gateway.plugins;

import io.tributary.core.api.ConfigException;
import java.util.List;

/**
 * Plugins could not be loaded: a plugin lacks a dependency, two plugins provide the same type, a
 * plugin directory is missing or empty. {@link #problems()} lists every problem, each naming the
 * plugin (and the other plugin, or the missing class) and what to do. The CLI prints them and exits
 * with code 2, as for an invalid configuration.
 *
 * <p>Thread safety: immutable.
 */
public final class PluginException extends ConfigException {
  public PluginException(List<String> problems) {
    super(problems);
  }
}
