package io.lambdalake.serving.api.bench;

import static java.nio.charset.StandardCharsets.US_ASCII;

import io.lambdalake.common.config.ApiConfig;
import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.config.LakeConfigLoader;
import io.lambdalake.common.config.LakeCopy;
import io.lambdalake.common.config.StorageConfig;
import io.lambdalake.common.table.LakeTable;
import io.lambdalake.serving.TrinoCatalog;
import io.lambdalake.serving.api.ApiKeys;
import io.lambdalake.serving.api.ApiServer;
import io.lambdalake.serving.api.Granularity;
import io.lambdalake.serving.api.Metric;
import io.lambdalake.serving.api.MetricsApi;
import io.lambdalake.serving.api.MetricsQuery;
import io.lambdalake.serving.api.TrinoMetricsSource;
import io.lambdalake.serving.store.ServingSync;
import io.lambdalake.serving.store.StoreDatabase;
import io.lambdalake.serving.store.StoreMetricsSource;
import io.lambdalake.spark.LakeSpark;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.Socket;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntFunction;
import org.apache.spark.sql.SparkSession;

/**
 * {@code scripts/bench query}: a 30-day hourly series for one merchant through the merged serving
 * view, against the same answer computed from the raw events; the same series from the point-read
 * store; and the metrics API's requests/s with its cache, and without it through the store and
 * through Trino.
 *
 * <p>The data is generated and written by Trino itself (not through Kafka and the layers, to keep
 * the run short) into a copy of the lake of its own ({@link LakeCopy}: root and schema prefix):
 * EVENTS raw events over 32 days for MERCHANTS tracking IDs with a skewed share (merchant rank r
 * gets a share like r^-2/3, the largest about 10%), partitioned by day; batch.events_hourly for the
 * first 30 days and speed.events_hourly for the last 2 at their lake locations, batch.coverage at
 * the watermark and the contract's UNION ALL view over them. {@code lake serving-sync}'s round
 * copies them into the store (a database of its own). The measured series crosses the watermark.
 * Prints the figures on stderr and, last, {@code query: p50_ms=A p95_ms=B raw_p95_ms=C ratio=C/B
 * api_cached_rps=R api_uncached_rps=S api_uncached_p95_ms=T ...} on stdout.
 */
public final class QueryBenchmark {
  private static final Instant START = Instant.parse("2026-10-01T00:00:00Z");
  private static final Duration SPAN = Duration.ofDays(32);
  private static final Instant WATERMARK = START.plus(Duration.ofDays(30));
  private static final Instant SERIES_FROM = START.plus(Duration.ofDays(2));
  private static final Instant SERIES_TO = START.plus(SPAN);
  private static final int ITERATIONS = 20;

  private final LakeConfig config;
  private final TrinoCatalog trino;
  private final String schema;

  private QueryBenchmark(LakeConfig config) {
    this.config = config;
    this.trino = new TrinoCatalog(config);
    this.schema = config.trino().schema("bench");
  }

  public static void main(String[] arguments) throws Exception {
    long events = arguments.length > 0 ? Long.parseLong(arguments[0]) : 20_000_000L;
    int merchants = arguments.length > 1 ? Integer.parseInt(arguments[1]) : 1000;
    int seconds = arguments.length > 2 ? Integer.parseInt(arguments[2]) : 10;
    LakeConfig stack = LakeConfigLoader.load();
    String name = "bench-query-" + Instant.now().getEpochSecond();
    LakeConfig lake =
        LakeConfigLoader.load(System.getenv(), LakeCopy.overrides(stack.s3().bucket(), name));
    QueryBenchmark benchmark = new QueryBenchmark(lake);
    try {
      benchmark.run(events, merchants, seconds);
    } finally {
      if (!"keep".equals(System.getenv("LAKE_BENCH_QUERY_DATA"))) {
        benchmark.dropData();
      }
    }
  }

