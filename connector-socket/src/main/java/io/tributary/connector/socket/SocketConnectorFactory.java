package io.tributary.connector.socket;

import io.micrometer.core.instrument.MeterRegistry;
import io.tributary.connector.socket.SocketOptions.Mode;
import io.tributary.core.api.Config;
import io.tributary.core.api.ConfigSpec;
import io.tributary.core.api.Source;
import io.tributary.core.api.SourceFactory;

/**
 * The {@code socket} source type, found through {@link java.util.ServiceLoader}: {@code mode:
 * client} creates a {@link SocketClientReceiver}, {@code mode: server} a {@link
 * SocketServerReceiver}. Meters go to the registry of the runtime that runs the receiver (the
 * pipeline's), tagged with {@code pipeline} and {@code source}.
 *
 * <p>Thread safety: stateless.
 */
public final class SocketConnectorFactory implements SourceFactory {
  @Override
  public String type() {
    return "socket";
  }

  @Override
  public String description() {
    return "TCP socket: connect and read lines (client), or accept many senders with optional acknowledgements"
        + " (server)";
  }

  @Override
  public ConfigSpec options() {
    return SocketOptions.SPEC;
  }

  /**
   * @throws io.tributary.core.api.ConfigException listing every problem of options that do not fit
   *     together
   */
  @Override
  public Source create(String name, Config config) {
    return config.get(SocketOptions.MODE) == Mode.CLIENT
        ? new SocketClientReceiver(config)
        : new SocketServerReceiver(config);
  }

  /** Like {@link #create(String, Config)} with an explicit meter registry. */
  public Source create(Config config, MeterRegistry registry) {
    return config.get(SocketOptions.MODE) == Mode.CLIENT
        ? new SocketClientReceiver(config, registry)
        : new SocketServerReceiver(config, registry);
  }
}
