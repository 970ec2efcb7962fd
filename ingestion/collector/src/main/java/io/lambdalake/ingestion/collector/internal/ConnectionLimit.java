package io.lambdalake.ingestion.collector.internal;

import static java.util.Objects.requireNonNull;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import java.util.concurrent.TimeUnit;

/**
 * The first handler of a connection: counts it against lake.collector.limits.max-connections. A
 * connection over the cap is not served: its first bytes are answered 503 with Retry-After and it
 * is closed (without bytes, after 5 s) (answering rather than refusing the accept tells a client,
 * or a load balancer, to come back later instead of reporting a network error).
 */
public final class ConnectionLimit extends ChannelInboundHandlerAdapter {
  private static final long REFUSED_GRACE_SECONDS = 5;

  private final LoadLimits load;
  private boolean refused;
  private boolean answered;

  public ConnectionLimit(LoadLimits load) {
    this.load = requireNonNull(load, "load is null");
  }

  @Override
  public void channelActive(ChannelHandlerContext context) {
    if (load.connectionOpened()) {
      context.fireChannelActive();
      return;
    }
    refused = true;
    load.metrics().limitHit(CollectorMetrics.Limit.CONNECTIONS);
    // A refused connection that sends nothing is not kept for the idle timeout.
    context.executor().schedule(() -> context.close(), REFUSED_GRACE_SECONDS, TimeUnit.SECONDS);
  }

  @Override
  public void channelRead(ChannelHandlerContext context, Object message) {
    if (!refused) {
      context.fireChannelRead(message);
      return;
    }
    ReferenceCountUtil.release(message);
    if (!answered) {
      answered = true;
      LoadLimits.answerAndClose(
          context,
          503,
          load.processor()
              .unavailable(
                  "the collector has too many connections"
                      + " (lake.collector.limits.max-connections)"));
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext context) {
    load.connectionClosed();
    if (!refused) {
      context.fireChannelInactive();
    }
  }
}
