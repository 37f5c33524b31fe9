package io.tributary.gateway;

import io.tributary.core.api.ConfigException;
import java.util.List;

/**
 * The gateway's configuration file is invalid. {@link #problems()} lists every problem found, each
 * prefixed with {@code FILE:LINE:}, sorted by line. The CLI prints them and exits with code 2.
 *
 * <p>Thread safety: immutable.
 */
public final class GatewayConfigException extends ConfigException {
  public GatewayConfigException(List<String> problems) {
    super(problems);
  }
}
