package io.lambdalake.speed.bench;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.config.LakeConfigLoader;
import io.lambdalake.stack.S3ProxyServer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * {@code scripts/bench soak}: the lake running for a long time at a steady load, to see whether
 * anything grows faster late in the run than early (files per table, Delta log, streaming state,
 * the speed job's heap) and whether freshness holds. It starts, with the run's configuration
 * (topics, storage root and schema prefix of its own, passed as {@code -D} options in {@code
 * LAKE_JAVA_OPTS} to every {@code lake} process it starts):
 *
 * <ul>
 *   <li>the collector, sent {@code RATE} generated events per second (paced, batches of 20), and a
 *       probe event every {@code PROBE} seconds whose time from the collector's 202 to Trino
 *       counting it in the speed view is its freshness;
 *   <li>{@code lake speed} (landing and both speed views, continuous);
 *   <li>{@code lake cdc} on a MariaDB database of its own, changed {@code CDC_RATE} rows a second
 *       through Maxwell;
 *   <li>the nightly ({@code lake batch}) every {@code NIGHTLY} minutes.
 * </ul>
 *
 * Every {@code SAMPLE} seconds it records, from S3: the active files of every Delta table (from the
 * newest checksum file of its log), the bytes of every Delta log and of the streaming state; and
 * the speed job's old-generation heap ({@code jstat}), and the CPU time of each process ({@code
 * /proc}). A growth is the increase over the last quarter of the run divided by the increase over
 * the first (after a warm-up); 1.05 or less is flat. The CPU time of the collector, Kafka, the
 * speed job and Trino over the measured time gives the cores a billion events a day takes. Last
 * line: {@code soak: minutes=M events=N freshness_p95_s=F files_growth=G log_growth=L
 * state_growth=S heap_growth=H cores_per_billion_per_day=C}.
 *
 * <p>Arguments: minutes, events per second, CDC changes per second, minutes between nightlies,
 * seconds between samples, seconds between probes.
 */
public final class SoakBenchmark {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String TRACKING_ID = "LL-SOAK";
  private static final long CLOCK_TICKS = 100;

  private final LakeConfig config;
  private final Path lake;
  private final Path logs;
  private final S3Client s3;
  private final Map<String, Process> services = new LinkedHashMap<>();
  private final List<Sample> samples = new ArrayList<>();
  private final Map<String, Instant> probesSent = new ConcurrentHashMap<>();
  private final Map<String, Double> probeLatencies = new ConcurrentHashMap<>();
  private final AtomicLong eventsSent = new AtomicLong();
  private final AtomicLong cdcChanges = new AtomicLong();
  private final List<String> nightlies = new ArrayList<>();
  private Instant started = Instant.now();

  private SoakBenchmark(LakeConfig config, Path lake, Path logs) {
    this.config = config;
    this.lake = lake;
    this.logs = logs;
    this.s3 = S3ProxyServer.client(config.s3());
  }

  /** One sample: when, and the figures at that moment. */
  private record Sample(
      double minute,
      long files,
      long logBytes,
      long stateBytes,
      long oldGenKb,
      Map<String, Long> cpuTicks,
      Map<String, Long> filesPerTable) {}

  public static void main(String[] arguments) throws Exception {
    int minutes = Integer.parseInt(arguments[0]);
    int rate = Integer.parseInt(arguments[1]);
    int cdcRate = Integer.parseInt(arguments[2]);
    int nightlyMinutes = Integer.parseInt(arguments[3]);
    int sampleSeconds = Integer.parseInt(arguments[4]);
    int probeSeconds = Integer.parseInt(arguments[5]);
    LakeConfig config = LakeConfigLoader.load();
    Path lake = Path.of(System.getenv("LAKE_ROOT"), "scripts", "lake");
    Path logs = config.localDirectory().resolve("logs");
    Files.createDirectories(logs);
    SoakBenchmark soak = new SoakBenchmark(config, lake, logs);
    // Ctrl-C or a kill stops the processes it started too.
    Runtime.getRuntime().addShutdownHook(new Thread(soak::stopServices, "soak-stop"));
    int exit;
    try {
      exit = soak.run(minutes, rate, cdcRate, nightlyMinutes, sampleSeconds, probeSeconds);
    } finally {
      soak.stopServices();
    }
    System.exit(exit);
  }

