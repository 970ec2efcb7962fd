package io.lambdalake.ingestion.collector.internal;

import static java.util.Objects.requireNonNull;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Optional;

/**
 * Aggregates a request's body up to lake.collector.limits.max-request-size. A larger request gets
 * 413 with a JSON error, is kept in quarantine by its headers (its body was never read) and the
 * connection is closed, so the rest of the body is not read either.
 */
public final class SizeLimitedAggregator extends HttpObjectAggregator {
  private final CollectorHttpHandler.Shared shared;

  public SizeLimitedAggregator(CollectorHttpHandler.Shared shared) {
    super(shared.config().limits().maxRequestBytes(), true);
    this.shared = requireNonNull(shared, "shared is null");
  }

  /**
   * A client that asks before sending a body ({@code Expect: 100-continue}, as curl does for large
   * ones) and announces too much gets the same 413 and quarantine record, and sends nothing more.
   */
  @Override
  protected Object newContinueResponse(
      HttpMessage start, int maxContentLength, ChannelPipeline pipeline) {
    Object response = super.newContinueResponse(start, maxContentLength, pipeline);
    if (response instanceof HttpResponse answer
        && answer.status().equals(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE)
        && start instanceof HttpRequest request) {
      ReferenceCountUtil.release(response);
      return tooLarge(pipeline.channel(), request);
    }
    return response;
  }

  @Override
  protected void handleOversizedMessage(ChannelHandlerContext context, HttpMessage oversized) {
    if (!(oversized instanceof HttpRequest request)) {
      context.close();
      return;
    }
    context
        .writeAndFlush(tooLarge(context.channel(), request))
        .addListener(ChannelFutureListener.CLOSE);
  }

  /** Quarantines what is known of a too-large request and makes its 413 answer. */
  private FullHttpResponse tooLarge(Channel channel, HttpRequest request) {
    int limit = shared.config().limits().maxRequestBytes();
    long declared = HttpUtil.getContentLength(request, -1L);
    Rejection rejection =
        Rejection.of(
            RejectionReason.REQUEST_TOO_LARGE,
            "the request body "
                + (declared >= 0 ? "has " + declared + " bytes, " : "is ")
                + "more than lake.collector.limits.max-request-size ("
                + limit
                + " bytes); split it into smaller batches");
    String path = request.uri().split("\\?", 2)[0];
    CollectorMetrics.Endpoint endpoint = CollectorHttpHandler.endpointOf(path);
    Optional<String> clientIp =
        channel.remoteAddress() instanceof InetSocketAddress socket && socket.getAddress() != null
            ? Optional.of(ClientAddresses.truncate(socket.getAddress()))
            : Optional.empty();
    RequestContext requestContext =
        new RequestContext(
            shared.clock().instant(),
            Optional.ofNullable(request.headers().get(HttpHeaderNames.USER_AGENT))
                .map(
                    agent ->
                        CollectorHttpHandler.cleanHeader(
                            agent, shared.config().limits().maxTextLength())),
            clientIp,
            Optional.empty());
    String summary =
        request.method()
            + " "
            + request.uri()
            + " Content-Type: "
            + request.headers().get(HttpHeaderNames.CONTENT_TYPE)
            + " Content-Length: "
            + (declared >= 0 ? declared : "chunked");
    shared
        .processor()
        .quarantineRequest(endpoint, rejection, requestContext, summary, Math.max(declared, limit))
        .ifPresent(record -> shared.sink().publish(List.of(record), delivery -> {}));
    Reply reply = shared.processor().errorReply(rejection);
    FullHttpResponse response =
        new DefaultFullHttpResponse(
            request.protocolVersion(),
            HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE,
            Unpooled.wrappedBuffer(reply.body()));
    response.headers().set(HttpHeaderNames.CONTENT_TYPE, reply.contentType());
    response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, reply.body().length);
    response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    shared.metrics().request(endpoint, 413, 0);
    return response;
  }
}