  private void run(long events, int merchants, int seconds) throws Exception {
    double loadAtStart = loadAverage();
    say(
        "Generating %,d events for %d merchants over %d days in Trino (schema lake.%s) ...",
        events, merchants, SPAN.toDays(), schema);
    long started = System.nanoTime();
    generate(events, merchants);
    say("  data ready in %.0f s", (System.nanoTime() - started) / 1e9);
    List<Object> top =
        query(
                "SELECT tracking_id, count(*) FROM "
                    + schema
                    + ".raw_events GROUP BY 1 ORDER BY 2 DESC LIMIT 1",
                List.of())
            .get(0);
    String merchant = (String) top.get(0);
    long merchantEvents = ((Number) top.get(1)).longValue();
    long hourlyRows =
        ((Number)
                query("SELECT count(*) FROM " + schema + ".events_hourly", List.of()).get(0).get(0))
            .longValue();
    say(
        "Largest merchant %s: %,d events (%.1f%% of all); the merged hourly view has %,d rows",
        merchant, merchantEvents, 100.0 * merchantEvents / events, hourlyRows);

    LakeConfig benchConfig = withBenchApi(merchant);
    TrinoMetricsSource source = new TrinoMetricsSource(benchConfig);
    MetricsQuery series =
        new MetricsQuery(
            Metric.EVENTS,
            Granularity.HOUR,
            SERIES_FROM,
            SERIES_TO,
            ZoneOffset.UTC,
            Optional.empty(),
            List.of(merchant));
    MetricsQuery users =
        new MetricsQuery(
            Metric.USERS,
            Granularity.HOUR,
            SERIES_FROM,
            SERIES_TO,
            ZoneOffset.UTC,
            Optional.empty(),
            List.of(merchant));

    // Same answer first: the view's series equals the raw events' one.
    SortedMap<Instant, Long> fromView = source.counts(series);
    SortedMap<Instant, Long> fromRaw = rawSeries(merchant);
    if (!fromView.equals(fromRaw)) {
      throw new IllegalStateException(
          "The merged view and the raw events disagree: "
              + fromView.size()
              + " vs "
              + fromRaw.size()
              + " hours");
    }
    say(
        "Same answer: %d hours, %,d events from the view and from raw.events",
        fromView.size(), fromView.values().stream().mapToLong(Long::longValue).sum());

    say("lake serving-sync: one round into the store %s ...", config.api().store().database());
    long syncStarted = System.nanoTime();
    SparkSession spark = LakeSpark.session(config, "lambda-lake-bench-query-sync");
    ServingSync.Round round;
    try (StoreDatabase database = new StoreDatabase(config.api().store())) {
      round = new ServingSync(config, spark, database).runOnce();
    } finally {
      spark.stop();
    }
    double syncSeconds = (System.nanoTime() - syncStarted) / 1e9;
    say("  %.0f s: %s", syncSeconds, round.describe());

    StoreMetricsSource store =
        new StoreMetricsSource(
            new StoreDatabase(config.api().store()), benchConfig.api().queryTimeout());
    if (!store.counts(series).equals(fromView)
        || !store.counts(users).equals(source.counts(users))) {
      throw new IllegalStateException("The store and the merged view disagree");
    }
    say("Same answer from the store: events and unique users per hour");

    say(
        "Timing %d runs each (after 2 warm-ups): view events, view users, raw events, store ...",
        ITERATIONS);
    Percentiles view = time(() -> source.counts(series));
    Percentiles viewUsers = time(() -> source.counts(users));
    Percentiles raw = time(() -> rawSeries(merchant));
    Percentiles storeEvents = time(() -> store.counts(series));
    Percentiles storeUsers = time(() -> store.counts(users));
    say("  merged view, events per hour:  p50_ms=%.0f p95_ms=%.0f", view.p50(), view.p95());
    say(
        "  merged view, users per hour:   p50_ms=%.0f p95_ms=%.0f",
        viewUsers.p50(), viewUsers.p95());
    say("  raw.events, events per hour:   p50_ms=%.0f p95_ms=%.0f", raw.p50(), raw.p95());
    say(
        "  store, events per hour:        p50_ms=%.1f p95_ms=%.1f",
        storeEvents.p50(), storeEvents.p95());
    say(
        "  store, users per hour:         p50_ms=%.1f p95_ms=%.1f",
        storeUsers.p50(), storeUsers.p95());

    String key = ApiKeys.generate();
    LakeConfig apiConfig = withKey(benchConfig, key, merchant);
    String path =
        "/v1/metrics?metric=events&granularity=hour&tz=UTC&from="
            + SERIES_FROM
            + "&to="
            + SERIES_TO;
    Load cached;
    Load uncached;
    Load trinoUncached;
    try (ApiServer server =
        ApiServer.start(
            apiConfig.api(), new MetricsApi(apiConfig.api(), store, System::nanoTime))) {
      say(
          "API (store) at %s, cached: 16 connections, one query, %d s ...",
          server.baseUrl(), seconds);
      cached = load(server.port(), key, 16, seconds, request -> path);
      say("  api_cached_rps=%.0f", cached.rps());
      say("API (store), uncached: 4 connections, a new range each request, %d s ...", seconds);
      uncached = load(server.port(), key, 4, seconds, newRangeEachRequest());
      say("  api_uncached_rps=%.1f api_uncached_p95_ms=%.1f", uncached.rps(), uncached.p95Ms());
    }
    try (ApiServer server =
        ApiServer.start(
            apiConfig.api(), new MetricsApi(apiConfig.api(), source, System::nanoTime))) {
      say("API (Trino), uncached: 4 connections, a new range each request, %d s ...", seconds);
      trinoUncached = load(server.port(), key, 4, seconds, newRangeEachRequest());
      say(
          "  trino_api_uncached_rps=%.1f trino_api_uncached_p95_ms=%.0f",
          trinoUncached.rps(), trinoUncached.p95Ms());
    }
    store.close();
    System.out.printf(
        "query: p50_ms=%.0f p95_ms=%.0f raw_p95_ms=%.0f ratio=%.1f api_cached_rps=%.0f"
            + " api_uncached_rps=%.1f api_uncached_p95_ms=%.1f trino_api_uncached_rps=%.1f"
            + " trino_api_uncached_p95_ms=%.0f store_p95_ms=%.1f store_users_p95_ms=%.1f"
            + " sync_s=%.0f users_p95_ms=%.0f events=%d merchants=%d load_start=%.1f"
            + " load_end=%.1f%n",
        view.p50(),
        view.p95(),
        raw.p95(),
        raw.p95() / view.p95(),
        cached.rps(),
        uncached.rps(),
        uncached.p95Ms(),
        trinoUncached.rps(),
        trinoUncached.p95Ms(),
        storeEvents.p95(),
        storeUsers.p95(),
        syncSeconds,
        viewUsers.p95(),
        events,
        merchants,
        loadAtStart,
        loadAverage());
  }