  private int run(
      int minutes, int rate, int cdcRate, int nightlyMinutes, int sampleSeconds, int probeSeconds)
      throws Exception {
    String database = "soak_" + config.trino().schemaPrefix().replaceAll("_+$", "");
    createSourceTable(database);
    String collector = "http://127.0.0.1:" + config.collector().port();
    start("collector", List.of("collector"));
    start("speed", List.of("speed", "--progress", "60s"));
    start(
        "cdc",
        List.of("cdc", "--sources", "MAXWELL", "--databases", database, "--progress", "60s"));
    awaitReady(collector);
    String view =
        config.trino().catalog() + "." + config.trino().schema("speed") + ".events_hourly";
    progress("collector ready; sending %,d events/s for %d minutes (view %s)", rate, minutes, view);

    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    URI batch = URI.create(collector + "/v1/batch");
    int seconds = minutes * 60;
    daemon(
        "load",
        () -> FreshnessBenchmark.sendLoad(http, batch, TRACKING_ID, rate, seconds, eventsSent));
    daemon(
        "probes-check",
        () ->
            FreshnessBenchmark.check(
                config.trino().url(), view, TRACKING_ID, probesSent, probeLatencies, 1000));
    daemon("cdc-changes", () -> changeRows(database, cdcRate, seconds));
    daemon("nightly", () -> nightlies(nightlyMinutes, seconds));

    started = Instant.now();
    Instant end = started.plusSeconds(seconds);
    Instant nextSample = started;
    Instant nextProbe = started;
    int probe = 0;
    while (Instant.now().isBefore(end)) {
      Instant now = Instant.now();
      if (!now.isBefore(nextProbe)) {
        sendProbe(http, batch, "probe_" + probe++);
        nextProbe = now.plusSeconds(probeSeconds);
      }
      if (!now.isBefore(nextSample)) {
        Sample sample = sample(Duration.between(started, now).toMillis() / 60_000.0);
        samples.add(sample);
        progress(
            "%5.1f min: events=%,d files=%,d log=%,d KB state=%,d KB old-gen=%,d KB probes=%d/%d"
                + " cdc=%,d nightlies=%d",
            sample.minute(),
            eventsSent.get(),
            sample.files(),
            sample.logBytes() / 1024,
            sample.stateBytes() / 1024,
            sample.oldGenKb(),
            probeLatencies.size(),
            probesSent.size(),
            cdcChanges.get(),
            nightlies.size());
        nextSample = now.plusSeconds(sampleSeconds);
      }
      for (Map.Entry<String, Process> service : services.entrySet()) {
        if (!service.getValue().isAlive()) {
          System.out.printf(
              "soak: the %s process exited (%d); see %s%n",
              service.getKey(),
              service.getValue().exitValue(),
              logs.resolve("bench-soak-" + service.getKey() + ".log"));
          return 1;
        }
      }
      Thread.sleep(250);
    }
    // The last probes get a minute to arrive.
    Instant deadline = Instant.now().plusSeconds(60);
    while (probeLatencies.size() < probesSent.size() && Instant.now().isBefore(deadline)) {
      Thread.sleep(250);
    }
    return report(minutes, rate);
  }

