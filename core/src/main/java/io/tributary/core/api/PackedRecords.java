package io.tributary.core.api;

import java.util.AbstractList;
import java.util.Arrays;
import java.util.Map;
import java.util.Objects;
import java.util.RandomAccess;

/**
 * An immutable list of records kept in columns: the values lie in a few large byte arrays (for a
 * socket, the bytes of each read), with one start and end index per record; key, headers, source
 * and partition are the same for every record; offsets and timestamps are per chunk (consecutive
 * offsets within a chunk). A record is built only when {@link #get(int)} asks for it (its value is
 * then a copy), so a receiver can hand the runtime a read of hundreds of lines as a few objects
 * instead of four per line (value, {@link Record}, {@link SourcePosition}, {@link Position}), which
 * would all stay live until their batch commits.
 *
 * <p>Everything that takes a {@code List<Record>} accepts it. The runtime reads it without building
 * records where it can ({@link #forEachValue}, {@link #sizeInBytes()}, {@link #maxOffset()}):
 * storing it, writing it to the write-ahead log, counting its bytes, and the rolling-file sink.
 *
 * <p>Build one with {@link Builder}: {@code add} a chunk per read, then {@code build()}.
 *
 * <p>Thread safety: immutable, as long as nobody changes the arrays handed to the builder after
 * {@code add} (the builder does not copy them). {@link #get(int)} returns a new {@link Record}
 * (equal, not identical) on every call.
 */
public final class PackedRecords extends AbstractList<Record> implements RandomAccess {
  private final String source;
  private final String partition;
  private final Map<String, byte[]> headers;

  /** What the headers add to each record's {@link Record#sizeInBytes()}. */
  private final int headerBytes;

  private final byte[][] chunkData;

  /** First line of each chunk, then the total number of lines ({@code chunks + 1} entries). */
  private final int[] chunkFirst;

  private final long[] chunkOffset;
  private final long[] chunkTimestamp;
  private final int[] starts;
  private final int[] ends;

  /** This view: lines {@code [from, from + size)}. */
  private final int from;

  private final int size;
  private final long valueBytes;

  private PackedRecords(
      String source,
      String partition,
      Map<String, byte[]> headers,
      int headerBytes,
      byte[][] chunkData,
      int[] chunkFirst,
      long[] chunkOffset,
      long[] chunkTimestamp,
      int[] starts,
      int[] ends,
      int from,
      int size) {
    this.source = source;
    this.partition = partition;
    this.headers = headers;
    this.headerBytes = headerBytes;
    this.chunkData = chunkData;
    this.chunkFirst = chunkFirst;
    this.chunkOffset = chunkOffset;
    this.chunkTimestamp = chunkTimestamp;
    this.starts = starts;
    this.ends = ends;
    this.from = from;
    this.size = size;
    long v = 0;
    for (int i = from, until = from + size; i < until; i++) {
      v += ends[i] - starts[i];
    }
    this.valueBytes = v;
  }

  /** Receives the values of a {@link PackedRecords}, in order, without a {@link Record} each. */
  @FunctionalInterface
  public interface ValueVisitor<E extends Exception> {
    /**
     * One record: its value is {@code array[start, end)} (read it, never change it), its offset in
     * {@link #partition()}, its timestamp.
     */
    void accept(byte[] array, int start, int end, long offset, long timestampMs) throws E;
  }

  /** The source of every record. */
  public String source() {
    return source;
  }

  /** The partition of every record. */
  public String partition() {
    return partition;
  }

  /** The headers of every record (an immutable {@code Map.of} map; the same instance each). */
  public Map<String, byte[]> headers() {
    return headers;
  }

  @Override
  public int size() {
    return size;
  }

  @Override
  public Record get(int index) {
    Objects.checkIndex(index, size);
    int line = from + index;
    int c = chunkOf(line);
    return new Record(
        null,
        Arrays.copyOfRange(chunkData[c], starts[line], ends[line]),
        chunkTimestamp[c],
        headers,
        new SourcePosition(source, partition, chunkOffset[c] + (line - chunkFirst[c])));
  }

  /** A view of records {@code [fromIndex, toIndex)}, packed as this list is. */
  @Override
  public PackedRecords subList(int fromIndex, int toIndex) {
    Objects.checkFromToIndex(fromIndex, toIndex, size);
    return new PackedRecords(
        source,
        partition,
        headers,
        headerBytes,
        chunkData,
        chunkFirst,
        chunkOffset,
        chunkTimestamp,
        starts,
        ends,
        from + fromIndex,
        toIndex - fromIndex);
  }

  /** The sum of {@link Record#sizeInBytes()} over the records, without building them. */
  public long sizeInBytes() {
    return valueBytes + (long) headerBytes * size;
  }

  /** The sum of the values' lengths. */
  public long valueBytes() {
    return valueBytes;
  }

  /** The highest offset of the records, or {@code -1} when there are none. */
  public long maxOffset() {
    long max = -1;
    if (size == 0) {
      return max;
    }
    int last = from + size - 1;
    for (int c = chunkOf(from), end = chunkOf(last); c <= end; c++) {
      int hi = Math.min(chunkFirst[c + 1] - 1, last);
      max = Math.max(max, chunkOffset[c] + (hi - chunkFirst[c]));
    }
    return max;
  }

