package io.lambdalake.ingestion.collector.internal;

import static java.util.Objects.requireNonNull;

import io.lambdalake.common.config.CollectorConfig;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP side of the collector, one instance per connection: routes complete requests to the
 * endpoints, hands event requests to the {@link RequestProcessor}, sends their records and writes
 * the answer when Kafka acknowledged them. Requests of one connection are answered in order, one at
 * a time; the connection stops reading while one is in flight.
 */
public final class CollectorHttpHandler extends ChannelInboundHandlerAdapter {
  private static final Logger LOG = LoggerFactory.getLogger(CollectorHttpHandler.class);
  private static final int MAX_PIPELINED_REQUESTS = 16;
  private static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

  private final Shared shared;
  private final ArrayDeque<FullHttpRequest> pending = new ArrayDeque<>();
  private boolean busy;

  public CollectorHttpHandler(Shared shared) {
    this.shared = requireNonNull(shared, "shared is null");
  }

  /**
   * What every connection's handler shares.
   *
   * @param kafkaReady whether Kafka answers
   * @param readinessProblem why Kafka does not answer, when it does not
   * @param draining whether the collector is shutting down
   */
  public record Shared(
      CollectorConfig config,
      RequestProcessor processor,
      EventSink sink,
      CollectorMetrics metrics,
      InFlightRequests inFlight,
      BooleanSupplier kafkaReady,
      Supplier<String> readinessProblem,
      BooleanSupplier draining,
      byte[] trackerScript,
      Clock clock) {
    public Shared {
      requireNonNull(config, "config is null");
      requireNonNull(processor, "processor is null");
      requireNonNull(sink, "sink is null");
      requireNonNull(metrics, "metrics is null");
      requireNonNull(inFlight, "inFlight is null");
      requireNonNull(kafkaReady, "kafkaReady is null");
      requireNonNull(readinessProblem, "readinessProblem is null");
      requireNonNull(draining, "draining is null");
      requireNonNull(trackerScript, "trackerScript is null");
      requireNonNull(clock, "clock is null");
    }
  }

  @Override
  public void channelRead(ChannelHandlerContext context, Object message) {
    if (!(message instanceof FullHttpRequest request)) {
      ReferenceCountUtil.release(message);
      return;
    }
    RequestDeadline deadline = context.pipeline().get(RequestDeadline.class);
    if (deadline != null) {
      deadline.requestReceived();
    }
    if (busy) {
      if (pending.size() >= MAX_PIPELINED_REQUESTS) {
        request.release();
        context.close();
        return;
      }
      pending.add(request);
      context.channel().config().setAutoRead(false);
      return;
    }
    handle(context, request);
  }

  private void handle(ChannelHandlerContext context, FullHttpRequest request) {
    busy = true;
    shared.inFlight().begin();
    long started = System.nanoTime();
    String uri = request.uri();
    int question = uri.indexOf('?');
    String path = question < 0 ? uri : uri.substring(0, question);
    CollectorMetrics.Endpoint endpoint = endpointOf(path);
    Exchange exchange =
        new Exchange(
            context,
            endpoint,
            started,
            HttpUtil.isKeepAlive(request)
                && !shared.draining().getAsBoolean()
                && request.decoderResult().isSuccess(),
            request.decoderResult().isSuccess() ? request.protocolVersion() : HttpVersion.HTTP_1_1,
            Optional.ofNullable(request.headers().get(HttpHeaderNames.ORIGIN)));
    try {
      dispatch(exchange, request, path, question < 0 ? "" : uri.substring(question + 1));
    } catch (RuntimeException e) {
      LOG.error("Unexpected failure answering {} {}", request.method(), endpoint.path(), e);
      exchange.keepAlive = false;
      write(
          exchange,
          Reply.json(
              500,
              "{\"error\":\"internal_error\",\"message\":\"the collector failed; see its log\"}"
                  .getBytes(StandardCharsets.UTF_8)));
    } finally {
      request.release();
      BodyBudget budget = context.pipeline().get(BodyBudget.class);
      if (budget != null) {
        budget.requestDone();
      }
    }
  }

