package io.tributary.core.api;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.math.BigInteger;
import java.util.Objects;

/**
 * A place within one partition of a source: a Kafka offset, a byte or record number in a file, a
 * Kinesis sequence number (a decimal of up to 128 bits, with the KPL sub-sequence number of an
 * aggregated record), a receiver's stream sequence number.
 *
 * <p>A position is a non-negative integer of any size ({@link #sequence()}) and a sub-sequence
 * number ({@link #sub()}, 0 unless the source numbers records inside one sequence number).
 * Positions of one partition are totally ordered: by sequence, then by sub-sequence. Positions of
 * different partitions are not comparable in any useful sense; the runtime never compares them.
 * Sources whose native positions are not numbers map them to numbers (the file source numbers the
 * files it admits) and keep the mapping in their state storage.
 *
 * <p>Ranges are {@code [from, until)}. For sources with dense positions (Kafka, files, receivers)
 * {@link #distanceTo(Position)} is the number of records between two positions; for sparse ones
 * (Kinesis) it is only an upper bound, and such sources fix a range's end by reading ({@link
 * RangeEndByReading}).
 *
 * <p>JSON form (in {@code offsets/N}): a JSON number when the position fits in a {@code long} and
 * has no sub-sequence (so format-1 checkpoints, which held {@code long}s, load unchanged), else a
 * string {@code "<sequence>"} or {@code "<sequence>#<sub>"}. {@link #toString()} gives the same
 * text.
 *
 * <p>Thread safety: immutable. Positions that fit in a {@code long} cost no {@link BigInteger}.
 */
public final class Position implements Comparable<Position> {
  /** The first position of a partition that starts at 0. */
  public static final Position ZERO = new Position(0L, null, 0L);

  private static final BigInteger LONG_MAX = BigInteger.valueOf(Long.MAX_VALUE);

  private final long value; // the sequence when big == null
  private final BigInteger big; // the sequence when it does not fit in a long, else null
  private final long sub;

  private Position(long value, BigInteger big, long sub) {
    this.value = value;
    this.big = big;
    this.sub = sub;
  }

  /**
   * The position {@code offset} (a Kafka offset, a record number).
   *
   * @throws IllegalArgumentException if {@code offset} is negative
   */
  public static Position of(long offset) {
    if (offset < 0) {
      throw new IllegalArgumentException("Invalid position " + offset + ": positions are >= 0");
    }
    return offset == 0 ? ZERO : new Position(offset, null, 0L);
  }

  /** A position of any size, for example a Kinesis sequence number. */
  public static Position of(BigInteger sequence) {
    return of(sequence, 0L);
  }

  /**
   * A position with a sub-sequence number, for example a record inside an aggregated Kinesis
   * record.
   */
  public static Position of(BigInteger sequence, long sub) {
    Objects.requireNonNull(sequence, "sequence");
    if (sequence.signum() < 0 || sub < 0) {
      throw new IllegalArgumentException(
          "Invalid position " + sequence + "#" + sub + ": sequence and sub-sequence are >= 0");
    }
    if (sequence.compareTo(LONG_MAX) <= 0) {
      return new Position(sequence.longValue(), null, sub);
    }
    return new Position(0L, sequence, sub);
  }

