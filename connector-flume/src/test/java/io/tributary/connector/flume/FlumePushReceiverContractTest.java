package io.tributary.connector.flume;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tributary.core.api.Receiver;
import io.tributary.sdk.testkit.ReceiverContractTest;
import io.tributary.sdk.testkit.ReceiverTestContext;
import java.util.List;

/**
 * The SDK's receiver contract for push mode, the source being a real {@code flume-ng-sdk} {@code
 * RpcClient} that resends a batch until it is answered OK (as an agent's avro sink does).
 */
class FlumePushReceiverContractTest extends ReceiverContractTest {
  @Override
  protected ReceiverTestContext createContext() throws Exception {
    int port = FlumeTestSupport.freePort();
    RetryingSender sender = new RetryingSender(RetryingSender.defaultClient(port), 10);
    return new ReceiverTestContext() {
      @Override
      public Receiver createReceiver() {
        return new FlumePushReceiver(
            FlumeTestSupport.config("mode", "push", "port", port), new SimpleMeterRegistry());
      }

      @Override
      public void writeRecords(List<String> values) {
        sender.send(values);
      }

      @Override
      public List<String> acknowledgedValues() {
        return sender.acknowledged();
      }

      @Override
      public void close() throws Exception {
        sender.close();
      }
    };
  }
}
