package io.tributary.gateway.internal;

import java.io.File;
import java.io.IOException;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.newsclub.net.unix.AFUNIXDatagramChannel;
import org.newsclub.net.unix.AFUNIXSocketAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * systemd's {@code sd_notify} protocol for a {@code Type=notify} unit: state lines ({@code
 * READY=1}, {@code STOPPING=1}, {@code RELOADING=1}, {@code STATUS=...}, {@code WATCHDOG=1}) sent
 * as one datagram each to the AF_UNIX datagram socket named by {@code $NOTIFY_SOCKET} (a path, or
 * an abstract name starting with {@code @}). Sent from the gateway's own process, so the unit's
 * default {@code NotifyAccess=main} accepts them (the {@code systemd-notify} binary would send from
 * a child process: it needs {@code NotifyAccess=all}, and systemd may not attribute a message from
 * a process that already exited to the unit).
 *
 * <p>Without {@code $NOTIFY_SOCKET} (not started by systemd, or {@code Type=simple}) every call
 * does nothing. A send that fails is logged (once per kind of failure) and never fails the gateway:
 * under {@code Type=notify} systemd then reports the start as timed out, which names the problem in
 * {@code systemctl status}.
 *
 * <p>Thread safety: thread-safe; sends are serialized. Each call sends one datagram and does not
 * block beyond the socket's send (systemd's receive buffer).
 */
public final class SystemdNotify implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(SystemdNotify.class);

  private final String socketName;
  private final SocketAddress address;
  private final long watchdogMicros;
  private AFUNIXDatagramChannel socket;
  private String lastFailure;

  private SystemdNotify(String socketName, SocketAddress address, long watchdogMicros) {
    this.socketName = socketName;
    this.address = address;
    this.watchdogMicros = watchdogMicros;
  }

  /**
   * The notifier {@code env} asks for: {@code NOTIFY_SOCKET}, and {@code WATCHDOG_USEC} (with
   * {@code WATCHDOG_PID}, when set, naming this process).
   */
  public static SystemdNotify fromEnvironment(Map<String, String> env) {
    String name = env.get("NOTIFY_SOCKET");
    if (name == null || name.isEmpty()) {
      return new SystemdNotify(null, null, 0);
    }
    long watchdog = 0;
    String usec = env.get("WATCHDOG_USEC");
    String pid = env.get("WATCHDOG_PID");
    if (usec != null && (pid == null || pid.equals(Long.toString(ProcessHandle.current().pid())))) {
      try {
        watchdog = Long.parseLong(usec.trim());
      } catch (NumberFormatException e) {
        LOG.warn("event=sd_watchdog_ignored WATCHDOG_USEC=\"{}\" reason=not_a_number", usec);
      }
    }
    SocketAddress address;
    try {
      if (name.startsWith("@")) {
        // Linux abstract namespace: the address is a NUL byte, then the name (no terminator).
        byte[] n = name.substring(1).getBytes(StandardCharsets.UTF_8);
        byte[] abs = new byte[n.length + 1];
        System.arraycopy(n, 0, abs, 1, n.length);
        address = AFUNIXSocketAddress.of(abs);
      } else if (name.startsWith("/")) {
        address = AFUNIXSocketAddress.of(new File(name));
      } else {
        LOG.error(
            "event=sd_notify_unavailable NOTIFY_SOCKET=\"{}\" reason=unsupported_address"
                + " detail=\"only AF_UNIX paths and @abstract names are supported; systemd will"
                + " not see READY=1 (use Type=simple in the unit)\"",
            name);
        return new SystemdNotify(null, null, 0);
      }
    } catch (IOException | RuntimeException | LinkageError e) {
      LOG.error(
          "event=sd_notify_unavailable NOTIFY_SOCKET=\"{}\" error=\"{}\" detail=\"systemd will not"
              + " see READY=1 (use Type=simple in the unit)\"",
          name,
          e.toString());
      return new SystemdNotify(null, null, 0);
    }
    return new SystemdNotify(name, address, watchdog);
  }

  /** Whether {@code $NOTIFY_SOCKET} was given (and usable). */
  public boolean enabled() {
    return address != null;
  }

  /**
   * How often to send {@link #watchdog()}: half of {@code WATCHDOG_USEC}, as sd_watchdog_enabled's
   * callers do; 0 when systemd set no watchdog for this process.
   */
  public long watchdogIntervalMillis() {
    return address == null || watchdogMicros <= 0
        ? 0
        : Math.max(1, TimeUnit.MICROSECONDS.toMillis(watchdogMicros) / 2);
  }

  /** {@code READY=1} with a status line: the service is up (its admin endpoint answers). */
  public void ready(String status) {
    send("READY=1\nSTATUS=" + oneLine(status));
  }

  /** {@code STOPPING=1} with a status line: a graceful stop (drain) began. */
  public void stopping(String status) {
    send("STOPPING=1\nSTATUS=" + oneLine(status));
  }

  /**
   * {@code RELOADING=1} (with {@code MONOTONIC_USEC}, as systemd 253+ wants it): a configuration
   * reload began; {@link #ready} ends it.
   */
  public void reloading(String status) {
    long monotonicMicros = TimeUnit.NANOSECONDS.toMicros(System.nanoTime()); // CLOCK_MONOTONIC
    send("RELOADING=1\nMONOTONIC_USEC=" + monotonicMicros + "\nSTATUS=" + oneLine(status));
  }

  /** {@code STATUS=...}: what {@code systemctl status} shows. */
  public void status(String status) {
    send("STATUS=" + oneLine(status));
  }

  /** {@code WATCHDOG=1}: the service is alive. */
  public void watchdog() {
    send("WATCHDOG=1");
  }

  private static String oneLine(String s) {
    return s.replace('\n', ' ').replace('\r', ' ');
  }

  /** Sends one datagram; returns whether it was sent. */
  synchronized boolean send(String message) {
    if (address == null) {
      return false;
    }
    try {
      if (socket == null) {
        socket = AFUNIXDatagramChannel.open();
      }
      // One assignment per line, the last one terminated too (systemd ignores the empty rest; a
      // line-oriented reader such as socat's output keeps datagrams apart).
      java.nio.ByteBuffer b =
          java.nio.ByteBuffer.wrap((message + "\n").getBytes(StandardCharsets.UTF_8));
      if (socket.send(b, address) != b.limit()) {
        throw new IOException("datagram not sent whole (" + b.limit() + " bytes)");
      }
      lastFailure = null;
      return true;
    } catch (IOException | RuntimeException | LinkageError e) {
      String failure = e.getClass().getName();
      if (!failure.equals(lastFailure)) {
        LOG.warn(
            "event=sd_notify_failed NOTIFY_SOCKET=\"{}\" message=\"{}\" error=\"{}\"",
            socketName,
            message.lines().findFirst().orElse(""),
            e.toString());
      }
      lastFailure = failure;
      if (socket != null) {
        closeQuietly(); // a broken socket: the next send opens a new one
      }
      return false;
    }
  }

  @Override
  public synchronized void close() {
    closeQuietly();
  }

  private void closeQuietly() {
    if (socket != null) {
      try {
        socket.close();
      } catch (IOException ignored) {
        // nothing to release beyond the descriptor
      }
      socket = null;
    }
  }
}