  private void dispatch(Exchange exchange, FullHttpRequest request, String path, String query) {
    if (!request.decoderResult().isSuccess()) {
      rejectMalformed(exchange, request);
      return;
    }
    HttpMethod method = request.method();
    if (method.equals(HttpMethod.OPTIONS) && path.startsWith("/v1/")) {
      write(exchange, preflight());
      return;
    }
    switch (exchange.endpoint) {
      case COLLECT, BATCH -> {
        if (!method.equals(HttpMethod.POST)) {
          write(exchange, methodNotAllowed("POST, OPTIONS"));
        } else {
          events(exchange, request, query);
        }
      }
      case PIXEL -> {
        if (!method.equals(HttpMethod.GET)) {
          write(exchange, methodNotAllowed("GET, OPTIONS"));
        } else {
          events(exchange, request, query);
        }
      }
      case TRACKER ->
          write(
              exchange,
              onlyGet(method)
                  .orElse(
                      new Reply(
                          200,
                          "application/javascript; charset=utf-8",
                          shared.trackerScript(),
                          Map.of("Cache-Control", "public, max-age=300"))));
      case HEALTH -> write(exchange, onlyGet(method).orElse(jsonReply(200, "{\"status\":\"ok\"}")));
      case READY -> write(exchange, onlyGet(method).orElse(readiness()));
      case METRICS ->
          write(
              exchange,
              onlyGet(method)
                  .orElse(
                      new Reply(
                          200,
                          PROMETHEUS_TEXT,
                          shared.metrics().scrape().getBytes(StandardCharsets.UTF_8),
                          Map.of())));
      case OTHER ->
          write(
              exchange,
              jsonReply(
                  404,
                  "{\"error\":\"not_found\",\"message\":\"no such endpoint; events go to"
                      + " /v1/collect, /v1/batch or /v1/p.gif\"}"));
    }
  }

  private void events(Exchange exchange, FullHttpRequest request, String query) {
    if (shared.draining().getAsBoolean()) {
      exchange.keepAlive = false;
      write(exchange, shared.processor().unavailable("the collector is shutting down"));
      return;
    }
    if (shared.inFlight().count() > shared.config().limits().maxInFlightRequests()) {
      write(exchange, shared.processor().unavailable("the collector has too many requests"));
      return;
    }
    HttpHeaders headers = request.headers();
    byte[] body = ByteBufUtil.getBytes(request.content());
    EventRequest eventRequest =
        new EventRequest(
            exchange.endpoint,
            Optional.ofNullable(headers.get(HttpHeaderNames.CONTENT_TYPE)),
            Optional.ofNullable(headers.get(HttpHeaderNames.CONTENT_ENCODING)),
            query,
            body,
            requestContext(exchange.context, headers));
    Plan plan =
        switch (exchange.endpoint) {
          case COLLECT -> shared.processor().collect(eventRequest);
          case BATCH -> shared.processor().batch(eventRequest);
          case PIXEL -> shared.processor().pixel(eventRequest);
          case TRACKER, HEALTH, READY, METRICS, OTHER ->
              throw new IllegalStateException("not an event endpoint: " + exchange.endpoint);
        };
    execute(exchange, plan);
  }

  private void execute(Exchange exchange, Plan plan) {
    if (plan.records().isEmpty()) {
      write(exchange, plan.reply().apply(Delivery.complete()));
      return;
    }
    long sent = System.nanoTime();
    shared
        .sink()
        .publish(
            plan.records(),
            delivery -> {
              shared.metrics().produced(System.nanoTime() - sent);
              exchange
                  .context
                  .executor()
                  .execute(() -> write(exchange, plan.reply().apply(delivery)));
            });
  }

