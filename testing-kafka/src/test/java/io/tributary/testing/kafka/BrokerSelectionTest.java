package io.tributary.testing.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tributary.testing.kafka.internal.BrokerSelection;
import org.junit.jupiter.api.Test;

class BrokerSelectionTest {
  @Test
  void propertyChoosesTheKindWhateverTheCase() {
    assertThat(BrokerSelection.choose("local")).isEqualTo(KafkaBroker.Kind.LOCAL);
    assertThat(BrokerSelection.choose(" Docker ")).isEqualTo(KafkaBroker.Kind.DOCKER);
  }

  @Test
  void unknownValueNamesThePropertyAndTheChoices() {
    assertThatThrownBy(() -> BrokerSelection.choose("podman"))
        .isInstanceOf(KafkaBrokerException.class)
        .hasMessageContaining("podman")
        .hasMessageContaining(KafkaBroker.BROKER_PROPERTY)
        .hasMessageContaining("local or docker");
  }

  @Test
  void unsetPropertyProbesQuickly() {
    long t0 = System.nanoTime();
    KafkaBroker.Kind kind = BrokerSelection.choose(null);
    long millis = (System.nanoTime() - t0) / 1_000_000;
    assertThat(kind).isNotNull();
    if (kind == KafkaBroker.Kind.LOCAL && System.getenv("DOCKER_HOST") == null) {
      // Without any hint of Docker the probe only looks at a few files.
      assertThat(millis).isLessThan(2_000);
    }
  }
}
