package io.tributary.connector.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The range readers' default {@code max.partition.fetch.bytes} follows the JVM's collector. */
class KafkaDirectSourceFetchSizeTest {
  @Test
  void g1GetsFetchesBelowItsHumongousThreshold() {
    assertThat(
            KafkaDirectSource.readerFetchBytes(List.of("G1 Young Generation", "G1 Old Generation")))
        .isEqualTo(256 * 1024);
    assertThat(
            KafkaDirectSource.readerFetchBytes(
                List.of("G1 Young Generation", "G1 Concurrent GC", "G1 Old Generation")))
        .isEqualTo(256 * 1024);
  }

  @Test
  void serialAndParallelCollectorsGetKafkasOneMebibyte() {
    assertThat(KafkaDirectSource.readerFetchBytes(List.of("Copy", "MarkSweepCompact")))
        .isEqualTo(1024 * 1024);
    assertThat(KafkaDirectSource.readerFetchBytes(List.of("PS Scavenge", "PS MarkSweep")))
        .isEqualTo(1024 * 1024);
  }

  @Test
  void otherOrUnknownCollectorsGetTheSmallFetches() {
    assertThat(KafkaDirectSource.readerFetchBytes(List.of("ZGC Cycles", "ZGC Pauses")))
        .isEqualTo(256 * 1024);
    assertThat(KafkaDirectSource.readerFetchBytes(List.of("Shenandoah Pauses")))
        .isEqualTo(256 * 1024);
    assertThat(KafkaDirectSource.readerFetchBytes(List.of())).isEqualTo(256 * 1024);
    assertThat(KafkaDirectSource.readerFetchBytes(List.of("Copy", "G1 Old Generation")))
        .isEqualTo(256 * 1024);
  }

  @Test
  void thisJvmsChoiceIsOneOfTheTwo() {
    assertThat(KafkaDirectSource.readerFetchBytes()).isIn(256 * 1024, 1024 * 1024);
  }
}