  private int report(int minutes, int rate) {
    // Quarters are measured after a warm-up (a sixth of the run, at least 3 minutes): the streams
    // start, create their tables and catch up with the load in it, which is growth of another kind.
    double warmUp = Math.max(3, minutes / 6.0);
    List<Sample> measured = samples.stream().filter(sample -> sample.minute() >= warmUp).toList();
    if (measured.size() < 8) {
      System.out.println(
          "soak: too few samples after the warm-up (" + measured.size() + "); run longer");
      return 1;
    }
    int quarter = measured.size() / 4;
    Sample first = measured.get(0);
    Sample firstQuarter = measured.get(quarter);
    Sample lastQuarter = measured.get(measured.size() - 1 - quarter);
    Sample last = measured.get(measured.size() - 1);
    double filesGrowth = growth(first, firstQuarter, lastQuarter, last, Sample::files);
    double logGrowth = growth(first, firstQuarter, lastQuarter, last, Sample::logBytes);
    double stateGrowth = growth(first, firstQuarter, lastQuarter, last, Sample::stateBytes);
    double heapGrowth = growth(first, firstQuarter, lastQuarter, last, Sample::oldGenKb);
    Instant measuredFrom = started.plusMillis((long) (warmUp * 60_000));
    List<Double> sorted = latencies(measuredFrom);
    double p95 = sorted.isEmpty() ? Double.NaN : FreshnessBenchmark.percentile(sorted, 0.95);
    double p50 = sorted.isEmpty() ? Double.NaN : FreshnessBenchmark.percentile(sorted, 0.50);
    List<Double> late = latencies(started.plusMillis((long) (minutes * 45_000L)));
    long uncounted =
        probesSent.keySet().stream().filter(name -> !probeLatencies.containsKey(name)).count();
    System.out.printf(
        "freshness after the warm-up: probes=%d p50_s=%.1f p95_s=%.1f last_quarter_p95_s=%.1f;"
            + " never counted: %d of %d%n",
        sorted.size(),
        p50,
        p95,
        late.isEmpty() ? Double.NaN : FreshnessBenchmark.percentile(late, 0.95),
        uncounted,
        probesSent.size());
    System.out.printf(
        "files: %,d -> %,d (first quarter +%,d, last quarter +%,d); per table at the end: %s%n",
        first.files(),
        last.files(),
        firstQuarter.files() - first.files(),
        last.files() - lastQuarter.files(),
        last.filesPerTable());
    System.out.printf(
        "delta logs: %,d KB -> %,d KB; streaming state: %,d KB -> %,d KB; speed job old"
            + " generation: %,d KB -> %,d KB%n",
        first.logBytes() / 1024,
        last.logBytes() / 1024,
        first.stateBytes() / 1024,
        last.stateBytes() / 1024,
        first.oldGenKb(),
        last.oldGenKb());
    System.out.printf("nightlies: %s; cdc changes: %,d%n", nightlies, cdcChanges.get());
    double wallSeconds = (last.minute() - first.minute()) * 60;
    double eventsPerSecond = eventsSent.get() / (minutes * 60.0);
    Map<String, Double> cores = new TreeMap<>();
    for (String process : last.cpuTicks().keySet()) {
      long ticks = last.cpuTicks().get(process) - first.cpuTicks().getOrDefault(process, 0L);
      cores.put(process, ticks / (double) CLOCK_TICKS / wallSeconds);
    }
    double landingViewsServing =
        cores.getOrDefault("collector", 0.0)
            + cores.getOrDefault("kafka", 0.0)
            + cores.getOrDefault("speed", 0.0)
            + cores.getOrDefault("trino", 0.0);
    double perBillion = landingViewsServing * 1e9 / (eventsPerSecond * 86_400);
    System.out.printf(
        Locale.ROOT,
        "cores: %s; collector+kafka+speed+trino %.2f cores at %.0f events/s = %.2f cores per"
            + " billion events a day; load average %s%n",
        format(cores),
        landingViewsServing,
        eventsPerSecond,
        perBillion,
        loadAverage());
    System.out.printf(
        Locale.ROOT,
        "soak: minutes=%d events=%d freshness_p95_s=%.1f files_growth=%.2f log_growth=%.2f"
            + " state_growth=%.2f heap_growth=%.2f cores_per_billion_per_day=%.2f%n",
        minutes,
        eventsSent.get(),
        p95,
        filesGrowth,
        logGrowth,
        stateGrowth,
        heapGrowth,
        perBillion);
    return uncounted == 0 && eventsSent.get() > 0.9 * rate * minutes * 60 ? 0 : 1;
  }

  /** The latencies of the probes sent from {@code from} on, sorted. */
  private List<Double> latencies(Instant from) {
    return probesSent.entrySet().stream()
        .filter(probe -> !probe.getValue().isBefore(from))
        .map(probe -> probeLatencies.get(probe.getKey()))
        .filter(latency -> latency != null)
        .sorted()
        .toList();
  }

  /**
   * The increase over the last quarter divided by the increase over the first; an increase of zero
   * or less counts as one unit, so a figure that does not grow at all is flat (1.0).
   */
  private static double growth(
      Sample first,
      Sample firstQuarter,
      Sample lastQuarter,
      Sample last,
      java.util.function.ToLongFunction<Sample> figure) {
    long early = Math.max(1, figure.applyAsLong(firstQuarter) - figure.applyAsLong(first));
    long late = Math.max(1, figure.applyAsLong(last) - figure.applyAsLong(lastQuarter));
    return late / (double) early;
  }

