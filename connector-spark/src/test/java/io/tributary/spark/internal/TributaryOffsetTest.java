package io.tributary.spark.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tributary.core.api.Position;
import java.math.BigInteger;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TributaryOffsetTest {
  @Test
  void positionsOfAnySizeRoundTripAsReadableJson() {
    BigInteger kinesis = new BigInteger("49590338271490256608559692538361571095921575989136588898");
    TributaryOffset o =
        new TributaryOffset(
            Map.of(
                "t-0", Position.of(42),
                "shard-1", Position.of(kinesis, 3),
                "shard-2", Position.of(kinesis)));
    String json = o.json();
    assertThat(json)
        .isEqualTo(
            "{\"version\":1,\"positions\":{\"shard-1\":\""
                + kinesis
                + "#3\",\"shard-2\":\""
                + kinesis
                + "\",\"t-0\":42}}");
    assertThat(TributaryOffset.parse(json)).isEqualTo(o);
  }

  @Test
  void anOffsetOfAnotherSourceOrVersionIsRefusedWithTheReason() {
    assertThatThrownBy(() -> TributaryOffset.parse("{\"topic\":{\"0\":5}}"))
        .hasMessageContaining("was the checkpoint written by another source?");
    assertThatThrownBy(() -> TributaryOffset.parse("{\"version\":2,\"positions\":{}}"))
        .hasMessageContaining("version 2");
    assertThatThrownBy(() -> TributaryOffset.parse("{\"version\":1,\"positions\":{\"a\":-1}}"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> TributaryOffset.parse("not json"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Invalid tributary offset");
  }
}