  /** The machine's load average over the last minute, as uptime prints it. */
  private static double loadAverage() {
    return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
  }

  /** Each request a range of its own: no answer comes from the cache. */
  private static IntFunction<String> newRangeEachRequest() {
    AtomicLong hour = new AtomicLong();
    return request -> {
      long shift = hour.incrementAndGet();
      return "/v1/metrics?metric=events&granularity=hour&tz=UTC&from="
          + SERIES_FROM.plus(Duration.ofHours(shift % 700))
          + "&to="
          + SERIES_TO.minus(Duration.ofHours(shift / 700));
    };
  }

  private SortedMap<Instant, Long> rawSeries(String merchant) {
    SortedMap<Instant, Long> series = new TreeMap<>();
    for (List<Object> row :
        query(
            "SELECT to_unixtime(date_trunc('hour', event_time)), count(*) FROM "
                + schema
                + ".raw_events WHERE tracking_id = ?"
                + " AND event_date >= CAST(? AS date) AND event_date <= CAST(? AS date)"
                + " AND event_time >= from_unixtime(?) AND event_time < from_unixtime(?)"
                + " AND NOT is_bot GROUP BY 1",
            List.of(
                merchant,
                SERIES_FROM.atZone(ZoneOffset.UTC).toLocalDate().toString(),
                SERIES_TO.minusMillis(1).atZone(ZoneOffset.UTC).toLocalDate().toString(),
                SERIES_FROM.getEpochSecond(),
                SERIES_TO.getEpochSecond()))) {
      series.put(
          Instant.ofEpochMilli(Math.round(((Number) row.get(0)).doubleValue() * 1000)),
          ((Number) row.get(1)).longValue());
    }
    return series;
  }

