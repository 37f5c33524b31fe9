package io.tributary.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.core.api.Guarantee;
import io.tributary.core.api.SinkFactory;
import io.tributary.core.api.SourceFactory;
import io.tributary.core.sinks.ConsoleSinkFactory;
import io.tributary.core.sinks.FilesSinkFactory;
import io.tributary.gateway.testing.FailingSinkFactory;
import io.tributary.gateway.testing.SequenceSourceFactory;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Source and sink types come from {@link java.util.ServiceLoader}: core's built-in sinks, the
 * socket, Kafka and file connectors (runtime dependencies the gateway's code never imports) and the
 * test factories registered only in this module's test resources.
 */
class FactoryDiscoveryTest {
  @Test
  void findsEveryFactoryOnTheClasspath() {
    Map<String, SourceFactory> sources = GatewayConfig.sourceFactories();
    Map<String, SinkFactory> sinks = GatewayConfig.sinkFactories();
    assertThat(sources)
        .containsOnlyKeys(
            "files",
            "files-tail",
            "flume",
            "kafka",
            "kafka-group",
            "kinesis",
            "kinesis-kcl",
            "socket",
            "test-sequence");
    assertThat(sources.get("files").getClass().getName())
        .isEqualTo("io.tributary.connector.file.FileSourceFactory");
    assertThat(sources.get("kafka").getClass().getName())
        .isEqualTo("io.tributary.connector.kafka.KafkaConnectorFactory");
    assertThat(sources.get("socket").getClass().getName())
        .isEqualTo("io.tributary.connector.socket.SocketConnectorFactory");
    assertThat(sources.get("kinesis").getClass().getName())
        .isEqualTo("io.tributary.connector.kinesis.KinesisSourceFactory");
    assertThat(sources.get("kinesis-kcl").getClass().getName())
        .isEqualTo("io.tributary.connector.kinesis.KinesisKclSourceFactory");
    assertThat(sources.get("test-sequence")).isInstanceOf(SequenceSourceFactory.class);
    assertThat(sinks)
        .containsOnlyKeys(
            "console",
            "files",
            "flume",
            "hadoop-files",
            "kafka",
            "kafka-at-least-once",
            "kinesis",
            "test-failing");
    assertThat(sinks.get("console")).isInstanceOf(ConsoleSinkFactory.class);
    assertThat(sinks.get("files")).isInstanceOf(FilesSinkFactory.class);
    assertThat(sinks.get("test-failing")).isInstanceOf(FailingSinkFactory.class);
  }

  @Test
  void builtInSinksStateTheirGuarantees() {
    Map<String, SinkFactory> sinks = GatewayConfig.sinkFactories();
    assertThat(sinks.get("files").guarantee()).isEqualTo(Guarantee.EXACTLY_ONCE_IDEMPOTENT);
    assertThat(sinks.get("console").guarantee()).isEqualTo(Guarantee.AT_LEAST_ONCE);
    assertThat(sinks.get("kafka").guarantee()).isEqualTo(Guarantee.EXACTLY_ONCE_TRANSACTIONAL);
    assertThat(sinks.get("kafka-at-least-once").guarantee()).isEqualTo(Guarantee.AT_LEAST_ONCE);
    assertThat(sinks.get("flume").guarantee()).isEqualTo(Guarantee.AT_LEAST_ONCE);
    assertThat(sinks.get("files").options().options())
        .extracting(o -> o.name())
        .containsExactly("path", "prefix", "suffix", "max-file-size", "fsync");
  }

  private static String stdout(String... args) {
    PrintStream old = System.out;
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
    try {
      assertThat(TributaryCli.execute(args)).isZero();
    } finally {
      System.setOut(old);
    }
    return buf.toString(StandardCharsets.UTF_8);
  }

  @Test
  void typesCommandListsSourcesAndSinksWithGuarantees() {
    assertThat(stdout("types"))
        .contains("sources:")
        .containsPattern("\\n  socket +")
        .containsPattern("\\n  files +Reads new files")
        .containsPattern("\\n  files +EXACTLY_ONCE_IDEMPOTENT")
        .containsPattern("\\n  console +AT_LEAST_ONCE")
        .contains("transforms:\n  filter\n  map\n")
        .doesNotContain("| Key |");
    assertThat(stdout("types", "--options"))
        .contains("    | `port` | int | *required* |")
        .contains("    | `paths` | list of strings | *required* |")
        .contains("    | `max-file-size` | size | `128mb` |")
        .contains("    | `regex` | string | - |");
  }
}