  private Sample sample(double minute) {
    Map<String, Long> filesPerTable = new TreeMap<>();
    long logBytes = 0;
    Map<String, String> newestChecksum = new TreeMap<>();
    for (S3Object object : list(config.storage().root())) {
      int log = object.key().indexOf("/_delta_log/");
      if (log < 0) {
        continue;
      }
      logBytes += object.size();
      String table = object.key().substring(0, log);
      if (object.key().endsWith(".crc")) {
        newestChecksum.merge(table, object.key(), (a, b) -> a.compareTo(b) >= 0 ? a : b);
      }
    }
    for (Map.Entry<String, String> table : newestChecksum.entrySet()) {
      filesPerTable.put(shortName(table.getKey()), numFiles(table.getValue()));
    }
    long stateBytes =
        list(config.storage().checkpoints()).stream()
            .filter(object -> object.key().contains("/state/"))
            .mapToLong(S3Object::size)
            .sum();
    Map<String, Long> cpu = new TreeMap<>();
    services.forEach((name, process) -> cpuTicks(process.pid()).ifPresent(t -> cpu.put(name, t)));
    for (String server : List.of("kafka", "trino", "s3proxy")) {
      serverPid(server).flatMap(SoakBenchmark::cpuTicks).ifPresent(t -> cpu.put(server, t));
    }
    long oldGen =
        Optional.ofNullable(services.get("speed")).flatMap(p -> oldGenKb(p.pid())).orElse(0L);
    return new Sample(
        minute,
        filesPerTable.values().stream().mapToLong(Long::longValue).sum(),
        logBytes,
        stateBytes,
        oldGen,
        cpu,
        filesPerTable);
  }

  private String shortName(String key) {
    String root = config.storage().root().replaceFirst("^s3a://[^/]+/", "");
    return key.startsWith(root + "/") ? key.substring(root.length() + 1) : key;
  }

  private long numFiles(String checksumKey) {
    try {
      byte[] bytes =
          s3.getObjectAsBytes(request -> request.bucket(config.s3().bucket()).key(checksumKey))
              .asByteArray();
      JsonNode checksum = JSON.readTree(bytes);
      return checksum.path("numFiles").asLong();
    } catch (IOException | RuntimeException e) {
      return 0;
    }
  }

  private List<S3Object> list(String location) {
    String prefix = location.replaceFirst("^s3a://[^/]+/", "") + "/";
    List<S3Object> objects = new ArrayList<>();
    s3.listObjectsV2Paginator(request -> request.bucket(config.s3().bucket()).prefix(prefix))
        .contents()
        .forEach(objects::add);
    return objects;
  }

  private Optional<Long> serverPid(String server) {
    Path pidFile = config.localDirectory().resolve(server).resolve("server.pid");
    try {
      return Optional.of(Long.parseLong(Files.readString(pidFile, UTF_8).trim()));
    } catch (IOException | NumberFormatException e) {
      return Optional.empty();
    }
  }

  /** User and system CPU time of a process, in clock ticks ({@code /proc/PID/stat}). */
  private static Optional<Long> cpuTicks(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"), UTF_8);
      String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      // After the command: state is field 3, utime 14 and stime 15 (1-based over the whole line).
      return Optional.of(Long.parseLong(fields[11]) + Long.parseLong(fields[12]));
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }

  /** The old generation's use of a JVM in KB ({@code jstat -gc}: the OU column). */
  private static Optional<Long> oldGenKb(long pid) {
    try {
      Process jstat =
          new ProcessBuilder("jstat", "-gc", Long.toString(pid)).redirectErrorStream(true).start();
      List<String> lines =
          new String(jstat.getInputStream().readAllBytes(), UTF_8).lines().toList();
      jstat.waitFor();
      if (lines.size() < 2) {
        return Optional.empty();
      }
      List<String> names = List.of(lines.get(0).trim().split("\\s+"));
      String[] values = lines.get(1).trim().split("\\s+");
      int column = names.indexOf("OU");
      return column < 0 ? Optional.empty() : Optional.of((long) Double.parseDouble(values[column]));
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.empty();
    }
  }

  private static String loadAverage() {
    try {
      String[] load = Files.readString(Path.of("/proc/loadavg"), UTF_8).split(" ");
      return load[0] + " " + load[1] + " " + load[2];
    } catch (IOException e) {
      return "unknown";
    }
  }

  private static String format(Map<String, Double> cores) {
    List<String> parts = new ArrayList<>();
    cores.forEach((name, value) -> parts.add(String.format(Locale.ROOT, "%s=%.2f", name, value)));
    return String.join(" ", parts);
  }

