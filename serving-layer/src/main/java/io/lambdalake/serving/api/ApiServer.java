package io.lambdalake.serving.api;

import static java.util.Objects.requireNonNull;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.lambdalake.common.config.ApiConfig;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The metrics API over HTTP: the JDK's HTTP server (keep-alive, a fixed pool of request threads) in
 * front of {@link MetricsApi}. {@code scripts/bench query} shows it serves cached answers well
 * above the 5,000 requests/s on two cores.
 */
public final class ApiServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ApiServer.class);
  private static final String NO_DELAY_PROPERTY = "sun.net.httpserver.nodelay";
  private final HttpServer server;
  private final ExecutorService executor;

  private ApiServer(HttpServer server, ExecutorService executor) {
    this.server = server;
    this.executor = executor;
  }

  /** Starts listening on the configured host and port (0: a free port). */
  public static ApiServer start(ApiConfig config, MetricsApi api) {
    requireNonNull(api, "api is null");
    // The JDK's server writes headers and body in two segments; with Nagle's algorithm on, the
    // second waits for the client's delayed ACK (40 ms), capping a connection at ~25 requests/s.
    // The property is read once, when the server's configuration class loads.
    if (System.getProperty(NO_DELAY_PROPERTY) == null) {
      System.setProperty(NO_DELAY_PROPERTY, "true");
    }
    AtomicInteger threadNumber = new AtomicInteger();
    ExecutorService executor =
        Executors.newFixedThreadPool(
            config.threads(),
            runnable -> {
              Thread thread = new Thread(runnable, "api-" + threadNumber.incrementAndGet());
              thread.setDaemon(true);
              return thread;
            });
    try {
      HttpServer server =
          HttpServer.create(new InetSocketAddress(config.host(), config.port()), 1024);
      server.createContext("/", exchange -> serve(api, exchange));
      server.setExecutor(executor);
      server.start();
      return new ApiServer(server, executor);
    } catch (IOException e) {
      executor.shutdownNow();
      throw new LakeException(
          ErrorCode.SERVER_FAILED_TO_START,
          "The metrics API cannot listen on "
              + config.host()
              + ":"
              + config.port()
              + ": "
              + e.getMessage()
              + " (is the port taken? set lake.api.port or LAKE_API_PORT)",
          e);
    }
  }

  public int port() {
    return server.getAddress().getPort();
  }

  public String baseUrl() {
    return "http://" + server.getAddress().getHostString() + ":" + port();
  }

  private static void serve(MetricsApi api, HttpExchange exchange) throws IOException {
    try (exchange) {
      try (InputStream body = exchange.getRequestBody()) {
        // GET has no body; one sent anyway is read (not skip()ped: that reads past it on the
        // socket) so that the connection stays usable.
        body.transferTo(OutputStream.nullOutputStream());
      }
      MetricsApi.Answer answer =
          api.handle(
              exchange.getRequestMethod(),
              exchange.getRequestURI().getRawPath(),
              exchange.getRequestURI().getRawQuery(),
              name -> Optional.ofNullable(exchange.getRequestHeaders().getFirst(name)));
      answer.headers().forEach((name, value) -> exchange.getResponseHeaders().set(name, value));
      boolean head = exchange.getRequestMethod().equals("HEAD");
      exchange.sendResponseHeaders(answer.status(), head ? -1 : answer.body().length);
      if (!head) {
        try (OutputStream out = exchange.getResponseBody()) {
          out.write(answer.body());
        }
      }
    } catch (IOException e) {
      LOG.debug("Request {} ended early: {}", exchange.getRequestURI(), e.toString());
      throw e;
    } catch (RuntimeException | Error e) {
      // The JDK's server would drop the connection without a word: say what happened.
      LOG.error("Request {} failed", exchange.getRequestURI(), e);
      throw e;
    }
  }

  @Override
  public void close() {
    server.stop(1);
    executor.shutdown();
    try {
      executor.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