  /** Calls {@code visitor} for every record, in order. */
  public <E extends Exception> void forEachValue(ValueVisitor<E> visitor) throws E {
    if (size == 0) {
      return;
    }
    int until = from + size;
    for (int c = chunkOf(from); c < chunkData.length && chunkFirst[c] < until; c++) {
      byte[] data = chunkData[c];
      long offset0 = chunkOffset[c] - chunkFirst[c];
      long ts = chunkTimestamp[c];
      for (int i = Math.max(from, chunkFirst[c]), hi = Math.min(until, chunkFirst[c + 1]);
          i < hi;
          i++) {
        visitor.accept(data, starts[i], ends[i], offset0 + i, ts);
      }
    }
  }

  private int chunkOf(int line) {
    int lo = 0;
    int hi = chunkData.length - 1;
    while (lo < hi) { // the last chunk whose first line is <= line
      int mid = (lo + hi + 1) >>> 1;
      if (chunkFirst[mid] <= line) {
        lo = mid;
      } else {
        hi = mid - 1;
      }
    }
    return lo;
  }

  /**
   * Collects chunks into one {@link PackedRecords}.
   *
   * <p>Thread safety: not thread-safe; one builder per producer (a socket connection).
   */
  public static final class Builder {
    private final String source;
    private final String partition;
    private final Map<String, byte[]> headers;
    private final int headerBytes;
    private byte[][] chunkData = new byte[4][];
    private int[] chunkFirst = new int[5];
    private long[] chunkOffset = new long[4];
    private long[] chunkTimestamp = new long[4];
    private int chunks;
    private int[] starts;
    private int[] ends;
    private int lines;

    /**
     * @param headers the headers of every record; copied once with {@link Map#copyOf} (a {@code
     *     Map.of} map is kept as is)
     * @param expectedRecords initial capacity
     */
    public Builder(
        String source, String partition, Map<String, byte[]> headers, int expectedRecords) {
      this.source = Objects.requireNonNull(source, "source");
      this.partition = Objects.requireNonNull(partition, "partition");
      this.headers = Map.copyOf(headers);
      int hb = 0;
      for (Map.Entry<String, byte[]> h : this.headers.entrySet()) {
        hb += h.getKey().length() + (h.getValue() == null ? 0 : h.getValue().length);
      }
      this.headerBytes = hb;
      int cap = Math.max(16, expectedRecords);
      this.starts = new int[cap];
      this.ends = new int[cap];
    }

    /**
     * Adds {@code count} records whose values are {@code data[starts[i], ends[i])}, with offsets
     * {@code firstOffset, firstOffset + 1, ...} and one timestamp. The arrays must not change
     * afterwards ({@code data} is not copied; the bounds are).
     */
    public Builder add(
        byte[] data, int[] starts, int[] ends, int count, long firstOffset, long timestampMs) {
      if (count == 0) {
        return this;
      }
      if (firstOffset < 0) {
        throw new IllegalArgumentException(
            "Invalid first offset " + firstOffset + ": positions are >= 0");
      }
      if (chunks == chunkData.length) {
        int n = chunks * 2;
        chunkData = Arrays.copyOf(chunkData, n);
        chunkFirst = Arrays.copyOf(chunkFirst, n + 1);
        chunkOffset = Arrays.copyOf(chunkOffset, n);
        chunkTimestamp = Arrays.copyOf(chunkTimestamp, n);
      }
      if (lines + count > this.starts.length) {
        int n = Math.max(this.starts.length * 2, lines + count);
        this.starts = Arrays.copyOf(this.starts, n);
        this.ends = Arrays.copyOf(this.ends, n);
      }
      for (int i = 0; i < count; i++) {
        if (starts[i] < 0 || starts[i] > ends[i] || ends[i] > data.length) {
          throw new IndexOutOfBoundsException(
              "record " + i + ": [" + starts[i] + ", " + ends[i] + ") of " + data.length);
        }
      }
      chunkData[chunks] = data;
      chunkFirst[chunks] = lines;
      chunkOffset[chunks] = firstOffset;
      chunkTimestamp[chunks] = timestampMs;
      chunks++;
      System.arraycopy(starts, 0, this.starts, lines, count);
      System.arraycopy(ends, 0, this.ends, lines, count);
      lines += count;
      chunkFirst[chunks] = lines;
      return this;
    }

    /** Records added so far. */
    public int size() {
      return lines;
    }

    public boolean isEmpty() {
      return lines == 0;
    }

    /** The records added so far; the builder must not be used afterwards. */
    public PackedRecords build() {
      return new PackedRecords(
          source,
          partition,
          headers,
          headerBytes,
          Arrays.copyOf(chunkData, chunks),
          Arrays.copyOf(chunkFirst, chunks + 1),
          chunkOffset,
          chunkTimestamp,
          starts,
          ends,
          0,
          lines);
    }
  }
}