  private void start(String name, List<String> arguments) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(lake.toString());
    command.addAll(arguments);
    ProcessBuilder builder =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(logs.resolve("bench-soak-" + name + ".log").toFile());
    services.put(name, builder.start());
  }

  private void stopServices() {
    services.values().forEach(Process::destroy);
    for (Process process : services.values()) {
      try {
        if (!process.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)) {
          process.destroyForcibly();
        }
      } catch (InterruptedException e) {
        process.destroyForcibly();
        Thread.currentThread().interrupt();
      }
    }
  }

  private void awaitReady(String collector) throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    for (int attempt = 0; attempt < 180; attempt++) {
      try {
        if (http.send(
                    HttpRequest.newBuilder(URI.create(collector + "/readyz")).build(),
                    HttpResponse.BodyHandlers.discarding())
                .statusCode()
            == 200) {
          return;
        }
      } catch (IOException e) {
        // not up yet
      }
      if (!services.get("collector").isAlive()) {
        break;
      }
      Thread.sleep(1000);
    }
    throw new IllegalStateException(
        "the collector did not get ready; see " + logs.resolve("bench-soak-collector.log"));
  }

  private void sendProbe(HttpClient http, URI batch, String name) {
    try {
      FreshnessBenchmark.sendProbe(http, batch, TRACKING_ID, name, probesSent);
    } catch (IOException e) {
      progress("probe %s not sent: %s", name, e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private Connection source(String database) throws SQLException {
    return DriverManager.getConnection(
        config.mariaDb().jdbcUrl(database), config.mariaDb().user(), config.mariaDb().password());
  }

  private void createSourceTable(String database) throws SQLException {
    try (Connection connection = source("");
        Statement statement = connection.createStatement()) {
      statement.execute("CREATE DATABASE " + database);
      statement.execute(
          "CREATE TABLE "
              + database
              + ".items (id BIGINT PRIMARY KEY, quantity INT NOT NULL, note VARCHAR(64))");
    }
  }

  /** Inserts, updates and deletes rows of the source table at a steady rate. */
  private void changeRows(String database, int perSecond, int seconds) {
    long started = System.nanoTime();
    long end = started + Duration.ofSeconds(seconds).toNanos();
    try (Connection connection = source(database);
        PreparedStatement upsert =
            connection.prepareStatement(
                "INSERT INTO items VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE quantity ="
                    + " quantity + 1, note = VALUES(note)");
        PreparedStatement delete = connection.prepareStatement("DELETE FROM items WHERE id = ?")) {
      while (System.nanoTime() < end) {
        long key = ThreadLocalRandom.current().nextLong(10_000);
        if (ThreadLocalRandom.current().nextInt(10) == 0) {
          delete.setLong(1, key);
          delete.executeUpdate();
        } else {
          upsert.setLong(1, key);
          upsert.setInt(2, 1);
          upsert.setString(3, "change " + cdcChanges.get());
          upsert.executeUpdate();
        }
        long due = started + (long) (cdcChanges.incrementAndGet() / (double) perSecond * 1e9);
        long wait = due - System.nanoTime();
        if (wait > 0) {
          Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
        }
      }
    } catch (SQLException e) {
      progress("cdc changes stopped: %s", e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Runs the nightly ({@code lake batch}) every so many minutes while the soak lasts. */
  private void nightlies(int everyMinutes, int seconds) {
    long end = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
    try {
      Thread.sleep(Duration.ofMinutes(everyMinutes).toMillis() / 2);
      while (System.nanoTime() < end) {
        long started = System.nanoTime();
        Process batch =
            new ProcessBuilder(lake.toString(), "batch")
                .redirectErrorStream(true)
                .redirectOutput(
                    ProcessBuilder.Redirect.appendTo(logs.resolve("bench-soak-batch.log").toFile()))
                .start();
        int exit = batch.waitFor();
        long tookSeconds = Duration.ofNanos(System.nanoTime() - started).toSeconds();
        synchronized (nightlies) {
          nightlies.add((exit == 0 ? "" : "FAILED(" + exit + ") ") + tookSeconds + "s");
        }
        Thread.sleep(Math.max(0, Duration.ofMinutes(everyMinutes).toMillis() - tookSeconds * 1000));
      }
    } catch (IOException e) {
      progress("the nightly did not start: %s", e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void daemon(String name, Runnable body) {
    Thread thread = new Thread(body, "soak-" + name);
    thread.setDaemon(true);
    thread.start();
  }

  private static void progress(String format, Object... values) {
    System.err.printf(Locale.ROOT, format + "%n", values);
  }
}
