package io.tributary.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tributary.core.api.ConfigException;
import io.tributary.spark.internal.SourceSpec;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Option checking of {@code format("tributary")} without Spark: the same declarations and words as
 * the gateway, every problem at once.
 */
class SourceOptionsTest {
  @Test
  void missingSourceTypeNamesTheKeyAndTheInstalledTypes() {
    assertThatThrownBy(() -> SourceSpec.parse(Map.of("topics", "t")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("Invalid options of spark.readStream.format(\"tributary\")")
        .hasMessageContaining("Missing required key source.type");
  }

  @Test
  void unknownTypeListsTheTypesOnTheClassPath() {
    assertThatThrownBy(() -> SourceSpec.parse(Map.of("source.type", "kafak")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("Invalid value kafak for source.type: unknown type (expected one of:")
        .hasMessageContaining("files")
        .hasMessageContaining("kafka");
  }

  @Test
  void everySourceOptionProblemIsReportedAtOnceInTheGatewaysWords() {
    Map<String, String> o = new LinkedHashMap<>();
    o.put("source.type", "kafka");
    o.put("topics", "t");
    o.put("max-poll-records", "zero");
    o.put("bootstrap.servers", "x:9092"); // Spark's Kafka spelling, not Tributary's
    ConfigException e = (ConfigException) catchIt(() -> SourceSpec.parse(o));
    assertThat(e.problems()).hasSize(3);
    assertThat(e.problems())
        .anySatisfy(p -> assertThat(p).contains("for max-poll-records"))
        .anySatisfy(p -> assertThat(p).contains("Unknown key bootstrap.servers"))
        .anySatisfy(p -> assertThat(p).contains("Missing required key bootstrap-servers"))
        .allSatisfy(p -> assertThat(p).startsWith("Invalid options of spark.readStream"));
  }

  @Test
  void adapterOptionsAreCheckedAndCaseInsensitiveLikeSparks() {
    Map<String, String> o = new LinkedHashMap<>();
    o.put("source.type", "files");
    o.put("paths", "/tmp/in");
    o.put("MAXRECORDSPERTRIGGER", "0");
    o.put("maxBytesPerTrigger", "lots");
    ConfigException e = (ConfigException) catchIt(() -> SourceSpec.parse(o));
    assertThat(e.problems())
        .hasSize(2)
        .anySatisfy(p -> assertThat(p).contains("for maxRecordsPerTrigger"))
        .anySatisfy(p -> assertThat(p).contains("for maxBytesPerTrigger"));
  }

  @Test
  void constructorChecksOfTheSourceAreReportedToo() {
    // valid one by one, contradictory together: FileSource's constructor says so
    Map<String, String> o =
        Map.of(
            "source.type",
            "files",
            "paths",
            "/tmp/in",
            "format",
            "fixed-length",
            "record-length",
            "0");
    assertThatThrownBy(() -> SourceSpec.parse(o))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("for record-length: format fixed-length needs the record size");
  }

  @Test
  void aReceiverTypeIsRefusedWithTheWayOut() {
    assertThatThrownBy(() -> SourceSpec.parse(Map.of("source.type", "test-counter")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("it is a receiver")
        .hasMessageContaining("TributaryStreams.receiverStream");
  }

  @Test
  void validOptionsParseAndTheAdapterKeepsItsOwn() {
    SourceSpec spec =
        SourceSpec.parse(
            Map.of(
                "source.type", "files",
                "paths", "/tmp/in",
                "maxRecordsPerTrigger", "10",
                "maxBytesPerTrigger", "1mb"));
    assertThat(spec.type()).isEqualTo("files");
    assertThat(spec.maxRecordsPerTrigger()).isEqualTo(10L);
    assertThat(spec.maxBytesPerTrigger()).isEqualTo(1L << 20);
    assertThat(spec.toString()).doesNotContain("/tmp/in");
  }

  private static Throwable catchIt(Runnable r) {
    try {
      r.run();
    } catch (Throwable t) {
      return t;
    }
    throw new AssertionError("expected an exception");
  }
}
