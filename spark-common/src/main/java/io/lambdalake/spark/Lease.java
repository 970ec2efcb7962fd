package io.lambdalake.spark;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import java.io.ByteArrayOutputStream;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileAlreadyExistsException;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One writer at a time for a group of tables: a lease held as objects under the lake root, {@code
 * <root>/_leases/<name>/<token>}. Each holder creates the next token's object with a conditional
 * write ({@code If-None-Match: *}), so of two writers that race for the same token exactly one
 * wins; the token is the fencing token, and a holder still holds the lease as long as no object
 * with a higher token exists and its own has not expired. The holder renews its expiry in the
 * background; it marks the object released when done. A lease whose holder is gone (expired, or its
 * process no longer runs on this host) is taken over by creating the next token.
 *
 * <p>Writers call {@link #checkHeld} right before each commit of the tables the lease guards.
 */
public final class Lease implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Lease.class);
  private static final String TOKEN_FORMAT = "%020d";
  private static final Duration POLL = Duration.ofSeconds(1);

  /** How long a lease lives without renewal, and how often its holder renews it. */
  public record Settings(Duration timeToLive, Duration renewEvery, Clock clock) {
    public static final Settings DEFAULT =
        new Settings(Duration.ofMinutes(2), Duration.ofSeconds(20), Clock.systemUTC());

    public Settings {
      requireNonNull(timeToLive, "timeToLive is null");
      requireNonNull(renewEvery, "renewEvery is null");
      requireNonNull(clock, "clock is null");
      // A renewal interval at or past the time to live is allowed: tests use it for a holder
      // that stalls.
      if (renewEvery.isNegative() || renewEvery.isZero() || timeToLive.isNegative()) {
        throw new IllegalArgumentException(
            "renewEvery and timeToLive must be positive: " + renewEvery + ", " + timeToLive);
      }
    }
  }

  /** Who holds a lease, as written in its object. */
  public record Holder(
      String name,
      long token,
      String runId,
      String host,
      long pid,
      Instant acquiredAt,
      Instant expiresAt,
      boolean released) {
    public Holder {
      requireNonNull(name, "name is null");
      requireNonNull(runId, "runId is null");
      requireNonNull(host, "host is null");
      requireNonNull(acquiredAt, "acquiredAt is null");
      requireNonNull(expiresAt, "expiresAt is null");
    }

    /** Whether nobody holds the lease through this object any more. */
    boolean isFree(Instant now) {
      return released || !expiresAt.isAfter(now) || isDeadProcessOnThisHost();
    }

    private boolean isDeadProcessOnThisHost() {
      return host.equals(localHost()) && ProcessHandle.of(pid).isEmpty();
    }

    String describe() {
      return "run "
          + runId
          + " on host "
          + host
          + " (pid "
          + pid
          + "), token "
          + token
          + ", since "
          + acquiredAt
          + ", expiring at "
          + expiresAt
          + " unless renewed";
    }

    byte[] toBytes() {
      Properties properties = new Properties();
      properties.setProperty("name", name);
      properties.setProperty("token", Long.toString(token));
      properties.setProperty("run_id", runId);
      properties.setProperty("host", host);
      properties.setProperty("pid", Long.toString(pid));
      properties.setProperty("acquired_at", acquiredAt.toString());
      properties.setProperty("expires_at", expiresAt.toString());
      properties.setProperty("released", Boolean.toString(released));
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      try {
        properties.store(bytes, "lambda-lake lease");
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      return bytes.toByteArray();
    }

    static Holder fromBytes(byte[] bytes) throws IOException {
      Properties properties = new Properties();
      properties.load(new StringReader(new String(bytes, UTF_8)));
      return new Holder(
          properties.getProperty("name"),
          Long.parseLong(properties.getProperty("token")),
          properties.getProperty("run_id"),
          properties.getProperty("host"),
          Long.parseLong(properties.getProperty("pid")),
          Instant.parse(properties.getProperty("acquired_at")),
          Instant.parse(properties.getProperty("expires_at")),
          Boolean.parseBoolean(properties.getProperty("released")));
    }

    Holder renewedUntil(Instant expiry) {
      return new Holder(name, token, runId, host, pid, acquiredAt, expiry, released);
    }

    Holder releasedNow() {
      return new Holder(name, token, runId, host, pid, acquiredAt, expiresAt, true);
    }
  }

  private final FileSystem fileSystem;
  private final Path folder;
  private final String purpose;
  private final Settings settings;
  private final AtomicReference<Holder> held;
  private final ScheduledExecutorService renewer;

  /** Since when a renewal has been waiting for the store, or null. */
  private final AtomicReference<Instant> renewingSince = new AtomicReference<>();

  /** Why the renewals since the last success failed, or null after a success. */
  private final AtomicReference<String> renewalFailure = new AtomicReference<>();

  private Lease(
      FileSystem fileSystem, Path folder, String purpose, Settings settings, Holder holder) {
    this.fileSystem = fileSystem;
    this.folder = folder;
    this.purpose = purpose;
    this.settings = settings;
    this.held = new AtomicReference<>(holder);
    this.renewer =
        Executors.newSingleThreadScheduledExecutor(
            task -> {
              Thread thread = new Thread(task, "lease-" + holder.name());
              thread.setDaemon(true);
              return thread;
            });
    long every = settings.renewEvery().toMillis();
    renewer.scheduleWithFixedDelay(this::renew, every, every, TimeUnit.MILLISECONDS);
  }

  /**
   * Takes the lease {@code name} for this run, or fails at once with {@link ErrorCode#LEASE_HELD}
   * naming the holder. {@code purpose} says in messages who takes it, e.g. "batch writer".
   */
  public static Lease acquire(
      SparkSession spark,
      LakeConfig config,
      String name,
      String purpose,
      String runId,
      Settings settings) {
    FileSystem fileSystem = fileSystem(spark, config);
    Path folder = folder(config, name);
    return tryAcquire(fileSystem, folder, name, purpose, runId, settings)
        .orElseThrow(() -> held(folder, name, purpose, settings, latest(fileSystem, folder)));
  }

  /**
   * Takes the lease {@code name}, waiting up to {@code wait} while another writer holds it: for
   * writers that may run side by side and only need their commits to take turns.
   */
  public static Lease acquireWaiting(
      SparkSession spark,
      LakeConfig config,
      String name,
      String purpose,
      String runId,
      Settings settings,
      Duration wait) {
    FileSystem fileSystem = fileSystem(spark, config);
    Path folder = folder(config, name);
    Instant deadline = settings.clock().instant().plus(wait);
    while (true) {
      Optional<Lease> lease = tryAcquire(fileSystem, folder, name, purpose, runId, settings);
      if (lease.isPresent()) {
        return lease.get();
      }
      if (settings.clock().instant().isAfter(deadline)) {
        throw held(folder, name, purpose, settings, latest(fileSystem, folder));
      }
      try {
        Thread.sleep(POLL.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new LakeException(
            ErrorCode.INTERNAL_ERROR, "Interrupted while waiting for the " + name + " lease", e);
      }
    }
  }

  /** The fencing token: it grows with every holder. */
  public long token() {
    return held.get().token();
  }

  /**
   * The fencing check before a commit: fails with {@link ErrorCode#LEASE_LOST} if another writer
   * has taken the lease over, or if it expired because this holder could not renew it.
   */
  public void checkHeld(String beforeWhat) {
    Holder holder = held.get();
    Path successor = tokenPath(folder, holder.token() + 1);
    boolean taken;
    try {
      taken = fileSystem.exists(successor);
    } catch (IOException e) {
      throw new LakeException(
          ErrorCode.SERVER_NOT_AVAILABLE,
          "Cannot check the "
              + holder.name()
              + " lease at "
              + folder
              + " before "
              + beforeWhat
              + ": "
              + e.getMessage(),
          e);
    }
    Instant now = settings.clock().instant();
    if (taken) {
      throw lost(
          holder,
          "taken over by another writer at " + successor,
          beforeWhat,
          "it had stalled longer than the lease lives ("
              + settings.timeToLive()
              + "). Nothing after its last commit was written; run it again once the other"
              + " writer has finished.");
    }
    if (!holder.expiresAt().isAfter(now)) {
      throw lost(
          holder, "expired at " + holder.expiresAt() + " without renewal", beforeWhat, why());
    }
  }

  private LakeException lost(Holder holder, String how, String beforeWhat, String why) {
    return new LakeException(
        ErrorCode.LEASE_LOST,
        "This "
            + purpose
            + " lost the "
            + holder.name()
            + " lease (token "
            + holder.token()
            + ", "
            + how
            + ") and stopped before "
            + beforeWhat
            + ": "
            + why);
  }

  /** Why an expired lease was not renewed: the store did not answer, or the process stalled. */
  private String why() {
    String nothingWritten = "Nothing after its last commit was written; ";
    Instant waiting = renewingSince.get();
    String failure = renewalFailure.get();
    if (waiting != null || failure != null) {
      return (waiting != null
              ? "its renewal has waited for the store since " + waiting
              : "renewing it failed since " + failure)
          + " ("
          + folder
          + "; on S3: does S3 answer?). "
          + nothingWritten
          + "run it again once the store answers.";
    }
    return "it had stalled longer than the lease lives ("
        + settings.timeToLive()
        + ", e.g. a long garbage collection pause). "
        + nothingWritten
        + "run it again.";
  }

  /** Marks the lease released, so the next writer takes it at once. */
  @Override
  public void close() {
    renewer.shutdownNow();
    Holder holder = held.get();
    try {
      if (!fileSystem.exists(tokenPath(folder, holder.token() + 1))) {
        write(fileSystem, tokenPath(folder, holder.token()), holder.releasedNow().toBytes());
      }
    } catch (IOException | UncheckedIOException e) {
      LOG.warn(
          "Could not release the {} lease at {} ({}); the next writer takes it when it expires at"
              + " {}",
          holder.name(),
          tokenPath(folder, holder.token()),
          e.getMessage(),
          holder.expiresAt());
    }
  }

  private void renew() {
    Holder holder = held.get();
    renewingSince.set(settings.clock().instant());
    try {
      if (fileSystem.exists(tokenPath(folder, holder.token() + 1))) {
        LOG.warn("The {} lease (token {}) was taken over", holder.name(), holder.token());
        renewer.shutdown();
        return;
      }
      Holder renewed = holder.renewedUntil(settings.clock().instant().plus(settings.timeToLive()));
      write(fileSystem, tokenPath(folder, holder.token()), renewed.toBytes());
      held.set(renewed);
      renewalFailure.set(null);
    } catch (IOException | RuntimeException e) {
      renewalFailure.compareAndSet(
          null, settings.clock().instant() + ": " + StreamingRun.rootMessage(e));
      LOG.warn(
          "Could not renew the {} lease (token {}): {}; it expires at {}",
          holder.name(),
          holder.token(),
          e.getMessage(),
          holder.expiresAt());
    } finally {
      renewingSince.set(null);
    }
  }

  private static Optional<Lease> tryAcquire(
      FileSystem fileSystem,
      Path folder,
      String name,
      String purpose,
      String runId,
      Settings settings) {
    Instant now = settings.clock().instant();
    Optional<Holder> latest = latest(fileSystem, folder);
    if (latest.isPresent() && !latest.get().isFree(now)) {
      return Optional.empty();
    }
    long token = latest.map(holder -> holder.token() + 1).orElse(1L);
    Holder holder =
        new Holder(
            name,
            token,
            runId,
            localHost(),
            ProcessHandle.current().pid(),
            now,
            now.plus(settings.timeToLive()),
            false);
    Path path = tokenPath(folder, token);
    try {
      try (FSDataOutputStream out = ConditionalCreate.create(fileSystem, path)) {
        out.write(holder.toBytes());
      }
    } catch (FileAlreadyExistsException e) {
      return Optional.empty();
    } catch (IOException e) {
      if (ConditionalCreate.isLostRace(e)) {
        return Optional.empty();
      }
      throw new LakeException(
          ErrorCode.SERVER_NOT_AVAILABLE,
          "Cannot create the " + name + " lease at " + path + ": " + e.getMessage(),
          e);
    }
    // A store that ignored the condition would let both writers believe they won: read back.
    Optional<Holder> written = read(fileSystem, path);
    if (written.isEmpty() || !written.get().runId().equals(runId)) {
      return Optional.empty();
    }
    LOG.info("{} took the {} lease, token {}", purpose, name, token);
    return Optional.of(new Lease(fileSystem, folder, purpose, settings, holder));
  }

  /** The object of the highest token, if any. */
  static Optional<Holder> latest(FileSystem fileSystem, Path folder) {
    FileStatus[] objects;
    try {
      objects = fileSystem.listStatus(folder);
    } catch (FileNotFoundException e) {
      return Optional.empty();
    } catch (IOException e) {
      throw new LakeException(
          ErrorCode.SERVER_NOT_AVAILABLE,
          "Cannot list the leases at " + folder + ": " + e.getMessage(),
          e);
    }
    return Arrays.stream(objects)
        .map(status -> status.getPath().getName())
        .filter(objectName -> objectName.matches("\\d{20}"))
        .max(String::compareTo)
        .flatMap(objectName -> read(fileSystem, new Path(folder, objectName)));
  }

  private static Optional<Holder> read(FileSystem fileSystem, Path path) {
    try (InputStream in = fileSystem.open(path)) {
      return Optional.of(Holder.fromBytes(in.readAllBytes()));
    } catch (FileNotFoundException e) {
      return Optional.empty();
    } catch (IOException | RuntimeException e) {
      throw new LakeException(
          ErrorCode.SERVER_NOT_AVAILABLE,
          "Cannot read the lease " + path + ": " + e.getMessage(),
          e);
    }
  }

  private static void write(FileSystem fileSystem, Path path, byte[] bytes) throws IOException {
    try (OutputStream out = fileSystem.create(path, true)) {
      out.write(bytes);
    }
  }

  private static LakeException held(
      Path folder, String name, String purpose, Settings settings, Optional<Holder> holder) {
    String who =
        holder.map(Holder::describe).orElse("a writer that took it at the same moment as this one");
    return new LakeException(
        ErrorCode.LEASE_HELD,
        "Another "
            + purpose
            + " holds the "
            + name
            + " lease ("
            + folder
            + "): "
            + who
            + ". Wait for it to finish and run this again. If that process is gone, its lease is"
            + " taken over once it expires (leases live "
            + settings.timeToLive()
            + " without renewal), or at once on the same host.");
  }

  private static FileSystem fileSystem(SparkSession spark, LakeConfig config) {
    Path root = new Path(config.storage().root());
    try {
      return root.getFileSystem(spark.sparkContext().hadoopConfiguration());
    } catch (IOException e) {
      throw new LakeException(
          ErrorCode.SERVER_NOT_AVAILABLE,
          "Cannot reach the lake storage at " + root + ": " + e.getMessage(),
          e);
    }
  }

  static Path folder(LakeConfig config, String name) {
    return new Path(config.storage().root() + "/_leases/" + name);
  }

  private static Path tokenPath(Path folder, long token) {
    return new Path(folder, String.format(TOKEN_FORMAT, token));
  }

  private static String localHost() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      return "unknown";
    }
  }
}
