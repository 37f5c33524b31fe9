package io.tributary.connector.socket.internal;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.util.ReferenceCountUtil;
import io.tributary.connector.socket.BufferBudgetExceededException;

/**
 * A frame decoder whose partial frame (the cumulation buffer, in direct memory) counts against the
 * server's {@link MemoryBudget}. After every read the decoder reports the capacity it holds; when
 * its buffer grew while all connections together hold more than the budget, and it holds more than
 * {@link #FREE_ALLOWANCE} itself, it emits a fatal {@link Frame.Bad} ({@code memory_budget}) and
 * drops what it holds: the ingest handler counts it and closes the connection. Complete frames
 * decoded before are passed on as usual, so nothing accepted is lost.
 *
 * <p>Why refuse rather than pause: a connection paused with a partial frame keeps its memory and
 * cannot finish the frame; the read-idle timeout would end it anyway, later. Why the allowance: a
 * normal sender's read often ends inside a line, so it holds up to one read buffer (Netty reads at
 * most 64 KiB at a time) between reads; refusing it for a few bytes while others hog the budget
 * would punish the wrong connection. The memory held is thus bounded by {@code max-buffered-bytes +
 * max-connections × 64 KiB}.
 *
 * <p>Thread safety: one instance per channel, used on its event loop only.
 */
public abstract class BudgetedDecoder extends ByteToMessageDecoder {
  /** What a connection may always hold, whatever the budget says: one full read. */
  public static final int FREE_ALLOWANCE = 64 * 1024;

  private final MemoryBudget budget;
  private long held;
  private boolean refused;

  /**
   * @param budget {@code null} for none (client mode)
   */
  protected BudgetedDecoder(MemoryBudget budget) {
    this.budget = budget;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
    if (refused) {
      ReferenceCountUtil.release(msg);
      return;
    }
    super.channelRead(ctx, msg);
    account(ctx, true);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    super.channelInactive(ctx);
    account(ctx, false);
  }

  @Override
  protected void handlerRemoved0(ChannelHandlerContext ctx) throws Exception {
    if (budget != null && held != 0) {
      budget.add(-held);
      held = 0;
    }
    super.handlerRemoved0(ctx);
  }

  private void account(ChannelHandlerContext ctx, boolean mayRefuse) {
    if (budget == null) {
      return;
    }
    ByteBuf c = internalBuffer();
    long now = c.isReadable() ? c.capacity() : 0;
    long delta = now - held;
    held = now;
    long total = budget.add(delta);
    if (mayRefuse && delta > 0 && now > FREE_ALLOWANCE && total > budget.limit()) {
      refused = true;
      int partial = c.readableBytes();
      c.skipBytes(partial);
      ctx.fireChannelRead(
          new Frame.Bad(
              new BufferBudgetExceededException(
                  "Connection from "
                      + ctx.channel().remoteAddress()
                      + " holds a partial frame of "
                      + partial
                      + " bytes while all connections hold "
                      + total
                      + " bytes, above max-buffered-bytes="
                      + budget.limit()
                      + "; refused (frames completed before are kept; raise max-buffered-bytes, or"
                      + " lower max-frame-bytes or max-connections)"),
              true));
    }
  }
}