  /** The decoder could not read the request: answer, quarantine what there is, and close. */
  private void rejectMalformed(Exchange exchange, FullHttpRequest request) {
    exchange.keepAlive = false;
    Throwable cause = request.decoderResult().cause();
    int status =
        cause instanceof TooLongHttpLineException
            ? 414
            : cause instanceof TooLongHttpHeaderException ? 431 : 400;
    String reason =
        cause instanceof TooLongFrameException
            ? "the request line or headers are longer than lake.collector.limits.max-header-size"
            : "the request is not well-formed HTTP/1.1";
    Rejection rejection = Rejection.of(RejectionReason.MALFORMED_REQUEST, reason);
    String summary = request.method() + " " + request.uri();
    shared
        .processor()
        .quarantineRequest(
            exchange.endpoint,
            rejection,
            requestContext(exchange.context, request.headers()),
            summary,
            summary.length())
        .ifPresent(record -> shared.sink().publish(List.of(record), delivery -> {}));
    Reply reply = shared.processor().errorReply(rejection);
    write(exchange, new Reply(status, reply.contentType(), reply.body(), reply.headers()));
  }

  private void write(Exchange exchange, Reply reply) {
    FullHttpResponse response =
        new DefaultFullHttpResponse(
            exchange.version,
            HttpResponseStatus.valueOf(reply.status()),
            Unpooled.wrappedBuffer(reply.body()));
    HttpHeaders headers = response.headers();
    headers.set(HttpHeaderNames.CONTENT_TYPE, reply.contentType());
    headers.setInt(HttpHeaderNames.CONTENT_LENGTH, reply.body().length);
    reply.headers().forEach(headers::set);
    if (exchange.origin.isPresent()) {
      allowedOrigin(exchange.origin.get())
          .ifPresent(
              origin -> {
                headers.set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN, origin);
                headers.set(HttpHeaderNames.ACCESS_CONTROL_EXPOSE_HEADERS, "Retry-After");
                if (!origin.equals("*")) {
                  headers.set(HttpHeaderNames.VARY, HttpHeaderNames.ORIGIN);
                }
              });
    }
    if (!exchange.keepAlive) {
      headers.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    } else if (exchange.version.equals(HttpVersion.HTTP_1_0)) {
      headers.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
    }
    ChannelHandlerContext context = exchange.context;
    context
        .writeAndFlush(response)
        .addListener(
            (ChannelFutureListener)
                future -> {
                  shared
                      .metrics()
                      .request(
                          exchange.endpoint, reply.status(), System.nanoTime() - exchange.started);
                  shared.inFlight().end();
                  if (!future.isSuccess()) {
                    LOG.debug("Could not write an answer: {}", String.valueOf(future.cause()));
                  }
                  if (!exchange.keepAlive || !future.isSuccess()) {
                    context.close();
                    releasePending();
                    return;
                  }
                  busy = false;
                  FullHttpRequest next = pending.poll();
                  if (next != null) {
                    handle(context, next);
                  } else {
                    context.channel().config().setAutoRead(true);
                  }
                });
  }

  private RequestContext requestContext(ChannelHandlerContext context, HttpHeaders headers) {
    CollectorConfig config = shared.config();
    Optional<String> clientIp = Optional.empty();
    String forwardedFor = headers.get("X-Forwarded-For");
    if (config.trustForwardedFor() && forwardedFor != null) {
      clientIp = ClientAddresses.truncatedForwardedFor(forwardedFor);
    }
    if (clientIp.isEmpty()) {
      SocketAddress remote = context.channel().remoteAddress();
      if (remote instanceof InetSocketAddress socket && socket.getAddress() != null) {
        clientIp = Optional.of(ClientAddresses.truncate(socket.getAddress()));
      }
    }
    return new RequestContext(
        shared.clock().instant(),
        Optional.ofNullable(headers.get(HttpHeaderNames.USER_AGENT))
            .map(agent -> cleanHeader(agent, config.limits().maxTextLength()))
            .filter(agent -> !agent.isEmpty()),
        clientIp,
        Optional.ofNullable(headers.get(HttpHeaderNames.REFERER))
            .map(referer -> cleanHeader(referer, config.limits().maxTextLength())));
  }

  /** A header value as the collector keeps it: control characters dropped, cut to a limit. */
  static String cleanHeader(String value, int maxLength) {
    StringBuilder cleaned = new StringBuilder(Math.min(value.length(), maxLength));
    for (int index = 0; index < value.length() && cleaned.length() < maxLength; index++) {
      char c = value.charAt(index);
      if (c >= 0x20 && c != 0x7f) {
        cleaned.append(c);
      }
    }
    return cleaned.toString().strip();
  }

  private Reply readiness() {
    if (shared.draining().getAsBoolean()) {
      return jsonReply(503, "{\"status\":\"draining\"}");
    }
    if (!shared.kafkaReady().getAsBoolean()) {
      return Reply.json(
          503,
          ("{\"status\":\"kafka_unreachable\",\"message\":"
                  + quoteJson(shared.readinessProblem().get())
                  + "}")
              .getBytes(StandardCharsets.UTF_8));
    }
    return jsonReply(200, "{\"status\":\"ready\"}");
  }

  private Reply preflight() {
    return new Reply(
        204,
        "text/plain",
        new byte[0],
        Map.of(
            "Access-Control-Allow-Methods", "POST, GET, OPTIONS",
            "Access-Control-Allow-Headers", "Content-Type",
            "Access-Control-Max-Age", "86400"));
  }

  private Optional<String> allowedOrigin(String origin) {
    List<String> allowed = shared.config().corsAllowedOrigins();
    if (allowed.contains("*")) {
      return Optional.of("*");
    }
    return allowed.contains(origin) ? Optional.of(origin) : Optional.empty();
  }

  private static Optional<Reply> onlyGet(HttpMethod method) {
    return method.equals(HttpMethod.GET) ? Optional.empty() : Optional.of(methodNotAllowed("GET"));
  }

  private static Reply methodNotAllowed(String allowed) {
    return jsonReply(
            405,
            "{\"error\":\"method_not_allowed\",\"message\":\"this endpoint takes "
                + allowed
                + "\"}")
        .withHeader("Allow", allowed);
  }

  private static Reply jsonReply(int status, String json) {
    return Reply.json(status, json.getBytes(StandardCharsets.UTF_8));
  }

  private static String quoteJson(String text) {
    StringBuilder quoted = new StringBuilder("\"");
    for (char c : text.toCharArray()) {
      if (c == '"' || c == '\\') {
        quoted.append('\\').append(c);
      } else if (c < 0x20) {
        quoted.append(String.format("\\u%04x", (int) c));
      } else {
        quoted.append(c);
      }
    }
    return quoted.append('"').toString();
  }

  static CollectorMetrics.Endpoint endpointOf(String path) {
    for (CollectorMetrics.Endpoint endpoint : CollectorMetrics.Endpoint.values()) {
      if (endpoint.path().equals(path)) {
        return endpoint;
      }
    }
    return CollectorMetrics.Endpoint.OTHER;
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext context, Object event) {
    if (event instanceof IdleStateEvent && !busy) {
      context.close();
    } else {
      context.fireUserEventTriggered(event);
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext context) {
    releasePending();
    context.fireChannelInactive();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext context, Throwable cause) {
    LOG.debug("Closing a connection after {}", cause.toString());
    context.close();
  }

  private void releasePending() {
    FullHttpRequest request;
    while ((request = pending.poll()) != null) {
      request.release();
    }
  }

  /** One request on its way to its answer. */
  private static final class Exchange {
    final ChannelHandlerContext context;
    final CollectorMetrics.Endpoint endpoint;
    final long started;
    final HttpVersion version;
    final Optional<String> origin;
    boolean keepAlive;

    Exchange(
        ChannelHandlerContext context,
        CollectorMetrics.Endpoint endpoint,
        long started,
        boolean keepAlive,
        HttpVersion version,
        Optional<String> origin) {
      this.context = context;
      this.endpoint = endpoint;
      this.started = started;
      this.keepAlive = keepAlive;
      this.version = version;
      this.origin = origin;
    }
  }
}