  private void generate(long events, int merchants) {
    trino.createSchema("bench");
    long outer = 10_000;
    long inner = (events + outer - 1) / outer;
    create(
        "raw_events",
        "ARRAY['event_date']",
        "SELECT tracking_id, event_name, event_time, user_id, page_url, false AS is_bot,"
            + " CAST(event_time AS date) AS event_date FROM (SELECT"
            + " 'LL-Q' || lpad(CAST(CAST(floor(pow(random(), 3) * "
            + merchants
            + ") AS integer) AS varchar), 4, '0') AS tracking_id,"
            + " element_at(ARRAY['page_view', 'page_view', 'page_view', 'add_to_cart', 'purchase'],"
            + " CAST(floor(random() * 5) AS integer) + 1) AS event_name,"
            + " from_unixtime("
            + START.getEpochSecond()
            + " + floor(random() * "
            + SPAN.toSeconds()
            + "), 'UTC') AS event_time,"
            + " 'u' || CAST(CAST(floor(random() * 200000) AS integer) AS varchar) AS user_id,"
            + " '/p/' || CAST(CAST(floor(pow(random(), 2) * 50) AS integer) AS varchar) AS page_url"
            + " FROM UNNEST(sequence(1, "
            + outer
            + ")) AS a(x) CROSS JOIN UNNEST(sequence(1, "
            + inner
            + ")) AS b(y) WHERE (x - 1) * "
            + inner
            + " + y <= "
            + events
            + ")");
    say("  raw.events written");
    String hourly =
        "SELECT tracking_id, event_date, date_trunc('hour', event_time) AS hour, event_name,"
            + " count(*) AS events, CAST(approx_set(user_id) AS varbinary) AS users_sketch,"
            + " CAST(NULL AS decimal(28, 4)) AS value_sum, CAST(0 AS bigint) AS valued_events,"
            + " 'bench' AS logic_version, current_timestamp AS computed_at FROM "
            + schema
            + ".raw_events WHERE NOT is_bot AND event_time %s from_unixtime("
            + WATERMARK.getEpochSecond()
            + ") GROUP BY 1, 2, 3, 4";
    trino.createSchema("batch");
    trino.createSchema("speed");
    create(LakeTable.BATCH_EVENTS_HOURLY, "ARRAY['event_date']", String.format(hourly, "<"));
    create(LakeTable.SPEED_EVENTS_HOURLY, "ARRAY[]", String.format(hourly, ">="));
    create(
        LakeTable.BATCH_COVERAGE,
        "ARRAY[]",
        "SELECT 'events_hourly' AS view, from_unixtime("
            + WATERMARK.getEpochSecond()
            + ", 'UTC') AS covered_until, 'bench' AS run_id, 'bench' AS logic_version,"
            + " current_timestamp AS updated_at");
    String coveredUntil =
        "coalesce((SELECT max(covered_until) FROM "
            + tableName(LakeTable.BATCH_COVERAGE)
            + " WHERE view = 'events_hourly'), TIMESTAMP '1970-01-01 00:00:00.000 UTC')";
    trino.execute(
        "CREATE OR REPLACE VIEW "
            + schema
            + ".events_hourly AS SELECT b.*, 'batch' AS layer FROM "
            + tableName(LakeTable.BATCH_EVENTS_HOURLY)
            + " b WHERE b.hour < "
            + coveredUntil
            + " UNION ALL SELECT s.*, 'speed' AS layer FROM "
            + tableName(LakeTable.SPEED_EVENTS_HOURLY)
            + " s WHERE s.hour >= "
            + coveredUntil);
    say("  hourly batch and speed tables, coverage and the merged view written");
  }

  private void create(String table, String partitionedBy, String select) {
    create(
        schema + "." + table,
        config.storage().tableLocation("bench", table),
        partitionedBy,
        select);
  }

