package io.lambdalake.serving.api;

import static java.util.Objects.requireNonNull;

import io.lambdalake.common.config.ApiConfig;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.http.HttpListener;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The metrics API over HTTP/1.1 on Netty (as the collector). What never blocks (authentication,
 * rate limit, parameters, cache hits) is answered on the I/O threads; queries that go to Trino run
 * on a pool of {@code lake.api.threads} with a bounded queue (full: 503) and are written back when
 * they finish or time out (504).
 */
public final class ApiServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ApiServer.class);
  private static final int MAX_REQUEST_BYTES = 16 * 1024;
  private final HttpListener listener;
  private final ExecutorService queries;

  private ApiServer(HttpListener listener, ExecutorService queries) {
    this.listener = listener;
    this.queries = queries;
  }

  /** Starts listening on the configured host and port (0: a free port). */
  public static ApiServer start(ApiConfig config, MetricsApi api) {
    requireNonNull(api, "api is null");
    AtomicInteger threadNumber = new AtomicInteger();
    ExecutorService queries =
        new ThreadPoolExecutor(
            config.threads(),
            config.threads(),
            0,
            TimeUnit.MILLISECONDS,
            new ArrayBlockingQueue<>(config.maxQueuedQueries()),
            runnable -> {
              Thread thread = new Thread(runnable, "api-query-" + threadNumber.incrementAndGet());
              thread.setDaemon(true);
              return thread;
            });
    long idleSeconds = Math.max(1, config.idleTimeout().toSeconds());
    try {
      HttpListener listener =
          HttpListener.bind(
              new HttpListener.Endpoint(
                  "metrics API", config.host(), config.port(), 0, "lake.api.port or LAKE_API_PORT"),
              pipeline ->
                  pipeline
                      .addLast(new IdleStateHandler(0, 0, idleSeconds, TimeUnit.SECONDS))
                      .addLast(new HttpServerCodec())
                      .addLast(new HttpObjectAggregator(MAX_REQUEST_BYTES))
                      .addLast(new Handler(api, queries, config.queryTimeout())));
      return new ApiServer(listener, queries);
    } catch (LakeException e) {
      queries.shutdownNow();
      throw e;
    }
  }

  public int port() {
    return listener.port();
  }

  public String baseUrl() {
    return listener.address().toString();
  }

  @Override
  public void close() {
    listener.stopAccepting();
    queries.shutdown();
    listener.close();
    try {
      queries.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * One per connection. Requests of a connection are answered one at a time; a connection with no
   * request in progress is closed after the idle timeout. A query that does not finish within the
   * query timeout is answered 504 and its thread interrupted (Trino cancels it on its own timer).
   */
  private static final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private final MetricsApi api;
    private final ExecutorService queries;
    private final Duration queryTimeout;
    private boolean busy;

    Handler(MetricsApi api, ExecutorService queries, Duration queryTimeout) {
      this.api = api;
      this.queries = queries;
      this.queryTimeout = queryTimeout;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext context, FullHttpRequest request) {
      boolean keepAlive = HttpUtil.isKeepAlive(request);
      if (!request.decoderResult().isSuccess()) {
        context
            .writeAndFlush(
                new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.BAD_REQUEST))
            .addListener(ChannelFutureListener.CLOSE);
        return;
      }
      String uri = request.uri();
      int question = uri.indexOf('?');
      String path = question < 0 ? uri : uri.substring(0, question);
      String query = question < 0 ? null : uri.substring(question + 1);
      HttpHeaders headers = request.headers().copy();
      MetricsApi.Step step =
          api.begin(
              request.method().name(), path, query, name -> Optional.ofNullable(headers.get(name)));
      if (step instanceof MetricsApi.Done done) {
        write(context, done.answer(), keepAlive);
        return;
      }
      busy = true;
      AtomicBoolean answered = new AtomicBoolean();
      Future<?> running;
      try {
        running =
            queries.submit(
                () -> {
                  MetricsApi.Answer answer = api.complete((MetricsApi.Pending) step);
                  if (answered.compareAndSet(false, true)) {
                    context.executor().execute(() -> finish(context, answer, keepAlive));
                  }
                });
      } catch (RejectedExecutionException e) {
        if (queries.isShutdown()) {
          context.close();
        } else {
          finish(context, MetricsApi.problem(ApiProblem.busy()), keepAlive);
        }
        return;
      }
      context
          .executor()
          .schedule(
              () -> {
                if (answered.compareAndSet(false, true)) {
                  running.cancel(true);
                  LOG.warn("A query to {} took longer than {}; answered 504", path, queryTimeout);
                  finish(
                      context, MetricsApi.problem(ApiProblem.queryTimedOut(queryTimeout)), false);
                }
              },
              queryTimeout.toNanos(),
              TimeUnit.NANOSECONDS);
    }

    private void finish(
        ChannelHandlerContext context, MetricsApi.Answer answer, boolean keepAlive) {
      busy = false;
      write(context, answer, keepAlive);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext context, Object event) {
      if (event instanceof IdleStateEvent) {
        if (!busy) {
          context.close();
        }
      } else {
        context.fireUserEventTriggered(event);
      }
    }

    private static void write(
        ChannelHandlerContext context, MetricsApi.Answer answer, boolean keepAlive) {
      FullHttpResponse response =
          new DefaultFullHttpResponse(
              HttpVersion.HTTP_1_1,
              HttpResponseStatus.valueOf(answer.status()),
              Unpooled.wrappedBuffer(answer.body()));
      answer.headers().forEach((name, value) -> response.headers().set(name, value));
      HttpUtil.setContentLength(response, answer.body().length);
      if (keepAlive) {
        response.headers().set(HttpHeaderNames.CONNECTION, "keep-alive");
        context.writeAndFlush(response);
      } else {
        context.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext context, Throwable cause) {
      LOG.debug("API connection failed: {}", cause.toString());
      context.close();
    }
  }
}
