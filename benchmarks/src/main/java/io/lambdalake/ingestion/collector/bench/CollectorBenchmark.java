package io.lambdalake.ingestion.collector.bench;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.config.LakeConfigLoader;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.common.event.CollectedEvent;
import io.lambdalake.common.kafka.KafkaClientProperties;
import io.lambdalake.ingestion.collector.internal.EventEncoder;
import io.lambdalake.ingestion.collector.internal.RequestProcessor;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.math.BigDecimal;
import java.net.Socket;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Random;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * The load side of {@code scripts/bench collector}, run as its own process against a running
 * collector over loopback. In one run it measures:
 *
 * <ol>
 *   <li>the baseline: a raw Kafka producer (the collector's settings) sending the same records the
 *       collector writes, to a topic on the same broker: the physical limit here;
 *   <li>the collector's peak: batches of 20 events (~300 bytes each) from closed-loop connections;
 *   <li>latency at half that peak: an open-loop schedule, latency counted from each request's
 *       planned send time so that a stall is not hidden (no coordinated omission);
 *   <li>single-event requests per second.
 * </ol>
 *
 * Its last line is {@code collector: events_per_s=N p99_ms=X producer_events_per_s=M ratio=N/M},
 * with p99 at half the peak rate.
 */
public final class CollectorBenchmark {
  private static final int EVENTS_PER_REQUEST = 20;
  private static final int DISTINCT_BODIES = 512;
  private static final int CLIENTS = 10_000;

  private final Options options;
  private final PrintStream out;
  private final List<byte[]> batchRequests = new ArrayList<>();
  private final List<byte[]> singleRequests = new ArrayList<>();
  private final List<byte[]> baselineRecords = new ArrayList<>();
  private final List<byte[]> baselineKeys = new ArrayList<>();
  private long eventBytes;

  /**
   * @param collector the collector's base URL, e.g. http://127.0.0.1:18091
   * @param trackingId a tracking ID the collector knows, with a rate limit above the load
   * @param eventName an event name the collector routes to {@code topic}
   * @param topic where the collector writes the benchmark's events
   * @param baselineTopic where the raw producer writes the same records
   */
  record Options(
      URI collector,
      String trackingId,
      String eventName,
      String topic,
      String baselineTopic,
      int connections,
      Duration warmUp,
      Duration measure) {}

  private CollectorBenchmark(Options options, PrintStream out) {
    this.options = options;
    this.out = out;
  }

  public static void main(String[] arguments) throws Exception {
    Map<String, String> values = new LinkedHashMap<>();
    for (String argument : arguments) {
      int equals = argument.indexOf('=');
      if (!argument.startsWith("--") || equals < 0) {
        System.err.println(
            "usage: CollectorBenchmark --collector=URL --tracking-id=ID"
                + " --event-name=NAME --topic=TOPIC --baseline-topic=TOPIC [--connections=128]"
                + " [--warm-up-seconds=5] [--measure-seconds=15]");
        System.exit(2);
      }
      values.put(argument.substring(2, equals), argument.substring(equals + 1));
    }
    Options options =
        new Options(
            URI.create(values.getOrDefault("collector", "http://127.0.0.1:18091")),
            values.getOrDefault("tracking-id", "LL-BENCH"),
            values.getOrDefault("event-name", "bench_event"),
            values.getOrDefault("topic", "bench.collector.events"),
            values.getOrDefault("baseline-topic", "bench.collector.baseline"),
            Integer.parseInt(values.getOrDefault("connections", "128")),
            Duration.ofSeconds(Long.parseLong(values.getOrDefault("warm-up-seconds", "5"))),
            Duration.ofSeconds(Long.parseLong(values.getOrDefault("measure-seconds", "15"))));
    LakeConfig config = LakeConfigLoader.load();
    try {
      new CollectorBenchmark(options, System.out).run(config);
    } catch (LakeException e) {
      System.err.println("bench collector: " + e.getMessage());
      System.exit(1);
    }
  }

  private void run(LakeConfig config) throws Exception {
    generate(config);
    out.printf(
        Locale.ROOT,
        "records: %d events per request, %d bytes per event on average (request body), %d"
            + " bytes per record written to Kafka; %d cores; broker %s; collector %s%n",
        EVENTS_PER_REQUEST,
        eventBytes,
        baselineRecords.stream().mapToInt(record -> record.length).sum() / baselineRecords.size(),
        Runtime.getRuntime().availableProcessors(),
        config.kafka().bootstrapServers(),
        options.collector());
    createTopics(config);
    try {
      double producerRate = baseline(config);
      Phase peak = closedLoop("peak, batches", batchRequests, EVENTS_PER_REQUEST);
      double peakEvents = peak.eventsPerSecond();
      Phase half =
          openLoop(
              "half peak, batches",
              batchRequests,
              EVENTS_PER_REQUEST,
              peakEvents / 2 / EVENTS_PER_REQUEST);
      Phase single = closedLoop("single-event requests", singleRequests, 1);
      out.printf(
          Locale.ROOT,
          "single-event requests: requests_per_s=%.0f p99_ms=%.2f%n",
          single.requestsPerSecond(),
          single.percentileMillis(0.99));
      out.printf(
          Locale.ROOT,
          "collector: events_per_s=%.0f p99_ms=%.2f producer_events_per_s=%.0f ratio=%.2f%n",
          peakEvents,
          half.percentileMillis(0.99),
          producerRate,
          peakEvents / producerRate);
    } finally {
      deleteTopics(config);
    }
  }

  /** Request bodies of realistic events, and the records the collector makes of them. */
  private void generate(LakeConfig config) {
    Random random = new Random(7);
    EventEncoder encoder =
        new EventEncoder(RequestProcessor.jsonFactory(config.collector().limits()));
    Instant now = Instant.now();
    String[] pages = {
      "/", "/shop/tea", "/shop/tea/green-sencha", "/cart", "/checkout", "/blog/brewing"
    };
    String[] sources = {"google", "newsletter", "direct", "instagram"};
    long totalEventBytes = 0;
    int events = 0;
    for (int body = 0; body < DISTINCT_BODIES; body++) {
      StringBuilder batch = new StringBuilder("[");
      for (int index = 0; index < EVENTS_PER_REQUEST; index++) {
        String clientId =
            "cid-" + random.nextInt(CLIENTS) + "." + (1_700_000_000 + random.nextInt(1_000_000));
        String sessionId = "sid-" + Long.toHexString(random.nextLong());
        String page = "https://tea-shop.example" + pages[random.nextInt(pages.length)];
        String referrer = "https://www." + sources[random.nextInt(sources.length)] + ".example/";
        Instant eventTime = now.minusMillis(random.nextInt(60_000));
        Map<String, String> params = new LinkedHashMap<>();
        params.put("title", "Green tea from Shizuoka - Tea Shop");
        params.put("utm_source", sources[random.nextInt(sources.length)]);
        params.put("utm_medium", "cpc");
        params.put("screen", "1920x1080");
        String event =
            "{\"tracking_id\":\"%s\",\"event_name\":\"%s\",\"client_id\":\"%s\",\"session_id\":\"%s\",\"event_time\":\"%s\",\"page_url\":\"%s\",\"referrer\":\"%s\",\"params\":{%s}}"
                .formatted(
                    options.trackingId(),
                    options.eventName(),
                    clientId,
                    sessionId,
                    EventEncoder.formatTime(eventTime),
                    page,
                    referrer,
                    params.entrySet().stream()
                        .map(entry -> "\"" + entry.getKey() + "\":\"" + entry.getValue() + "\"")
                        .reduce((left, right) -> left + "," + right)
                        .orElse(""));
        batch.append(index > 0 ? "," : "").append(event);
        totalEventBytes += event.length();
        events++;
        if (index == 0) {
          singleRequests.add(request("/v1/collect", event.getBytes(UTF_8)));
        }
        CollectedEvent collected =
            new CollectedEvent(
                UUID.randomUUID().toString(),
                options.trackingId(),
                options.eventName(),
                eventTime,
                now,
                clientId,
                Optional.empty(),
                Optional.of(sessionId),
                Optional.of(page),
                Optional.of(referrer),
                Optional.of("lake-bench/1.0 (load generator)"),
                Optional.of("127.0.0.0"),
                params,
                Optional.<BigDecimal>empty(),
                Optional.empty());
        baselineRecords.add(encoder.encode(collected));
        baselineKeys.add(clientId.getBytes(UTF_8));
      }
      batchRequests.add(request("/v1/batch", batch.append(']').toString().getBytes(UTF_8)));
    }
    eventBytes = totalEventBytes / events;
  }

  private byte[] request(String path, byte[] body) {
    String head =
        "POST "
            + path
            + " HTTP/1.1\r\nHost: "
            + options.collector().getHost()
            + "\r\n"
            + "User-Agent: lake-bench/1.0 (load generator)\r\n"
            + "Content-Type: application/json\r\nContent-Length: "
            + body.length
            + "\r\n\r\n";
    byte[] headBytes = head.getBytes(UTF_8);
    byte[] request = Arrays.copyOf(headBytes, headBytes.length + body.length);
    System.arraycopy(body, 0, request, headBytes.length, body.length);
    return request;
  }

  /** The raw producer, with the collector's producer settings, sending the same records. */
  private double baseline(LakeConfig config) throws Exception {
    Properties properties = KafkaClientProperties.producer(config.kafka(), "lake-bench-baseline");
    properties.putAll(config.collector().producer().kafkaProperties());
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(properties)) {
      produce(producer, options.warmUp());
      long[] result = produce(producer, options.measure());
      double rate = result[0] / (result[1] / 1e9);
      out.printf(
          Locale.ROOT,
          "baseline (raw Kafka producer, same records, same broker): producer_events_per_s=%.0f"
              + " (%d events acknowledged in %.1f s)%n",
          rate,
          result[0],
          result[1] / 1e9);
      return rate;
    }
  }

  /** Sends for the given time, then waits for every acknowledgement: {acknowledged, nanos}. */
  private long[] produce(KafkaProducer<byte[], byte[]> producer, Duration duration)
      throws InterruptedException {
    AtomicLong acknowledged = new AtomicLong();
    AtomicReference<Exception> failure = new AtomicReference<>();
    long started = System.nanoTime();
    long deadline = started + duration.toNanos();
    int index = 0;
    while (System.nanoTime() < deadline) {
      for (int burst = 0; burst < 1000; burst++, index++) {
        int record = index % baselineRecords.size();
        producer.send(
            new ProducerRecord<>(
                options.baselineTopic(), baselineKeys.get(record), baselineRecords.get(record)),
            (metadata, exception) -> {
              if (exception == null) {
                acknowledged.incrementAndGet();
              } else {
                failure.compareAndSet(null, exception);
              }
            });
      }
    }
    producer.flush();
    long elapsed = System.nanoTime() - started;
    if (failure.get() != null) {
      throw new LakeException(
          ErrorCode.SERVER_NOT_AVAILABLE,
          "the baseline producer failed: " + failure.get(),
          failure.get());
    }
    return new long[] {acknowledged.get(), elapsed};
  }

  /** Each connection sends its next request as soon as the last one was answered. */
  private Phase closedLoop(String name, List<byte[]> requests, int eventsPerRequest)
      throws InterruptedException {
    run(name + " warm-up", requests, eventsPerRequest, options.warmUp(), 0);
    Phase phase = run(name, requests, eventsPerRequest, options.measure(), 0);
    report(name, phase, eventsPerRequest);
    return phase;
  }

  /** Requests on a fixed schedule, whatever the answers' latency. */
  private Phase openLoop(
      String name, List<byte[]> requests, int eventsPerRequest, double requestsPerSecond)
      throws InterruptedException {
    Phase phase = run(name, requests, eventsPerRequest, options.measure(), requestsPerSecond);
    out.printf(
        Locale.ROOT,
        "%s: offered %.0f requests/s (%.0f events/s)%n",
        name,
        requestsPerSecond,
        requestsPerSecond * eventsPerRequest);
    report(name, phase, eventsPerRequest);
    return phase;
  }

  private void report(String name, Phase phase, int eventsPerRequest) {
    out.printf(
        Locale.ROOT,
        "%s: events_per_s=%.0f requests_per_s=%.0f p50_ms=%.2f p99_ms=%.2f p999_ms=%.2f max_ms=%.2f"
            + " answers=%s%n",
        name,
        phase.eventsPerSecond(),
        phase.requestsPerSecond(),
        phase.percentileMillis(0.50),
        phase.percentileMillis(0.99),
        phase.percentileMillis(0.999),
        phase.percentileMillis(1.0),
        phase.statuses());
    if (phase.statuses().keySet().stream().anyMatch(status -> status != 202)) {
      out.printf("%s: WARNING: answers other than 202: %s%n", name, phase.statuses());
    }
  }

  private Phase run(
      String name,
      List<byte[]> requests,
      int eventsPerRequest,
      Duration duration,
      double requestsPerSecond)
      throws InterruptedException {
    int connections = options.connections();
    Worker[] workers = new Worker[connections];
    long started = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(100);
    long deadline = started + duration.toNanos();
    for (int index = 0; index < connections; index++) {
      workers[index] =
          new Worker(
              requests,
              index,
              started,
              deadline,
              requestsPerSecond > 0 ? (long) (1e9 * connections / requestsPerSecond) : 0);
      workers[index].start();
    }
    for (Worker worker : workers) {
      worker.join();
    }
    long elapsed = deadline - started;
    Map<Integer, Long> statuses = new TreeMap<>();
    long answered = 0;
    int latencyCount = 0;
    for (Worker worker : workers) {
      if (worker.failure != null) {
        throw new LakeException(
            ErrorCode.SERVER_NOT_AVAILABLE,
            name
                + ": the collector at "
                + options.collector()
                + " failed a connection: "
                + worker.failure,
            worker.failure);
      }
      worker.statuses.forEach((status, count) -> statuses.merge(status, count, Long::sum));
      latencyCount += worker.latencyCount;
    }
    long[] latencies = new long[latencyCount];
    int offset = 0;
    long accepted = 0;
    for (Worker worker : workers) {
      System.arraycopy(worker.latencies, 0, latencies, offset, worker.latencyCount);
      offset += worker.latencyCount;
      accepted += worker.statuses.getOrDefault(202, 0L);
      answered += worker.latencyCount;
    }
    Arrays.sort(latencies);
    return new Phase(
        accepted * eventsPerRequest / (elapsed / 1e9),
        answered / (elapsed / 1e9),
        latencies,
        statuses);
  }

  record Phase(
      double eventsPerSecond,
      double requestsPerSecond,
      long[] sortedNanos,
      Map<Integer, Long> statuses) {
    double percentileMillis(double percentile) {
      if (sortedNanos.length == 0) {
        return Double.NaN;
      }
      int index =
          (int) Math.min(sortedNanos.length - 1, Math.ceil(percentile * sortedNanos.length) - 1);
      return sortedNanos[Math.max(0, index)] / 1e6;
    }
  }

  /** One keep-alive connection sending requests and reading answers. */
  private final class Worker extends Thread {
    private final List<byte[]> requests;
    private final int offset;
    private final long started;
    private final long deadline;
    private final long intervalNanos;
    private final Map<Integer, Long> statuses = new LinkedHashMap<>();
    private long[] latencies = new long[1 << 16];
    private int latencyCount;
    private Exception failure;

    Worker(List<byte[]> requests, int offset, long started, long deadline, long intervalNanos) {
      super("bench-connection-" + offset);
      this.requests = requests;
      this.offset = offset;
      this.started = started;
      this.deadline = deadline;
      this.intervalNanos = intervalNanos;
    }

    @Override
    public void run() {
      try (Socket socket =
          new Socket(options.collector().getHost(), options.collector().getPort())) {
        socket.setTcpNoDelay(true);
        socket.setSoTimeout(60_000);
        OutputStream output = socket.getOutputStream();
        InputStream input = new BufferedInputStream(socket.getInputStream(), 16 * 1024);
        long planned =
            started + (intervalNanos > 0 ? intervalNanos * offset / options.connections() : 0);
        for (long sent = 0; ; sent++) {
          long now = System.nanoTime();
          if (intervalNanos > 0) {
            if (planned >= deadline) {
              break;
            }
            while (now < planned) {
              long wait = planned - now;
              if (wait > 200_000) {
                Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
              } else {
                Thread.onSpinWait();
              }
              now = System.nanoTime();
            }
          } else if (now >= deadline) {
            break;
          }
          long start = intervalNanos > 0 ? planned : now;
          output.write(requests.get((int) ((sent * 31 + offset) % requests.size())));
          output.flush();
          int status = readAnswer(input);
          long latency = System.nanoTime() - start;
          if (now >= started) {
            record(status, latency);
          }
          planned += intervalNanos;
        }
      } catch (Exception e) {
        failure = e;
      }
    }

    private void record(int status, long latency) {
      statuses.merge(status, 1L, Long::sum);
      if (latencyCount == latencies.length) {
        latencies = Arrays.copyOf(latencies, latencies.length * 2);
      }
      latencies[latencyCount++] = latency;
    }
  }

  /** Reads one HTTP/1.1 answer and returns its status. */
  static int readAnswer(InputStream input) throws IOException {
    String statusLine = readLine(input);
    if (statusLine.length() < 12 || !statusLine.startsWith("HTTP/1.")) {
      throw new IOException("not an HTTP answer: " + statusLine);
    }
    int status = Integer.parseInt(statusLine.substring(9, 12));
    int contentLength = 0;
    for (String header = readLine(input); !header.isEmpty(); header = readLine(input)) {
      if (header.regionMatches(true, 0, "content-length:", 0, 15)) {
        contentLength = Integer.parseInt(header.substring(15).strip());
      }
    }
    long skipped = 0;
    while (skipped < contentLength) {
      long step = input.skip(contentLength - skipped);
      if (step <= 0) {
        if (input.read() < 0) {
          throw new IOException("the connection closed inside an answer");
        }
        step = 1;
      }
      skipped += step;
    }
    return status;
  }

  private static String readLine(InputStream input) throws IOException {
    StringBuilder line = new StringBuilder(64);
    int c;
    while ((c = input.read()) >= 0) {
      if (c == '\n') {
        int length = line.length();
        return length > 0 && line.charAt(length - 1) == '\r'
            ? line.substring(0, length - 1)
            : line.toString();
      }
      line.append((char) c);
    }
    throw new IOException("the connection closed");
  }

  private void createTopics(LakeConfig config) throws Exception {
    try (Admin admin = Admin.create(KafkaClientProperties.admin(config.kafka(), "lake-bench"))) {
      for (String topic : List.of(options.topic(), options.baselineTopic())) {
        try {
          admin
              .createTopics(
                  List.of(
                      new NewTopic(
                          topic,
                          config.topics().partitions(),
                          (short) config.topics().replicationFactor())))
              .all()
              .get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
          if (!(e.getCause() instanceof TopicExistsException)) {
            throw new LakeException(
                ErrorCode.SERVER_NOT_AVAILABLE,
                "Kafka at "
                    + config.kafka().bootstrapServers()
                    + " cannot create "
                    + topic
                    + ": "
                    + e.getCause().getMessage()
                    + " (is the stack up? scripts/stack up)",
                e);
          }
        } catch (TimeoutException e) {
          throw new LakeException(
              ErrorCode.SERVER_NOT_AVAILABLE,
              "Kafka at "
                  + config.kafka().bootstrapServers()
                  + " does not answer (is the stack up?"
                  + " scripts/stack up)",
              e);
        }
      }
    }
  }

  /** The benchmark's records are of no further use; the local broker keeps everything forever. */
  private void deleteTopics(LakeConfig config) {
    try (Admin admin = Admin.create(KafkaClientProperties.admin(config.kafka(), "lake-bench"))) {
      admin
          .deleteTopics(List.of(options.topic(), options.baselineTopic()))
          .all()
          .get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      System.err.println("bench collector: could not delete the benchmark topics: " + e);
    }
  }
}
