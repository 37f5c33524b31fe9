package io.tributary.testing.kafka;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.model.ContainerNetwork;
import java.io.IOException;
import java.time.Duration;
import org.awaitility.Awaitility;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.testcontainers.containers.Container.ExecResult;
import org.testcontainers.containers.GenericContainer;

/**
 * {@link ContainerFaults} of any Testcontainers container, through the engine's API and commands
 * run inside the container: the Kafka broker's container uses it, and a test can wrap a server
 * container of its own (an S3 server, say) the same way. For {@link #kill()} and {@link #start()}
 * to keep the server's address, the container must publish its port on a fixed host port (a port
 * binding), not on the random one Testcontainers picks by default; {@link #degradeLink} needs
 * {@code NET_ADMIN}, {@code nft} and {@code tc} in the container.
 *
 * <p>Each method blocks until the engine has applied the change; each that ends a fault ({@link
 * #start()}, {@link #unpause()}, {@link #reconnect()}, {@link #restoreLink()}) also until {@code
 * awaitAnswering} returns, so a fault never outlives its test into the next one. Engine refusals
 * are {@link KafkaBrokerException}s. Not thread-safe: one test drives the faults; {@link #kill()}
 * and {@link #start()} hold {@code lock} so an owner's own restart cannot interleave.
 */
public final class EngineContainerFaults implements ContainerFaults {
  private static final Logger LOG = LoggerFactory.getLogger(EngineContainerFaults.class);

  private final GenericContainer<?> container;
  private final String server;
  private final Runnable awaitAnswering;
  private final Object lock;
  private String disconnectedFrom;
  private ContainerNetwork disconnectedSettings;

  /**
   * @param container a started container
   * @param server what runs in it, for log lines ({@code kafka}, {@code s3}): events are named
   *     {@code <server>_container_killed} and so on
   * @param awaitAnswering blocks until the server serves clients again after a fault ended (the
   *     container started again, thawed, reconnected, its link restored), or throws
   * @param lock held during {@link #kill()} and {@link #start()}
   */
  public EngineContainerFaults(
      GenericContainer<?> container, String server, Runnable awaitAnswering, Object lock) {
    this.container = container;
    this.server = server;
    this.awaitAnswering = awaitAnswering;
    this.lock = lock;
  }

  private DockerClient client() {
    return container.getDockerClient();
  }

  @Override
  public String containerId() {
    return container.getContainerId();
  }

  /** Whether the engine reports the container running. */
  public boolean isRunning() {
    return Boolean.TRUE.equals(
        client().inspectContainerCmd(containerId()).exec().getState().getRunning());
  }

  @Override
  public void kill() {
    synchronized (lock) {
      String id = containerId();
      client().killContainerCmd(id).withSignal("KILL").exec();
      Awaitility.await()
          .atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ofMillis(50))
          .until(() -> !isRunning());
      LOG.info("event={}_container_killed container={}", server, id);
    }
  }

  @Override
  public void start() {
    synchronized (lock) {
      client().startContainerCmd(containerId()).exec();
      awaitAnswering.run();
      LOG.info("event={}_container_started container={}", server, containerId());
    }
  }

  @Override
  public void pause() {
    client().pauseContainerCmd(containerId()).exec();
    LOG.info("event={}_container_paused container={}", server, containerId());
  }

  @Override
  public void unpause() {
    client().unpauseContainerCmd(containerId()).exec();
    awaitAnswering.run();
    LOG.info("event={}_container_unpaused container={}", server, containerId());
  }

  @Override
  public void disconnect() {
    var networks =
        client().inspectContainerCmd(containerId()).exec().getNetworkSettings().getNetworks();
    if (networks.isEmpty()) {
      throw new KafkaBrokerException(
          "Container " + containerId() + " is on no network: nothing to disconnect");
    }
    String network = networks.keySet().iterator().next();
    disconnectedSettings = networks.get(network);
    client()
        .disconnectFromNetworkCmd()
        .withNetworkId(network)
        .withContainerId(containerId())
        .exec();
    disconnectedFrom = network;
    LOG.info(
        "event={}_container_disconnected container={} network={}", server, containerId(), network);
  }

  @Override
  public void reconnect() {
    if (disconnectedFrom == null) {
      throw new KafkaBrokerException("reconnect() without a disconnect() before it");
    }
    // Back with the same address and aliases, as after a real partition: with a new address the
    // broker's own listener (advertised under the container's name, which its JVM has resolved
    // and cached) pointed nowhere, and transactions hung on their markers.
    String ip = disconnectedSettings.getIpAddress();
    ContainerNetwork settings = new ContainerNetwork();
    if (ip != null && !ip.isEmpty()) {
      settings.withIpamConfig(new ContainerNetwork.Ipam().withIpv4Address(ip));
    }
    if (disconnectedSettings.getAliases() != null) {
      settings.withAliases(disconnectedSettings.getAliases());
    }
    client()
        .connectToNetworkCmd()
        .withNetworkId(disconnectedFrom)
        .withContainerId(containerId())
        .withContainerNetwork(settings)
        .exec();
    awaitAnswering.run();
    LOG.info(
        "event={}_container_reconnected container={} network={} ip={}",
        server,
        containerId(),
        disconnectedFrom,
        ip);
    disconnectedFrom = null;
    disconnectedSettings = null;
  }

  @Override
  public void degradeLink(int lossPercent, int rateKbit) {
    if (lossPercent < 0 || lossPercent > 99 || rateKbit < 0) {
      throw new IllegalArgumentException(
          "lossPercent must be 0 to 99 and rateKbit 0 or more, got "
              + lossPercent
              + ", "
              + rateKbit);
    }
    StringBuilder script = new StringBuilder("set -e\n");
    if (lossPercent > 0) {
      script
          .append("nft add table inet tributary_fault\n")
          .append(
              "nft add chain inet tributary_fault in '{ type filter hook input priority 0; }'\n")
          .append(
              "nft add chain inet tributary_fault out '{ type filter hook output priority 0; }'\n")
          .append("nft 'add rule inet tributary_fault in iifname eth0 numgen random mod 100 < ")
          .append(lossPercent)
          .append(" drop'\n")
          .append("nft 'add rule inet tributary_fault out oifname eth0 numgen random mod 100 < ")
          .append(lossPercent)
          .append(" drop'\n");
    }
    if (rateKbit > 0) {
      script
          .append("tc qdisc add dev eth0 root tbf rate ")
          .append(rateKbit)
          .append("kbit burst 16kb latency 2s\n");
    }
    exec(script.toString());
    LOG.info(
        "event={}_container_link_degraded container={} loss_percent={} rate_kbit={}",
        server,
        containerId(),
        lossPercent,
        rateKbit);
  }

  @Override
  public void restoreLink() {
    exec(
        "nft delete table inet tributary_fault 2>/dev/null || true\n"
            + "tc qdisc del dev eth0 root 2>/dev/null || true\n");
    awaitAnswering.run();
    LOG.info("event={}_container_link_restored container={}", server, containerId());
  }

  private void exec(String script) {
    try {
      ExecResult r = container.execInContainer("bash", "-c", script);
      if (r.getExitCode() != 0) {
        throw new KafkaBrokerException(
            "Fault command failed in container "
                + containerId()
                + " (exit "
                + r.getExitCode()
                + "): "
                + r.getStderr().strip()
                + "; the image needs iproute2 and nftables (scripts/images/jre17)");
      }
    } catch (IOException e) {
      throw new KafkaBrokerException("Could not run a command in " + containerId() + ": " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new KafkaBrokerException("Interrupted while running a command in " + containerId(), e);
    }
  }
}
