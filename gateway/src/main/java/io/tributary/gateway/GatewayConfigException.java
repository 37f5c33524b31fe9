package io.tributary.gateway;

import io.tributary.core.api.ConfigException;
import java.util.List;

/**
 * The gateway's configuration file is invalid. {@link #problems()} lists every problem found, each prefixed with
 * {@code FILE:LINE:}.
 */
public final class GatewayConfigException extends ConfigException {
  public GatewayConfigException(List<String> problems) {
    super(problems);
  }
}
