package io.tributary.connector.socket.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class BackoffTest {
  @Test
  void doublesUpToTheMaximumAndResets() {
    Backoff b = new Backoff(Duration.ofMillis(100), Duration.ofMillis(500));
    assertThat(b.nextDelayMillis()).isEqualTo(100);
    assertThat(b.nextDelayMillis()).isEqualTo(200);
    assertThat(b.nextDelayMillis()).isEqualTo(400);
    assertThat(b.nextDelayMillis()).isEqualTo(500);
    assertThat(b.nextDelayMillis()).isEqualTo(500);
    b.reset();
    assertThat(b.nextDelayMillis()).isEqualTo(100);
  }
}