  /**
   * Parses the text form {@code "<sequence>"} or {@code "<sequence>#<sub>"}, decimal digits only.
   *
   * @throws IllegalArgumentException naming the text when it is not a position
   */
  public static Position parse(String text) {
    Objects.requireNonNull(text, "text");
    int hash = text.indexOf('#');
    String seq = hash < 0 ? text : text.substring(0, hash);
    String subText = hash < 0 ? "0" : text.substring(hash + 1);
    if (!isDigits(seq) || !isDigits(subText)) {
      throw new IllegalArgumentException(
          "Invalid position '"
              + text
              + "' (expected: decimal digits, optionally '#' and a sub-sequence number)");
    }
    try {
      return of(new BigInteger(seq), Long.parseLong(subText));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "Invalid position '" + text + "': sub-sequence number too large", e);
    }
  }

  /** Jackson: a JSON number or the text form. */
  @JsonCreator
  static Position fromJson(Object json) {
    if (json instanceof Integer i) {
      return of(i.longValue());
    }
    if (json instanceof Long l) {
      return of(l);
    }
    if (json instanceof BigInteger b) {
      return of(b);
    }
    if (json instanceof String s) {
      return parse(s);
    }
    throw new IllegalArgumentException(
        "Invalid position "
            + json
            + " (expected: a non-negative integer, or a string \"<sequence>#<sub>\")");
  }

  /**
   * Jackson: a JSON number when it fits in a {@code long} without sub-sequence, else the text form.
   */
  @JsonValue
  Object toJson() {
    return big == null && sub == 0 ? (Object) value : toString();
  }

  private static boolean isDigits(String s) {
    if (s.isEmpty()) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < '0' || c > '9') {
        return false;
      }
    }
    return true;
  }

  /** The sequence number. */
  public BigInteger sequence() {
    return big != null ? big : BigInteger.valueOf(value);
  }

  /** The sub-sequence number; 0 for sources that have none. */
  public long sub() {
    return sub;
  }

  /**
   * Whether the position is a plain {@code long} offset (no sub-sequence, fits in a {@code long}).
   */
  public boolean isLong() {
    return big == null && sub == 0;
  }

  /**
   * The position as a {@code long} offset, for sources whose positions are offsets (Kafka, files,
   * receivers).
   *
   * @throws ArithmeticException if the position does not fit ({@link #isLong()} is false): a
   *     checkpoint of another source type, or a hand-edited one
   */
  public long toLong() {
    if (!isLong()) {
      throw new ArithmeticException(
          "Position "
              + this
              + " is not a plain 64-bit offset; this source reads only offsets (was the checkpoint"
              + " written by another source type?)");
    }
    return value;
  }

  /**
   * The position {@code n} sequence numbers further ({@code n >= 0}); the sub-sequence is reset to
   * 0 when {@code n > 0}. {@code plus(0)} is this position, sub-sequence included (a range of 0
   * records planned at a position with a sub-sequence number must not end before it starts).
   */
  public Position plus(long n) {
    if (n < 0) {
      throw new IllegalArgumentException("plus(" + n + "): n must be >= 0");
    }
    if (n == 0) {
      return this;
    }
    if (big == null && value <= Long.MAX_VALUE - n) {
      return n == 0 && sub == 0 ? this : new Position(value + n, null, 0L);
    }
    return of(sequence().add(BigInteger.valueOf(n)));
  }

  /**
   * The number of sequence numbers from this position up to {@code other}, 0 when {@code other} is
   * not after this one, {@link Long#MAX_VALUE} when the distance does not fit in a {@code long}.
   * Sub-sequence numbers are ignored.
   */
  public long distanceTo(Position other) {
    if (big == null && other.big == null) {
      long d = other.value - value;
      return d > 0 ? d : 0;
    }
    BigInteger d = other.sequence().subtract(sequence());
    if (d.signum() <= 0) {
      return 0;
    }
    return d.compareTo(LONG_MAX) > 0 ? Long.MAX_VALUE : d.longValue();
  }

  /** The smaller of two positions of one partition. */
  public static Position min(Position a, Position b) {
    return a.compareTo(b) <= 0 ? a : b;
  }

  /** The larger of two positions of one partition. */
  public static Position max(Position a, Position b) {
    return a.compareTo(b) >= 0 ? a : b;
  }

  public boolean isBefore(Position other) {
    return compareTo(other) < 0;
  }

  @Override
  public int compareTo(Position o) {
    int c;
    if (big == null && o.big == null) {
      c = Long.compare(value, o.value);
    } else if (big == null) {
      c = -1;
    } else if (o.big == null) {
      c = 1;
    } else {
      c = big.compareTo(o.big);
    }
    return c != 0 ? c : Long.compare(sub, o.sub);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Position p
        && value == p.value
        && sub == p.sub
        && Objects.equals(big, p.big);
  }

  @Override
  public int hashCode() {
    return big == null
        ? Long.hashCode(value) * 31 + Long.hashCode(sub)
        : big.hashCode() * 31 + Long.hashCode(sub);
  }

  @Override
  public String toString() {
    String seq = big == null ? Long.toString(value) : big.toString();
    return sub == 0 ? seq : seq + "#" + sub;
  }
}
