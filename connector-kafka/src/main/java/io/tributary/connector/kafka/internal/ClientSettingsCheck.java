package io.tributary.connector.kafka.internal;

import io.tributary.core.api.Secrets;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;

/**
 * Checks pass-through Kafka client settings ({@code kafka.*}) at validation with the clients' own
 * declarations ({@link ConfigDef} of the consumer, producer and admin client), so that {@code
 * tributary validate} refuses what the clients would refuse at {@code run}: an unknown {@code
 * security.protocol}, a number that is not one, a value outside its allowed range. A name no client
 * declares is left alone (the clients pass unknown names to plugins such as interceptors and SASL
 * callbacks).
 *
 * <p>Thread safety: stateless.
 */
public final class ClientSettingsCheck {
  private static final List<ConfigDef> DEFS =
      withOwnContextLoader(
          () ->
              List.of(
                  ConsumerConfig.configDef(),
                  ProducerConfig.configDef(),
                  AdminClientConfig.configDef()));

  /**
   * Runs {@code action} with this class's loader as the thread's context class loader: the Kafka
   * clients' config classes resolve class-typed defaults through it, and in the gateway this check
   * runs at validation, on a gateway thread, while the Kafka classes live in the connector's
   * plugin.
   */
  private static <T> T withOwnContextLoader(java.util.function.Supplier<T> action) {
    Thread t = Thread.currentThread();
    ClassLoader previous = t.getContextClassLoader();
    t.setContextClassLoader(ClientSettingsCheck.class.getClassLoader());
    try {
      return action.get();
    } finally {
      t.setContextClassLoader(previous);
    }
  }

  private ClientSettingsCheck() {}

  /**
   * What the clients' declarations say of the setting {@code name} = {@code value}: {@code null}
   * when the value parses and passes the client's validator (or no client declares the name), else
   * the client's reason (which may quote the value: callers mask it for secret names).
   */
  public static String entryProblem(String name, String value) {
    return withOwnContextLoader(() -> checkEntry(name, value));
  }

  private static String checkEntry(String name, String value) {
    for (ConfigDef def : DEFS) {
      ConfigDef.ConfigKey key = def.configKeys().get(name);
      if (key == null) {
        continue;
      }
      try {
        Object parsed = ConfigDef.parseType(name, value, key.type);
        if (key.validator != null) {
          key.validator.ensureValid(name, parsed);
        }
        return null;
      } catch (ConfigException ex) {
        return "refused by the Kafka client: "
            + ex.getMessage()
            + " (expected: a "
            + key.type.toString().toLowerCase(java.util.Locale.ROOT)
            + " value the client accepts; see the Kafka client documentation of "
            + name
            + ")";
      }
    }
    return null;
  }

  /**
   * The first problem of {@code settings} (as {@link #entryProblem}), prefixed with the setting's
   * name and its value (masked for a secret name), or {@code null} when there is none.
   */
  public static String problem(Map<String, String> settings) {
    for (Map.Entry<String, String> e : settings.entrySet()) {
      String reason = entryProblem(e.getKey(), e.getValue());
      if (reason != null) {
        boolean secret = Secrets.isSecretName(e.getKey());
        return e.getKey()
            + "="
            + (secret ? Secrets.MASK : e.getValue())
            + " is "
            + (secret ? Secrets.scrub(reason, List.of(e.getValue())) : reason);
      }
    }
    return null;
  }
}
