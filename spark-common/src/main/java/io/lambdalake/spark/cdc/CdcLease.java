package io.lambdalake.spark.cdc;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.lambdalake.common.config.StorageConfig;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running {@code lake cdc} stream's claim on the source databases it follows: an object under the
 * lake root ({@code _cdc_leases/<query>.json}) with the databases' regular expression and a
 * heartbeat, rewritten every {@link #HEARTBEAT} while the stream runs and deleted when it stops. A
 * snapshot import into a mirror checks it ({@link #holders}) and refuses to write a table CDC is
 * writing: the copy would overwrite the changes CDC applies while it runs. A stream killed without
 * cleaning up leaves a lease that expires after {@link #EXPIRY}.
 */
public final class CdcLease implements AutoCloseable {
  public static final Duration HEARTBEAT = Duration.ofSeconds(10);
  public static final Duration EXPIRY = Duration.ofSeconds(60);
  private static final Logger LOG = LoggerFactory.getLogger(CdcLease.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String FOLDER = "_cdc_leases";

  /** Who holds a lease: the stream, the databases it follows, its host and its last heartbeat. */
  public record Holder(String query, String databases, String host, Instant heartbeat) {
    public Holder {
      requireNonNull(query, "query is null");
      requireNonNull(databases, "databases is null");
      requireNonNull(host, "host is null");
      requireNonNull(heartbeat, "heartbeat is null");
    }

    /** Whether the stream follows the source database. */
    public boolean follows(String database) {
      return Pattern.compile("(?:" + databases + ")").matcher(database).matches();
    }

    @Override
    public String toString() {
      return "lake cdc stream "
          + query
          + " on "
          + host
          + " (--databases '"
          + databases
          + "', last heartbeat "
          + heartbeat
          + ")";
    }
  }

  private final FileSystem fileSystem;
  private final Path path;
  private final String query;
  private final String databases;
  private final String host;
  private final Clock clock;
  private final ScheduledExecutorService timer;

  private CdcLease(
      FileSystem fileSystem, Path path, String query, String databases, String host, Clock clock) {
    this.fileSystem = fileSystem;
    this.path = path;
    this.query = query;
    this.databases = databases;
    this.host = host;
    this.clock = clock;
    this.timer =
        Executors.newSingleThreadScheduledExecutor(
            runnable -> {
              Thread thread = new Thread(runnable, "cdc-lease-" + query);
              thread.setDaemon(true);
              return thread;
            });
  }

  /**
   * Takes the lease of a stream and keeps its heartbeat until {@link #close}.
   *
   * @param query the stream's query name
   * @param databases the regular expression of the source databases it follows
   */
  public static CdcLease hold(
      Configuration hadoop, StorageConfig storage, String query, String databases) {
    requireNonNull(query, "query is null");
    requireNonNull(databases, "databases is null");
    Path path = new Path(folder(storage), query + ".json");
    CdcLease lease =
        new CdcLease(fileSystem(hadoop, path), path, query, databases, host(), Clock.systemUTC());
    lease.beat();
    long period = HEARTBEAT.toMillis();
    lease.timer.scheduleAtFixedRate(
        () -> {
          try {
            lease.beat();
          } catch (RuntimeException e) {
            LOG.warn("Cannot renew the CDC lease {}: {}", path, e.getMessage());
          }
        },
        period,
        period,
        TimeUnit.MILLISECONDS);
    return lease;
  }

  private void beat() {
    ObjectNode node = JSON.createObjectNode();
    node.put("query", query);
    node.put("databases", databases);
    node.put("host", host);
    node.put("heartbeat", clock.instant().toString());
    try (OutputStream out = fileSystem.create(path, true)) {
      out.write(JSON.writeValueAsBytes(node));
    } catch (IOException e) {
      throw new LakeException(
          ErrorCode.SERVER_NOT_AVAILABLE,
          "Cannot write the CDC lease " + path + ": " + e.getMessage(),
          e);
    }
  }

  /** Stops the heartbeat and removes the lease. */
  @Override
  public void close() {
    timer.shutdownNow();
    try {
      timer.awaitTermination(10, TimeUnit.SECONDS);
      fileSystem.delete(path, false);
    } catch (IOException e) {
      LOG.warn(
          "Cannot remove the CDC lease {} ({}); it expires {} after its last heartbeat",
          path,
          e.getMessage(),
          EXPIRY);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * The live leases (heartbeat within {@link #EXPIRY} of now) of streams following the database.
   */
  public static List<Holder> holders(
      Configuration hadoop, StorageConfig storage, String database, Instant now) {
    Path folder = folder(storage);
    FileSystem fileSystem = fileSystem(hadoop, folder);
    List<Holder> holders = new ArrayList<>();
    try {
      if (!fileSystem.exists(folder)) {
        return holders;
      }
      for (FileStatus file : fileSystem.listStatus(folder)) {
        read(fileSystem, file.getPath())
            .filter(holder -> holder.heartbeat().isAfter(now.minus(EXPIRY)))
            .filter(holder -> holder.follows(database))
            .ifPresent(holders::add);
      }
      return holders;
    } catch (IOException e) {
      throw new LakeException(
          ErrorCode.SERVER_NOT_AVAILABLE,
          "Cannot read the CDC leases at " + folder + ": " + e.getMessage(),
          e);
    }
  }

  private static Optional<Holder> read(FileSystem fileSystem, Path file) throws IOException {
    try (InputStream in = fileSystem.open(file)) {
      JsonNode node = JSON.readTree(new String(in.readAllBytes(), UTF_8));
      return Optional.of(
          new Holder(
              node.path("query").asText(),
              node.path("databases").asText(),
              node.path("host").asText(),
              Instant.parse(node.path("heartbeat").asText())));
    } catch (FileNotFoundException e) {
      // Removed between the listing and the read: the stream stopped.
      return Optional.empty();
    } catch (RuntimeException e) {
      LOG.warn("Ignoring the unreadable CDC lease {}: {}", file, e.getMessage());
      return Optional.empty();
    }
  }

  private static Path folder(StorageConfig storage) {
    return new Path(storage.root(), FOLDER);
  }

  private static FileSystem fileSystem(Configuration hadoop, Path path) {
    try {
      return path.getFileSystem(hadoop);
    } catch (IOException e) {
      throw new LakeException(
          ErrorCode.SERVER_NOT_AVAILABLE,
          "Cannot reach the lake's storage at " + path + ": " + e.getMessage(),
          e);
    }
  }

  private static String host() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      return "unknown host";
    }
  }
}
