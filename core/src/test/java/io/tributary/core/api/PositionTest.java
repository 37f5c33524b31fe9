package io.tributary.core.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.math.BigInteger;
import java.util.List;
import org.junit.jupiter.api.Test;

class PositionTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** A real-looking Kinesis sequence number: 56 decimal digits, far beyond 64 bits. */
  private static final String KINESIS_SEQ =
      "49590338271490256608559692538361571095921575989136588898";

  @Test
  void kinesisSequenceNumbersBeyond64BitsAreOrderedAndKeepEveryDigit() {
    Position a = Position.parse(KINESIS_SEQ);
    Position b = Position.of(new BigInteger(KINESIS_SEQ).add(BigInteger.ONE));
    assertThat(a.toString()).isEqualTo(KINESIS_SEQ);
    assertThat(a.isLong()).isFalse();
    assertThat(a).isLessThan(b);
    assertThat(a.distanceTo(b)).isEqualTo(1);
    assertThat(b.distanceTo(a)).isZero();
    assertThat(Position.of(5)).isLessThan(a); // any 64-bit position is before any larger one
    assertThatThrownBy(a::toLong)
        .isInstanceOf(ArithmeticException.class)
        .hasMessageContaining(KINESIS_SEQ);
  }

  @Test
  void subSequenceNumbersOrderRecordsInsideOneSequenceNumber() {
    Position first = Position.parse(KINESIS_SEQ + "#0");
    Position second = Position.parse(KINESIS_SEQ + "#1");
    Position next = Position.of(new BigInteger(KINESIS_SEQ).add(BigInteger.ONE));
    assertThat(first).isEqualTo(Position.parse(KINESIS_SEQ));
    assertThat(List.of(next, second, first).stream().sorted().toList())
        .containsExactly(first, second, next);
    assertThat(second.toString()).isEqualTo(KINESIS_SEQ + "#1");
    assertThat(second.plus(1)).isEqualTo(next); // the next sequence number, sub-sequence reset
    // plus(0) keeps the sub-sequence: a 0-record range planned at "seq#1" ends where it starts
    // (the planner computed start.plus(0) < start for a closed Kinesis shard ending at "seq#1")
    assertThat(second.plus(0)).isEqualTo(second).isNotEqualTo(first);
    assertThat(Position.parse("7#3").plus(0)).isEqualTo(Position.parse("7#3"));
  }

  @Test
  void jsonIsANumberForOffsetsAndTextOtherwiseAndBothReadBack() throws Exception {
    assertThat(JSON.writeValueAsString(Position.of(42))).isEqualTo("42");
    assertThat(JSON.writeValueAsString(Position.parse(KINESIS_SEQ)))
        .isEqualTo('"' + KINESIS_SEQ + '"');
    assertThat(JSON.writeValueAsString(Position.parse("7#3"))).isEqualTo("\"7#3\"");
    for (Position p :
        List.of(
            Position.ZERO,
            Position.of(Long.MAX_VALUE),
            Position.parse(KINESIS_SEQ),
            Position.parse("7#3"))) {
      assertThat(JSON.readValue(JSON.writeValueAsString(p), Position.class)).isEqualTo(p);
    }
    // a big number written as a JSON number (hand-edited) is read too
    assertThat(JSON.readValue(KINESIS_SEQ, Position.class)).isEqualTo(Position.parse(KINESIS_SEQ));
  }

  @Test
  void offsetRangesOfLongOffsetsKeepTheirFormat1Json() throws Exception {
    OffsetRange r = new OffsetRange("t-0", 10, 25);
    String json = JSON.writeValueAsString(r);
    assertThat(json).isEqualTo("{\"partition\":\"t-0\",\"from\":10,\"until\":25}");
    assertThat(JSON.readValue(json, OffsetRange.class)).isEqualTo(r);
    assertThat(r.count()).isEqualTo(15);
    assertThat(r.fromOffset()).isEqualTo(10);
  }

  @Test
  void badTextIsRefusedWithTheExpectedForm() {
    for (String bad : List.of("", "-1", "12a", "#3", "3#", "1.5", "3#-1")) {
      assertThatThrownBy(() -> Position.parse(bad))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("expected: decimal digits");
    }
    assertThatThrownBy(() -> Position.of(-1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new OffsetRange("p", Position.of(5), Position.of(4)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("until 4 < from 5");
  }

  @Test
  void distanceSaturatesInsteadOfOverflowing() {
    Position huge = Position.parse(KINESIS_SEQ);
    assertThat(Position.ZERO.distanceTo(huge)).isEqualTo(Long.MAX_VALUE);
    assertThat(Position.of(Long.MAX_VALUE).plus(1))
        .isEqualTo(Position.of(BigInteger.valueOf(Long.MAX_VALUE).add(BigInteger.ONE)));
  }
}
