package io.lambdalake.ingestion.collector.internal;

import static java.util.Objects.requireNonNull;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;

/**
 * Counts the body bytes a connection holds in memory against lake.collector.limits.max-buffered-
 * bodies, over all connections: from their arrival until the request is handed on ({@link
 * #requestDone}; the producer's buffer-memory bounds its records from there) or the connection
 * closes. A request whose bytes would exceed the budget gets 503 with Retry-After and the
 * connection is closed, so many slow or large uploads at once cannot exhaust the heap.
 */
public final class BodyBudget extends ChannelInboundHandlerAdapter {
  private final LoadLimits load;
  private final ArrayDeque<Long> complete = new ArrayDeque<>();
  private long receiving;
  private boolean refused;

  public BodyBudget(LoadLimits load) {
    this.load = requireNonNull(load, "load is null");
  }

  @Override
  public void channelRead(ChannelHandlerContext context, Object message) {
    if (refused) {
      ReferenceCountUtil.release(message);
      return;
    }
    if (message instanceof HttpContent content) {
      int bytes = content.content().readableBytes();
      if (!load.reserveBody(bytes)) {
        refuse(context);
        ReferenceCountUtil.release(message);
        return;
      }
      receiving += bytes;
      if (content instanceof LastHttpContent) {
        complete.add(receiving);
        receiving = 0;
      }
    }
    context.fireChannelRead(message);
  }

  /** The oldest complete request of the connection was handed on: its bytes are free. */
  void requestDone() {
    Long bytes = complete.poll();
    if (bytes != null) {
      load.releaseBody(bytes);
    }
  }

  private void refuse(ChannelHandlerContext context) {
    refused = true;
    load.metrics().limitHit(CollectorMetrics.Limit.BUFFERED_BODIES);
    Reply reply =
        load.processor()
            .unavailable(
                "the collector holds too many request bodies"
                    + " (lake.collector.limits.max-buffered-bodies)");
    FullHttpResponse response =
        new DefaultFullHttpResponse(
            HttpVersion.HTTP_1_1,
            HttpResponseStatus.SERVICE_UNAVAILABLE,
            Unpooled.wrappedBuffer(reply.body()));
    response.headers().set(HttpHeaderNames.CONTENT_TYPE, reply.contentType());
    response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, reply.body().length);
    reply.headers().forEach(response.headers()::set);
    response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    context.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
  }

  @Override
  public void channelInactive(ChannelHandlerContext context) {
    load.releaseBody(receiving);
    receiving = 0;
    while (!complete.isEmpty()) {
      requestDone();
    }
    context.fireChannelInactive();
  }
}
