package io.tributary.sdk;

import io.tributary.sdk.fixtures.QueueContext;
import io.tributary.sdk.fixtures.QueuePushReceiver;
import io.tributary.sdk.testkit.ReceiverContractTest;
import io.tributary.sdk.testkit.ReceiverTestContext;

/**
 * A correct {@link PushReceiver} over an in-memory queue's push subscription passes the whole
 * contract suite.
 */
class PushReceiverContractTest extends ReceiverContractTest {
  @Override
  protected ReceiverTestContext createContext() {
    return new QueueContext(
        q -> new QueuePushReceiver(q, PushReceiver.Settings.defaults().withMaxInFlight(4)));
  }
}
