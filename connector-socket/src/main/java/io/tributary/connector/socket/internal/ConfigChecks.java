package io.tributary.connector.socket.internal;

import io.tributary.connector.socket.SocketOptions;
import io.tributary.connector.socket.SocketOptions.Mode;
import io.tributary.core.api.Config;
import io.tributary.core.api.ConfigException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Rules that involve several keys; every problem is reported at once. Thread safety: stateless. */
public final class ConfigChecks {
  private ConfigChecks() {}

  /**
   * @throws ConfigException listing every problem, when {@code config} does not fit {@code mode}
   */
  public static void check(Config config, Mode expectedMode) {
    List<String> problems = new ArrayList<>();
    Mode mode = config.get(SocketOptions.MODE);
    if (mode != expectedMode) {
      problems.add(
          "Invalid value "
              + mode.name().toLowerCase()
              + " for mode: this receiver needs "
              + expectedMode.name().toLowerCase()
              + " (expected: "
              + expectedMode.name().toLowerCase()
              + ")");
    }
    boolean tls = config.get(SocketOptions.TLS_ENABLED);
    if (mode == Mode.CLIENT) {
      if (config.get(SocketOptions.PORT) == 0) {
        problems.add(
            "Invalid value 0 for port: a client needs the peer's port (expected: 1 to 65535)");
      }
      if (config.get(SocketOptions.RELIABLE)) {
        problems.add(
            "Invalid value true for reliable: only mode server speaks the reliable protocol (expected:"
                + " false with mode client; use ReliableSocketClient to send to a reliable server)");
      }
      for (var o :
          List.of(
              SocketOptions.TLS_CERT_FILE,
              SocketOptions.TLS_KEY_FILE,
              SocketOptions.MAX_CONNECTIONS,
              SocketOptions.READ_IDLE_TIMEOUT,
              SocketOptions.MAX_BUFFERED_BYTES,
              SocketOptions.SYSLOG_FORMAT,
              SocketOptions.RELIABLE_PRODUCER_IDLE_TIMEOUT)) {
        if (config.isSet(o)) {
          problems.add(
              "Invalid value "
                  + config.asMap().get(o.name())
                  + " for "
                  + o.name()
                  + ": applies to mode server only (expected: unset with mode client)");
        }
      }
      checkReadable(
          problems,
          config,
          SocketOptions.TLS_TRUST_CERT_FILE.name(),
          config.get(SocketOptions.TLS_TRUST_CERT_FILE));
    } else {
      if (tls) {
        String cert = config.get(SocketOptions.TLS_CERT_FILE);
        String key = config.get(SocketOptions.TLS_KEY_FILE);
        if (cert == null) {
          problems.add(
              "Missing required key tls.cert-file (expected: PEM certificate file when tls.enabled is true)");
        }
        if (key == null) {
          problems.add(
              "Missing required key tls.key-file (expected: PKCS#8 PEM key file when tls.enabled is true)");
        }
        checkReadable(problems, config, "tls.cert-file", cert);
        checkReadable(problems, config, "tls.key-file", key);
      }
      if (!config.get(SocketOptions.RELIABLE)
          && config.isSet(SocketOptions.RELIABLE_PRODUCER_IDLE_TIMEOUT)) {
        problems.add(
            "Invalid value "
                + config.asMap().get(SocketOptions.RELIABLE_PRODUCER_IDLE_TIMEOUT.name())
                + " for "
                + SocketOptions.RELIABLE_PRODUCER_IDLE_TIMEOUT.name()
                + ": applies to reliable: true only"
                + " (expected: unset, or reliable: true)");
      }
      if (config.get(SocketOptions.RELIABLE) && config.isSet(SocketOptions.SYSLOG_FORMAT)) {
        problems.add(
            "Invalid value "
                + config.asMap().get(SocketOptions.SYSLOG_FORMAT.name())
                + " for "
                + SocketOptions.SYSLOG_FORMAT.name()
                + ": applies to plain mode only; reliable payloads are not parsed"
                + " (expected: unset, or reliable: false)");
      }
      for (var o :
          List.of(
              SocketOptions.RECONNECT_INITIAL_BACKOFF,
              SocketOptions.RECONNECT_MAX_BACKOFF,
              SocketOptions.TLS_TRUST_CERT_FILE)) {
        if (config.isSet(o)) {
          problems.add(
              "Invalid value "
                  + config.asMap().get(o.name())
                  + " for "
                  + o.name()
                  + ": applies to mode client only (expected: unset with mode server)");
        }
      }
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
  }

  private static void checkReadable(List<String> problems, Config config, String key, String file) {
    if (file != null && !Files.isReadable(Path.of(file))) {
      problems.add(
          "Invalid value "
              + file
              + " for "
              + key
              + ": file does not exist or is not readable"
              + " (expected: a readable PEM file)");
    }
  }
}
