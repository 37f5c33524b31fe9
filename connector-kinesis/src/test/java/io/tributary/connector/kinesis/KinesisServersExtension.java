package io.tributary.connector.kinesis;

import java.lang.reflect.Field;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.LoggerFactory;

/**
 * Logs, per test class, which Kinesis and DynamoDB servers it gets: {@code
 * event=kinesis_server_for_test_class class=... server=kinesis kind=container
 * image=localhost/tributary-kinesis:... endpoint=...} (or {@code kind=local}). A test class uses a
 * server by holding a {@link LocalKinesis} or {@link LocalDynamo} field ({@code private final
 * LocalKinesis kinesis = LocalKinesis.get();}); this extension starts it before the class's first
 * test (once per JVM, {@link KinesisServerSelection} decides where) so the line comes first, and
 * does nothing for other classes.
 *
 * <p>Registered for every test class of the module by JUnit's extension autodetection ({@code
 * junit-platform.properties} and {@code META-INF/services} under {@code src/test/resources}), so
 * the test classes need no annotation.
 *
 * <p>Thread safety: stateless; the servers' {@code get()} is synchronized.
 */
public final class KinesisServersExtension implements BeforeAllCallback {
  @Override
  public void beforeAll(ExtensionContext context) {
    Class<?> testClass = context.getRequiredTestClass();
    boolean kinesis = holds(testClass, LocalKinesis.class);
    boolean dynamo = holds(testClass, LocalDynamo.class);
    if (kinesis) {
      LocalKinesis k = LocalKinesis.get();
      log(testClass, "kinesis", k.kind(), k.endpoint());
    }
    if (dynamo) {
      LocalDynamo d = LocalDynamo.get();
      log(testClass, "dynamodb", d.kind(), d.endpoint());
    }
  }

  private static void log(Class<?> testClass, String server, String kind, String endpoint) {
    LoggerFactory.getLogger(KinesisServersExtension.class)
        .info(
            "event=kinesis_server_for_test_class class={} server={} kind={} endpoint={}",
            testClass.getName(),
            server,
            kind,
            endpoint);
  }

  /** Whether {@code testClass} or a superclass declares a field of {@code type}. */
  private static boolean holds(Class<?> testClass, Class<?> type) {
    for (Class<?> c = testClass; c != null && c != Object.class; c = c.getSuperclass()) {
      for (Field f : c.getDeclaredFields()) {
        if (f.getType() == type) {
          return true;
        }
      }
    }
    return false;
  }
}