  private void create(LakeTable table, String partitionedBy, String select) {
    create(tableName(table), table.location(config.storage()), partitionedBy, select);
  }

  private void create(String name, String location, String partitionedBy, String select) {
    trino.execute(
        "CREATE TABLE "
            + name
            + " WITH (location = '"
            + StorageConfig.trinoLocation(location)
            + "', partitioned_by = "
            + partitionedBy
            + ") AS "
            + select);
  }

  /** A lake table's name in Trino, with this copy's schema prefix. */
  private String tableName(LakeTable table) {
    return config.trino().schema(table.zone()) + "." + table.table();
  }

  private void dropData() {
    say("Dropping the benchmark's tables and store (LAKE_BENCH_QUERY_DATA=keep keeps them) ...");
    try {
      trino.execute("DROP VIEW IF EXISTS " + schema + ".events_hourly");
      trino.execute("DROP TABLE IF EXISTS " + schema + ".raw_events");
      for (LakeTable table :
          List.of(
              LakeTable.BATCH_COVERAGE,
              LakeTable.SPEED_EVENTS_HOURLY,
              LakeTable.BATCH_EVENTS_HOURLY)) {
        trino.execute("DROP TABLE IF EXISTS " + tableName(table));
      }
      for (String zone : List.of("bench", "batch", "speed")) {
        trino.execute("DROP SCHEMA IF EXISTS " + config.trino().schema(zone));
      }
    } catch (RuntimeException e) {
      say("  could not drop everything: %s", e.getMessage());
    }
    try (StoreDatabase store = new StoreDatabase(config.api().store())) {
      store.dropDatabase();
    } catch (RuntimeException e) {
      say("  could not drop the store's database: %s", e.getMessage());
    }
  }

  private LakeConfig withBenchApi(String merchant) {
    return withKey(config, ApiKeys.generate(), merchant);
  }

  private LakeConfig withKey(LakeConfig base, String key, String merchant) {
    ApiConfig api = base.api();
    ApiConfig benchApi =
        new ApiConfig(
            "127.0.0.1",
            0,
            api.threads(),
            api.cacheTtl(),
            api.cacheMaxEntries(),
            new ApiConfig.RateLimit(1e9, 1_000_000_000),
            api.maxPoints(),
            api.maxRange(),
            api.maxRows(),
            new ApiConfig.Views(
                schema + ".events_hourly",
                api.views().pagesHourly(),
                api.views().sessionsDaily(),
                api.views().trafficDaily()),
            List.of(
                new ApiConfig.Key(ApiKeys.hash(key), "bench", List.of(merchant), ZoneOffset.UTC)),
            api.idleTimeout(),
            api.maxQueuedQueries(),
            api.queryTimeout(),
            api.source(),
            api.store());
    return base.withApi(benchApi);
  }

  /** Requests per second, and the 95th percentile of their latency. */
  private record Load(double rps, double p95Ms) {}

