package io.lambdalake.ingestion.collector.internal;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A deadline for each request to arrive whole (lake.collector.limits.request-timeout), from its
 * first byte to its last. The idle timeout alone lets a client keep a connection and its buffers
 * for ever by sending a byte now and then; this cuts such a request off with 408 and closes the
 * connection. The clock stops when the request is complete ({@link #requestReceived}).
 */
public final class RequestDeadline extends ChannelInboundHandlerAdapter {
  private final LoadLimits load;
  private ScheduledFuture<?> deadline;

  public RequestDeadline(LoadLimits load) {
    this.load = requireNonNull(load, "load is null");
  }

  @Override
  public void channelRead(ChannelHandlerContext context, Object message) {
    if (deadline == null) {
      deadline =
          context
              .executor()
              .schedule(
                  () -> expire(context),
                  load.limits().requestTimeout().toNanos(),
                  TimeUnit.NANOSECONDS);
    }
    context.fireChannelRead(message);
  }

  /** The request being read is complete: its deadline no longer runs. */
  void requestReceived() {
    if (deadline != null) {
      deadline.cancel(false);
      deadline = null;
    }
  }

  private void expire(ChannelHandlerContext context) {
    deadline = null;
    if (!context.channel().isActive()) {
      return;
    }
    load.metrics().limitHit(CollectorMetrics.Limit.REQUEST_TIMEOUT);
    Reply reply =
        Reply.json(
            408,
            ("{\"error\":\"request_timeout\",\"message\":\"the request did not arrive whole within"
                    + " lake.collector.limits.request-timeout ("
                    + load.limits().requestTimeout().toSeconds()
                    + " s); nothing of it was accepted\"}")
                .getBytes(UTF_8));
    LoadLimits.answerAndClose(context, 408, reply);
  }

  @Override
  public void channelInactive(ChannelHandlerContext context) {
    requestReceived();
    context.fireChannelInactive();
  }
}
