package io.tributary.sdk;

import io.tributary.sdk.fixtures.QueueContext;
import io.tributary.sdk.fixtures.QueuePollingReceiver;
import io.tributary.sdk.testkit.ReceiverContractTest;
import io.tributary.sdk.testkit.ReceiverTestContext;

/** A correct {@link PollingReceiver} over an in-memory queue passes the whole contract suite. */
class PollingReceiverContractTest extends ReceiverContractTest {
  @Override
  protected ReceiverTestContext createContext() {
    return new QueueContext(
        q ->
            new QueuePollingReceiver(
                q, QueuePollingReceiver.Bug.NONE, PollingReceiver.Settings.defaults()));
  }
}
