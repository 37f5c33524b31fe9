package io.tributary.connector.kafka.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class ReplacedOnFailuresTest {
  private final AtomicInteger built = new AtomicInteger();
  private final List<String> closed = new ArrayList<>();
  private final RuntimeException timeout = new RuntimeException("Timed out waiting to send");

  private ReplacedOnFailures<String> clients(int limit) {
    return new ReplacedOnFailures<>(
        "client=test", limit, () -> "client-" + built.getAndIncrement(), closed::add);
  }

  @Test
  void replacesTheClientAfterTheLimitOfFailuresInARow() {
    ReplacedOnFailures<String> c = clients(2);
    String first = c.get();

    assertThat(c.failed(first, timeout)).isFalse();
    assertThat(c.get()).isSameAs(first);
    assertThat(c.failed(first, timeout)).isTrue();

    assertThat(c.get()).isEqualTo("client-1");
    assertThat(closed).containsExactly("client-0");
    assertThat(c.replacements()).isEqualTo(1);
  }

  @Test
  void aSuccessStartsTheCountAgain() {
    ReplacedOnFailures<String> c = clients(2);
    String first = c.get();

    c.failed(first, timeout);
    c.succeeded(first);
    assertThat(c.failed(first, timeout)).isFalse();

    assertThat(c.get()).isSameAs(first);
    assertThat(closed).isEmpty();
  }

  @Test
  void failuresOfAReplacedInstanceChangeNothing() {
    ReplacedOnFailures<String> c = clients(1);
    String first = c.get();
    assertThat(c.failed(first, timeout)).isTrue();

    // a second caller that used the same old instance reports its failure late
    assertThat(c.failed(first, timeout)).isFalse();
    c.succeeded(first);

    assertThat(c.get()).isEqualTo("client-1");
    assertThat(built.get()).isEqualTo(2);
    assertThat(closed).containsExactly("client-0");
  }

  @Test
  void closeClosesTheCurrentInstanceOnce() {
    ReplacedOnFailures<String> c = clients(1);
    c.failed(c.get(), timeout);
    List<String> closedAtEnd = new ArrayList<>();

    c.close(closedAtEnd::add);
    c.close(closedAtEnd::add);

    assertThat(closedAtEnd).containsExactly("client-1");
    assertThat(c.failed("client-1", timeout)).isFalse();
    assertThatThrownBy(c::get)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("client=test");
  }

  @Test
  void refusesALimitBelowOne() {
    assertThatThrownBy(() -> clients(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("at least 1");
  }
}