  /**
   * Requests/s over HTTP/1.1 keep-alive connections, each in a closed loop; only 200s count; and
   * the p95 latency of the measured requests.
   */
  private static Load load(
      int port, String key, int connections, int seconds, IntFunction<String> paths)
      throws InterruptedException {
    AtomicBoolean measuring = new AtomicBoolean(false);
    AtomicBoolean stop = new AtomicBoolean(false);
    AtomicLong answered = new AtomicLong();
    AtomicLong failed = new AtomicLong();
    List<Double> latencies = Collections.synchronizedList(new ArrayList<>());
    List<Thread> threads = new ArrayList<>();
    for (int connection = 0; connection < connections; connection++) {
      Thread thread =
          new Thread(
              () -> {
                try (Socket socket = new Socket("127.0.0.1", port)) {
                  socket.setTcpNoDelay(true);
                  OutputStream out = socket.getOutputStream();
                  InputStream in = new BufferedInputStream(socket.getInputStream(), 65536);
                  int request = 0;
                  while (!stop.get()) {
                    String path = paths.apply(request++);
                    long started = System.nanoTime();
                    out.write(
                        ("GET "
                                + path
                                + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
                                + key
                                + "\r\n\r\n")
                            .getBytes(US_ASCII));
                    out.flush();
                    int status = readResponse(in);
                    if (measuring.get()) {
                      (status == 200 ? answered : failed).incrementAndGet();
                      if (status == 200) {
                        latencies.add((System.nanoTime() - started) / 1e6);
                      }
                    }
                  }
                } catch (IOException e) {
                  failed.incrementAndGet();
                }
              },
              "bench-client-" + connection);
      thread.start();
      threads.add(thread);
    }
    Thread.sleep(5000); // warm-up: the JIT compiles the request path on two busy cores
    long before = answered.get();
    measuring.set(true);
    long started = System.nanoTime();
    Thread.sleep(seconds * 1000L);
    long count = answered.get() - before;
    double elapsed = (System.nanoTime() - started) / 1e9;
    measuring.set(false);
    stop.set(true);
    for (Thread thread : threads) {
      thread.join(120_000);
    }
    if (failed.get() > 0) {
      say("  %d requests failed or were not 200", failed.get());
    }
    List<Double> sorted;
    synchronized (latencies) {
      sorted = new ArrayList<>(latencies);
    }
    sorted.sort(Double::compare);
    return new Load(count / elapsed, sorted.isEmpty() ? Double.NaN : percentile(sorted, 0.95));
  }

  /** Reads one HTTP/1.1 response with Content-Length; returns its status. */
  private static int readResponse(InputStream in) throws IOException {
    StringBuilder line = new StringBuilder();
    int status = -1;
    long contentLength = 0;
    boolean first = true;
    while (true) {
      int c = in.read();
      if (c < 0) {
        throw new IOException("connection closed");
      }
      if (c == '\n') {
        String header = line.toString().strip();
        line.setLength(0);
        if (first) {
          status = Integer.parseInt(header.split(" ")[1]);
          first = false;
        } else if (header.isEmpty()) {
          break;
        } else if (header.regionMatches(true, 0, "Content-Length:", 0, 15)) {
          contentLength = Long.parseLong(header.substring(15).strip());
        }
      } else {
        line.append((char) c);
      }
    }
    byte[] body = new byte[8192];
    long remaining = contentLength;
    while (remaining > 0) {
      int read = in.read(body, 0, (int) Math.min(body.length, remaining));
      if (read < 0) {
        throw new IOException("connection closed in a body");
      }
      remaining -= read;
    }
    return status;
  }

  private interface Run {
    Object run() throws Exception;
  }

  private record Percentiles(double p50, double p95) {}

  private static Percentiles time(Run run) throws Exception {
    run.run();
    run.run();
    List<Double> millis = new ArrayList<>();
    for (int iteration = 0; iteration < ITERATIONS; iteration++) {
      long started = System.nanoTime();
      run.run();
      millis.add((System.nanoTime() - started) / 1e6);
    }
    millis.sort(Double::compare);
    return new Percentiles(percentile(millis, 0.50), percentile(millis, 0.95));
  }

  /** The nearest-rank percentile. */
  private static double percentile(List<Double> sorted, double fraction) {
    int rank = (int) Math.ceil(fraction * sorted.size());
    return sorted.get(Math.max(0, rank - 1));
  }

  private List<List<Object>> query(String sql, List<Object> parameters) {
    try (Connection connection = trino.connection();
        PreparedStatement statement = connection.prepareStatement(sql)) {
      for (int index = 0; index < parameters.size(); index++) {
        statement.setObject(index + 1, parameters.get(index));
      }
      List<List<Object>> rows = new ArrayList<>();
      try (ResultSet result = statement.executeQuery()) {
        int columns = result.getMetaData().getColumnCount();
        while (result.next()) {
          List<Object> row = new ArrayList<>();
          for (int column = 1; column <= columns; column++) {
            row.add(result.getObject(column));
          }
          rows.add(row);
        }
      }
      return rows;
    } catch (SQLException e) {
      throw new IllegalStateException("Trino failed: " + e.getMessage(), e);
    }
  }

  private static void say(String format, Object... arguments) {
    System.err.printf(format + "%n", arguments);
    System.err.flush();
  }
}
