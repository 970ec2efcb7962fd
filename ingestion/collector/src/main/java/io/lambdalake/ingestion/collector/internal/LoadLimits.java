package io.lambdalake.ingestion.collector.internal;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.util.Objects.requireNonNull;

import io.lambdalake.common.config.CollectorConfig;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What every connection shares to keep the collector alive under load: the open connections and the
 * request body bytes held in memory, counted over all connections, with their limits.
 */
public final class LoadLimits {
  private final CollectorConfig.Limits limits;
  private final RequestProcessor processor;
  private final CollectorMetrics metrics;
  private final AtomicInteger openConnections = new AtomicInteger();
  private final AtomicLong bufferedBodyBytes = new AtomicLong();

  public LoadLimits(
      CollectorConfig.Limits limits, RequestProcessor processor, CollectorMetrics metrics) {
    this.limits = requireNonNull(limits, "limits is null");
    this.processor = requireNonNull(processor, "processor is null");
    this.metrics = requireNonNull(metrics, "metrics is null");
  }

  public int openConnections() {
    return openConnections.get();
  }

  public long bufferedBodyBytes() {
    return bufferedBodyBytes.get();
  }

  CollectorConfig.Limits limits() {
    return limits;
  }

  CollectorMetrics metrics() {
    return metrics;
  }

  RequestProcessor processor() {
    return processor;
  }

  /** Counts a new connection; false when it is one too many (it stays counted until closed). */
  boolean connectionOpened() {
    return openConnections.incrementAndGet() <= limits.maxConnections();
  }

  void connectionClosed() {
    openConnections.decrementAndGet();
  }

  /** Reserves body bytes; false, reserving nothing, when they would exceed the budget. */
  boolean reserveBody(long bytes) {
    while (true) {
      long used = bufferedBodyBytes.get();
      if (used + bytes > limits.maxBufferedBodyBytes()) {
        return false;
      }
      if (bufferedBodyBytes.compareAndSet(used, used + bytes)) {
        return true;
      }
    }
  }

  void releaseBody(long bytes) {
    bufferedBodyBytes.addAndGet(-bytes);
  }

  /**
   * Writes an answer as raw bytes and closes the connection: for handlers in front of the HTTP
   * codec, where there may be no request to answer (a connection over the cap, a request cut off).
   */
  static void answerAndClose(ChannelHandlerContext context, int status, Reply reply) {
    StringBuilder head =
        new StringBuilder("HTTP/1.1 ")
            .append(status)
            .append(' ')
            .append(HttpResponseStatus.valueOf(status).reasonPhrase())
            .append("\r\nContent-Type: ")
            .append(reply.contentType())
            .append("\r\nContent-Length: ")
            .append(reply.body().length);
    for (Map.Entry<String, String> header : reply.headers().entrySet()) {
      head.append("\r\n").append(header.getKey()).append(": ").append(header.getValue());
    }
    head.append("\r\nConnection: close\r\n\r\n");
    ByteBuf answer = Unpooled.wrappedBuffer(head.toString().getBytes(US_ASCII), reply.body());
    context.writeAndFlush(answer).addListener(ChannelFutureListener.CLOSE);
  }
}
