package io.lambdalake.ingestion.collector;

import static java.util.Objects.requireNonNull;

import io.lambdalake.common.config.CollectorConfig;
import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.http.HttpListener;
import io.lambdalake.ingestion.collector.internal.BodyBudget;
import io.lambdalake.ingestion.collector.internal.CollectorHttpHandler;
import io.lambdalake.ingestion.collector.internal.CollectorMetrics;
import io.lambdalake.ingestion.collector.internal.ConnectionLimit;
import io.lambdalake.ingestion.collector.internal.EventSink;
import io.lambdalake.ingestion.collector.internal.InFlightRequests;
import io.lambdalake.ingestion.collector.internal.KafkaEventSink;
import io.lambdalake.ingestion.collector.internal.KafkaReadiness;
import io.lambdalake.ingestion.collector.internal.LoadLimits;
import io.lambdalake.ingestion.collector.internal.RateLimiter;
import io.lambdalake.ingestion.collector.internal.RequestDeadline;
import io.lambdalake.ingestion.collector.internal.RequestProcessor;
import io.lambdalake.ingestion.collector.internal.SizeLimitedAggregator;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.timeout.IdleStateHandler;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The event collector: an HTTP server (Netty) taking analytics events from websites and apps and
 * writing them to Kafka, routed by event name. It answers 202 only after Kafka acknowledged every
 * event of a request; when Kafka cannot take them it answers 503 with Retry-After.
 *
 * <p>{@link #close()} shuts down gracefully: readiness turns false, the listening socket closes,
 * requests in flight get their answers (up to the drain timeout), the producer flushes, then the
 * event loops stop.
 */
public final class CollectorServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(CollectorServer.class);
  private static final String TRACKER_RESOURCE = "t.js";

  private final CollectorConfig config;
  private final EventSink sink;
  private final KafkaReadiness readiness;
  private final CollectorMetrics metrics;
  private final InFlightRequests inFlight = new InFlightRequests();
  private final AtomicBoolean draining = new AtomicBoolean();
  private final AtomicBoolean closed = new AtomicBoolean();
  private final CountDownLatch terminated = new CountDownLatch(1);
  private final HttpListener listener;
  private final RequestProcessor processor;
  private final LoadLimits load;

  private CollectorServer(LakeConfig lake) {
    this.config = lake.collector();
    this.metrics = new CollectorMetrics();
    RateLimiter rateLimiter = new RateLimiter(config, System::nanoTime);
    this.readiness =
        new KafkaReadiness(
            lake.kafka(),
            lake.topics(),
            RequestProcessor.topics(config, lake.topics()),
            config.readinessInterval(),
            config.createTopics());
    this.processor =
        new RequestProcessor(
            config,
            lake.topics(),
            RequestProcessor.jsonFactory(config.limits()),
            rateLimiter,
            readiness::isReachable,
            metrics);
    this.sink = new KafkaEventSink(lake.kafka(), config, readiness::markUnreachable);
    this.load = new LoadLimits(config.limits(), processor, metrics);
    registerGauges();
    readiness.start();
    CollectorHttpHandler.Shared shared =
        new CollectorHttpHandler.Shared(
            config,
            processor,
            sink,
            metrics,
            inFlight,
            readiness::isReachable,
            readiness::problem,
            draining::get,
            trackerScript(),
            Clock.systemUTC());
    int maxHeaderBytes = config.limits().maxHeaderBytes();
    long idleSeconds = Math.max(1, config.idleTimeout().toSeconds());
    try {
      this.listener =
          HttpListener.bind(
              new HttpListener.Endpoint(
                  "collector",
                  config.host(),
                  config.port(),
                  config.ioThreads(),
                  "lake.collector.port or LAKE_COLLECTOR_PORT"),
              pipeline ->
                  pipeline
                      .addLast(new ConnectionLimit(load))
                      .addLast(new RequestDeadline(load))
                      .addLast(new IdleStateHandler(0, 0, idleSeconds, TimeUnit.SECONDS))
                      .addLast(
                          new HttpServerCodec(
                              new HttpDecoderConfig()
                                  .setMaxInitialLineLength(maxHeaderBytes)
                                  .setMaxHeaderSize(maxHeaderBytes)
                                  .setMaxChunkSize(64 * 1024)))
                      .addLast(new BodyBudget(load))
                      .addLast(new SizeLimitedAggregator(shared))
                      .addLast(new CollectorHttpHandler(shared)));
    } catch (LakeException e) {
      sink.close(Duration.ZERO);
      readiness.close();
      throw e;
    }
    LOG.info(
        "Collector listening on {} with routes {} and {} tracking IDs",
        address(),
        config.sortedRoutes(),
        config.trackingIds().size());
  }

  /** Starts a collector as configured; it runs until {@link #close()}. */
  public static CollectorServer start(LakeConfig config) {
    return new CollectorServer(requireNonNull(config, "config is null"));
  }

  /** The port it listens on (useful when configured as 0, any free port). */
  public int port() {
    return listener.port();
  }

  public URI address() {
    return listener.address();
  }

  /** Whether Kafka answered the last readiness check. */
  public boolean isReady() {
    return readiness.isReachable() && !draining.get();
  }

  /** Waits until {@link #close()} finished. */
  public void awaitTermination() throws InterruptedException {
    terminated.await();
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    long started = System.nanoTime();
    draining.set(true);
    LOG.info("Collector draining: {} request(s) in flight", inFlight.count());
    listener.stopAccepting();
    try {
      if (!inFlight.awaitIdle(config.drainTimeout())) {
        LOG.warn(
            "{} request(s) still in flight after the drain timeout of {}",
            inFlight.count(),
            config.drainTimeout());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    Duration remaining = config.drainTimeout().minusNanos(System.nanoTime() - started);
    sink.close(remaining.isNegative() ? Duration.ZERO : remaining);
    readiness.close();
    listener.close();
    LOG.info(
        "Collector stopped after draining for {} ms", (System.nanoTime() - started) / 1_000_000);
    terminated.countDown();
  }

  private void registerGauges() {
    metrics.gauge(
        "collector_in_flight_requests", "Requests received and not yet answered.", inFlight::count);
    metrics.gauge(
        "collector_open_connections",
        "Open connections (lake.collector.limits.max-connections).",
        load::openConnections);
    metrics.gauge(
        "collector_buffered_body_bytes",
        "Request body bytes held in memory (lake.collector.limits.max-buffered-bodies).",
        load::bufferedBodyBytes);
    metrics.gauge(
        "collector_kafka_ready",
        "1 when Kafka answered the last readiness check, else 0.",
        () -> readiness.isReachable() ? 1 : 0);
    metrics.gauge(
        "collector_draining",
        "1 while the collector shuts down, else 0.",
        () -> draining.get() ? 1 : 0);
    metrics.gauge(
        "collector_producer_buffer_used_bytes",
        "Bytes of the producer buffer holding records not yet acknowledged.",
        sink::bufferBytesInUse);
    metrics.gauge(
        "collector_producer_buffer_total_bytes",
        "Size of the producer buffer (lake.collector.producer.buffer-memory).",
        sink::bufferBytesTotal);
  }

  private static byte[] trackerScript() {
    try (InputStream script = CollectorServer.class.getResourceAsStream(TRACKER_RESOURCE)) {
      if (script == null) {
        throw new LakeException(
            ErrorCode.INTERNAL_ERROR,
            "The tracker script " + TRACKER_RESOURCE + " is not packaged");
      }
      return script.readAllBytes();
    } catch (IOException e) {
      throw new LakeException(
          ErrorCode.INTERNAL_ERROR, "The tracker script cannot be read: " + e.getMessage(), e);
    }
  }
}
