package io.tributary.testing.kafka;

import io.tributary.testing.kafka.internal.DockerKafkaBroker;
import java.util.Locale;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * JUnit 5 extension giving tests a real Kafka broker ({@link KafkaBroker}) as a constructor,
 * lifecycle-method or test method parameter:
 *
 * <pre>{@code
 * @ExtendWith(KafkaBrokerExtension.class)
 * class MyIT {
 *   @Test
 *   void copies(KafkaBroker broker) {
 *     broker.createTopic("my-it-in", 4);
 *     ... broker.bootstrapServers() ...
 *   }
 * }
 * }</pre>
 *
 * <p>One broker serves the whole test run: it is started the first time a test class asks for it,
 * kept in the root {@link ExtensionContext} store, shared by every test class of the run, and
 * closed (process stopped, data deleted) when the run ends. Tests must therefore use topic names of
 * their own. Which broker runs is chosen by {@link KafkaBroker#start()}: system property {@value
 * KafkaBroker#BROKER_PROPERTY} = {@code local} or {@code docker}, else docker when a Docker engine
 * is reachable, else local.
 *
 * <p>A test that calls {@link KafkaBroker#restart()} affects the other test classes only while it
 * runs: the broker comes back on the same address with the same data. Test classes must not run in
 * parallel with such a test.
 *
 * <p>Thread safety: JUnit calls the callbacks; the store creates the broker once even under
 * parallel execution.
 */
public final class KafkaBrokerExtension implements BeforeAllCallback, ParameterResolver {
  private static final Logger LOG = LoggerFactory.getLogger(KafkaBrokerExtension.class);
  private static final ExtensionContext.Namespace NS =
      ExtensionContext.Namespace.create(KafkaBrokerExtension.class);

  /** Closes the broker with the root store at the end of the run. */
  private record Holder(KafkaBroker broker) implements ExtensionContext.Store.CloseableResource {
    @Override
    public void close() {
      broker.close();
    }
  }

  /**
   * Starts (or reuses) the run's broker and logs which one this test class gets: {@code
   * event=kafka_broker_for_test_class class=... kind=local|docker image=... bootstrap=...}.
   */
  @Override
  public void beforeAll(ExtensionContext context) {
    KafkaBroker broker = broker(context);
    LOG.info(
        "event=kafka_broker_for_test_class class={} kind={} image={} bootstrap={}",
        context.getRequiredTestClass().getName(),
        broker.kind().name().toLowerCase(Locale.ROOT),
        broker instanceof DockerKafkaBroker d ? d.imageName() : "-",
        broker.bootstrapServers());
  }

  @Override
  public boolean supportsParameter(
      ParameterContext parameterContext, ExtensionContext extensionContext) {
    return parameterContext.getParameter().getType() == KafkaBroker.class;
  }

  @Override
  public Object resolveParameter(
      ParameterContext parameterContext, ExtensionContext extensionContext) {
    return broker(extensionContext);
  }

  /** The run's broker, started on first use. */
  public static KafkaBroker broker(ExtensionContext context) {
    return context
        .getRoot()
        .getStore(NS)
        .getOrComputeIfAbsent("broker", k -> new Holder(KafkaBroker.start()), Holder.class)
        .broker();
  }
}
