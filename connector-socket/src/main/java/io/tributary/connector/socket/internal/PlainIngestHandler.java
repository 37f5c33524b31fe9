package io.tributary.connector.socket.internal;

import io.netty.channel.ChannelHandlerContext;
import io.tributary.connector.socket.SocketErrorReason;
import io.tributary.connector.socket.SocketOptions.SyslogFormat;
import io.tributary.core.api.PackedRecords;
import io.tributary.core.api.Record;
import io.tributary.core.api.SourcePosition;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Plain mode: collects the decoded lines as {@link PackedRecords} (the reads' arrays and the lines'
 * bounds, no object per line) and stores the frames of one read burst as one group with {@code
 * storeReliablyAsync}, so the write-ahead log gets them, without acknowledging anything to the
 * peer.
 *
 * <p>Backpressure: up to {@link #MAX_IN_FLIGHT} groups per connection are being stored at once.
 * While that many are, the connection goes on reading into the next group, up to {@link
 * #MAX_PENDING_BYTES}; that group is handed over as one as soon as a store completes, so with
 * {@code wal.fsync: always} one WAL fsync covers what arrived during the previous one instead of a
 * few read bursts. Beyond that bound the channel's autoRead is off, so the kernel's receive buffer
 * fills and TCP flow control slows the sender. The event loop never blocks.
 *
 * <p>Thread safety: one instance per channel; all state is touched on the channel's event loop only
 * (store completions hop back onto it).
 */
public final class PlainIngestHandler extends ConnectionHandler {
  /** Header carrying the peer's address ({@code ip:port}) on every record. */
  public static final String REMOTE_HEADER = "remote";

  private final RecordStore store;
  private final String source;
  private final String partition;
  private final AtomicLong offsets;

  /**
   * The records read since the last group was handed over, packed (the reads' arrays and line
   * bounds, no object per line); {@code null} when there are none.
   */
  private PackedRecords.Builder pending;

  /**
   * With a syslog format: the records read since the last group was handed over, each with its own
   * headers; {@code null} when there are none.
   */
  private List<Record> parsed;

  private final SyslogFormat syslog;

  /** Records in the last group: sizes the next builder. */
  private int lastGroupRecords = 256;

  private final int[] singleEnd = new int[1];
  private static final int[] SINGLE_START = {0};

  /**
   * Groups handed to the runtime and not yet stored. Up to {@link #MAX_IN_FLIGHT} overlap, so
   * reading and decoding the next burst goes on while the WAL syncs the previous one; at the limit,
   * reads pause (backpressure).
   */
  private int inFlight;

  public static final int MAX_IN_FLIGHT = 4;

  /**
   * Bytes read into the next group (the lines' arrays) while {@link #MAX_IN_FLIGHT} groups are
   * being stored, before reading pauses. Bounds a connection's memory outside the runtime's buffer
   * to this plus the groups in flight.
   */
  public static final int MAX_PENDING_BYTES = 4 << 20;

  /** Bytes of the lines' arrays in {@link #pending} or {@link #parsed}. */
  private long pendingBytes;

  private byte[] remote;

  /**
   * One immutable header map per connection, shared by its records (Record keeps Map.of maps
   * without copying).
   */
  private Map<String, byte[]> headers = Map.of(REMOTE_HEADER, new byte[0]);

  private ChannelHandlerContext ctx;

  /**
   * @param offsets shared counter of the receiver: the next offset within {@code partition}
   */
  public PlainIngestHandler(
      RecordStore store,
      SocketMetrics metrics,
      String source,
      String partition,
      AtomicLong offsets) {
    this(store, metrics, source, partition, offsets, SyslogFormat.NONE);
  }

  /**
   * @param syslog how records are parsed as syslog messages ({@code NONE}: not at all)
   */
  public PlainIngestHandler(
      RecordStore store,
      SocketMetrics metrics,
      String source,
      String partition,
      AtomicLong offsets,
      SyslogFormat syslog) {
    super(metrics);
    this.store = store;
    this.source = source;
    this.partition = partition;
    this.offsets = offsets;
    this.syslog = syslog;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) throws Exception {
    remote =
        String.valueOf(ctx.channel().remoteAddress())
            .replaceFirst("^/", "")
            .getBytes(StandardCharsets.UTF_8);
    headers = Map.of(REMOTE_HEADER, remote);
    super.channelActive(ctx);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (syslog != SyslogFormat.NONE
        && (msg instanceof Frame.Lines || msg instanceof Frame.Payload)) {
      addParsed(msg);
    } else if (msg instanceof Frame.Lines lines) {
      int n = lines.count();
      long offset = offsets.getAndAdd(n); // one reservation for the whole read
      builder()
          .add(lines.data(), lines.starts(), lines.ends(), n, offset, System.currentTimeMillis());
      pendingRead(lines.data().length);
    } else if (msg instanceof Frame.Payload p) {
      singleEnd[0] = p.bytes().length;
      pendingRead(p.bytes().length);
      builder()
          .add(
              p.bytes(),
              SINGLE_START,
              singleEnd,
              1,
              offsets.getAndIncrement(),
              System.currentTimeMillis());
    } else if (msg instanceof Frame.Bad bad) {
      metrics.reject(
          bad.error(),
          ctx.channel().remoteAddress(),
          bad.fatal() ? "connection closed, nothing of the bad input stored" : "frame dropped");
      if (bad.fatal()) {
        ctx.close();
      }
    } else {
      ctx.fireChannelRead(msg);
    }
  }

  /** Syslog parsing: one record per message, with the parsed headers and the remote address. */
  private void addParsed(Object msg) {
    long now = System.currentTimeMillis();
    if (parsed == null) {
      parsed = new ArrayList<>();
    }
    if (msg instanceof Frame.Lines lines) {
      pendingRead(lines.data().length);
      long offset = offsets.getAndAdd(lines.count());
      for (int i = 0; i < lines.count(); i++) {
        parsed.add(parsedRecord(lines.data(), lines.starts()[i], lines.ends()[i], offset + i, now));
      }
    } else if (msg instanceof Frame.Payload p) {
      pendingRead(p.bytes().length);
      parsed.add(parsedRecord(p.bytes(), 0, p.bytes().length, offsets.getAndIncrement(), now));
    }
  }

  private Record parsedRecord(byte[] data, int from, int to, long offset, long now) {
    Map<String, byte[]> h = SyslogParser.parse(syslog, data, from, to);
    Map<String, byte[]> headers;
    if (h == null) {
      metrics.syslogUnparsed();
      headers = this.headers;
    } else {
      h = new HashMap<>(h);
      h.put(REMOTE_HEADER, remote);
      headers = Map.copyOf(h);
    }
    byte[] value = from == 0 && to == data.length ? data : Arrays.copyOfRange(data, from, to);
    return new Record(null, value, now, headers, new SourcePosition(source, partition, offset));
  }

  /** Counts bytes read into the next group; pauses reading once that group is full. */
  private void pendingRead(int bytes) {
    pendingBytes += bytes;
    updateAutoRead();
  }

  /**
   * Reading pauses only while {@link #MAX_IN_FLIGHT} groups are being stored and the next one holds
   * {@link #MAX_PENDING_BYTES}: below that, a read either becomes a group at the end of its burst
   * or waits in the next group for a store to complete.
   */
  private void updateAutoRead() {
    boolean read = inFlight < MAX_IN_FLIGHT || pendingBytes < MAX_PENDING_BYTES;
    if (ctx.channel().config().isAutoRead() != read && (ctx.channel().isActive() || !read)) {
      ctx.channel().config().setAutoRead(read);
    }
  }

  private PackedRecords.Builder builder() {
    if (pending == null) {
      pending = new PackedRecords.Builder(source, partition, headers, lastGroupRecords);
    }
    return pending;
  }

  private boolean hasPending() {
    return (pending != null && !pending.isEmpty()) || (parsed != null && !parsed.isEmpty());
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    if (inFlight < MAX_IN_FLIGHT && hasPending()) {
      storePending();
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    // Frames fully received before the peer closed are still stored.
    if (inFlight < MAX_IN_FLIGHT && hasPending()) {
      storePending();
    }
    super.channelInactive(ctx);
  }

  private void storePending() {
    List<Record> batch;
    if (parsed != null && !parsed.isEmpty()) {
      batch = parsed;
      parsed = null;
    } else {
      PackedRecords packed = pending.build();
      pending = null;
      lastGroupRecords = packed.size(); // the next group is likely as large: no regrowth
      batch = packed;
    }
    pendingBytes = 0;
    inFlight++;
    updateAutoRead();
    Object remoteAddress = ctx.channel().remoteAddress();
    CompletableFuture<Void> f = store.storeReliablyAsync(batch);
    f.whenComplete(
        (v, e) -> {
          if (e != null && Loops.isStopped(e)) {
            // Counted here, not on the event loop: at shutdown the loop may already refuse tasks.
            metrics.reject(
                SocketErrorReason.SHUTTING_DOWN,
                remoteAddress,
                "connection closed; " + batch.size() + " records read but not stored",
                "the receiver stopped before the group was stored (plain mode: the sender is not told)");
          }
          Loops.run(ctx.executor(), () -> onStored(batch.size(), e));
        });
  }

  private void onStored(int count, Throwable error) {
    inFlight--;
    if (error != null) {
      Throwable cause = Loops.unwrap(error);
      if (Loops.isStopped(cause)) {
        // counted and logged where the store completed
      } else {
        store.storeFailed(cause);
        metrics.reject(
            SocketErrorReason.STORE_FAILED,
            ctx.channel().remoteAddress(),
            "connection closed; " + count + " records lost",
            String.valueOf(cause));
      }
      pending = null;
      parsed = null;
      pendingBytes = 0;
      ctx.close();
      return;
    }
    metrics.records(count);
    if (hasPending()) {
      storePending(); // everything read while the groups were in flight, as one group
    } else {
      updateAutoRead();
    }
  }
}
