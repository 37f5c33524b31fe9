package io.tributary.sdk.example;

import io.tributary.sdk.testkit.ReceiverContractTest;
import io.tributary.sdk.testkit.ReceiverTestContext;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/**
 * The example receiver passes the SDK's own contract suite (chunks of 7 lines, so files span
 * several stores).
 */
class SpoolDirectoryReceiverContractTest extends ReceiverContractTest {
  @TempDir Path dir;

  @Override
  protected ReceiverTestContext createContext() {
    return new SpoolDirectoryContext(dir, 7);
  }
}
