package io.tributary.testing.kafka;

/**
 * Faults of a server running in a container that local processes cannot easily produce: a SIGKILL
 * of the whole container with the server left down, a frozen (paused) server, a network partition
 * and a degraded link. Obtained from {@link KafkaBroker#containerFaults()} when the broker runs in
 * a container.
 *
 * <p>The server's host port stays the same across every fault and its end (the container is
 * published on a fixed host port), so clients configured with the old address reconnect by
 * themselves.
 *
 * <p>Each method blocks until the container engine has applied the change; the methods that end a
 * fault ({@link #start()}, {@link #unpause()}, {@link #reconnect()}, {@link #restoreLink()}) also
 * until the server serves clients again (for Kafka: a write acknowledged with {@code acks=all}) and
 * throws {@link KafkaBrokerException} if the engine refuses. Not thread-safe: one test drives the
 * faults.
 */
public interface ContainerFaults {
  /** The container's id, for logs. */
  String containerId();

  /**
   * Kills the container's processes with SIGKILL (no clean shutdown) and leaves it stopped: clients
   * get connection refused until {@link #start()}.
   */
  void kill();

  /**
   * Starts the stopped container again with the same data and port, and blocks (at most 120 s)
   * until the server answers.
   */
  void start();

  /**
   * Freezes every process of the container (cgroup freezer): connections stay open and the TCP
   * stack still accepts connections, but nothing answers — a hung peer.
   */
  void pause();

  /** Thaws a {@link #pause() paused} container. */
  void unpause();

  /**
   * Disconnects the container from its network: a partition. Packets to the published port are no
   * longer delivered to the server; the server keeps running.
   */
  void disconnect();

  /**
   * Connects the container to the network it was disconnected from, with the address and aliases it
   * had, as after a real partition; the port mapping returns.
   */
  void reconnect();

  /**
   * Degrades the container's link, inside its network namespace: every packet in or out is dropped
   * with probability {@code lossPercent} % ({@code nft} {@code numgen random}), and what leaves the
   * container is shaped to {@code rateKbit} kbit/s by a token bucket ({@code tc tbf}), which queues
   * packets and so adds latency under load. (This kernel has no {@code sch_netem}, so {@code tc
   * netem} cannot be used; the container needs {@code NET_ADMIN}, which it has.)
   *
   * @param lossPercent 0 to 99
   * @param rateKbit egress rate, or 0 for no shaping
   */
  void degradeLink(int lossPercent, int rateKbit);

  /** Removes what {@link #degradeLink} added. */
  void restoreLink();
}
