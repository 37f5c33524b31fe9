package io.tributary.connector.socket;

import io.tributary.sdk.testkit.ReceiverContractTest;
import io.tributary.sdk.testkit.ReceiverTestContext;

/**
 * The SDK's receiver contract for the reliable server with its default settings, the source being a
 * real {@link ReliableSocketClient}.
 */
class SocketServerReceiverContractIT extends ReceiverContractTest {
  @Override
  protected ReceiverTestContext createContext() throws Exception {
    return new ReliableClientContext();
  }
}
