package io.tributary.connector.flume.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import org.apache.avro.Protocol;
import org.apache.avro.ipc.Transceiver;

/**
 * The per-connection state Avro's {@code Responder} keeps (the client's protocol after the
 * handshake). Never sends: the connection handler writes responses.
 *
 * <p>Thread safety: the remote protocol is volatile; calls of one connection are serialized.
 */
final class ServerTransceiver extends Transceiver {
  private final String remoteName;
  private volatile Protocol remote;

  ServerTransceiver(String remoteName) {
    this.remoteName = remoteName;
  }

  @Override
  public String getRemoteName() {
    return remoteName;
  }

  @Override
  public List<ByteBuffer> readBuffers() throws IOException {
    throw new UnsupportedOperationException("server side");
  }

  @Override
  public void writeBuffers(List<ByteBuffer> buffers) throws IOException {
    throw new UnsupportedOperationException("server side");
  }

  @Override
  public boolean isConnected() {
    return remote != null;
  }

  @Override
  public void setRemote(Protocol protocol) {
    remote = protocol;
  }

  @Override
  public Protocol getRemote() {
    Protocol p = remote;
    if (p == null) {
      throw new IllegalStateException("Not connected.");
    }
    return p;
  }
}
