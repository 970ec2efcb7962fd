package io.lambdalake.common.config;

import static io.lambdalake.common.config.Checks.checkNotBlank;
import static io.lambdalake.common.config.Checks.checkPort;
import static io.lambdalake.common.config.Checks.checkPositive;
import static java.util.Objects.requireNonNull;

import java.time.DateTimeException;
import java.time.Duration;
import java.time.ZoneId;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The metrics API ({@code lake api}): where it listens, the views it reads in Trino, its cache and
 * limits, and the API keys of the merchants.
 *
 * @param host the address to bind
 * @param port the port; 0 picks a free one (tests)
 * @param threads request threads (each may wait on one Trino query)
 * @param cacheTtl how long an answer is served from the cache: the speed layer's freshness, as
 *     newer data cannot show up sooner than the speed views' next micro-batch
 * @param cacheMaxEntries answers kept at most, over all merchants
 * @param rateLimit requests per API key
 * @param maxPoints the most periods one series may have
 * @param maxRange the longest from-to range of any request
 * @param maxRows the most rows of a top-pages or breakdowns answer
 * @param views the serving views the API reads
 * @param keys the API keys, stored as hashes only
 * @param idleTimeout how long a connection without a request in progress stays open
 * @param maxQueuedQueries queries waiting for a request thread, beyond which the API answers 503
 * @param queryTimeout how long a Trino query may take before the API answers 504 (and Trino cancels
 *     it)
 * @param source where the hourly series come from: the point-read store or Trino's views
 * @param store the point-read store {@code lake serving-sync} keeps and the API reads
 */
public record ApiConfig(
    String host,
    int port,
    int threads,
    Duration cacheTtl,
    long cacheMaxEntries,
    RateLimit rateLimit,
    int maxPoints,
    Duration maxRange,
    int maxRows,
    Views views,
    List<Key> keys,
    Duration idleTimeout,
    int maxQueuedQueries,
    Duration queryTimeout,
    Source source,
    Store store) {

  public ApiConfig {
    checkNotBlank(host, "lake.api.host");
    if (port != 0) {
      checkPort(port, "lake.api.port");
    }
    checkPositive(threads, "lake.api.threads");
    checkPositiveDuration(cacheTtl, "lake.api.cache.ttl");
    if (cacheMaxEntries <= 0) {
      throw Checks.invalid("lake.api.cache.max-entries", cacheMaxEntries, "a positive number");
    }
    requireNonNull(rateLimit, "rateLimit is null");
    checkPositive(maxPoints, "lake.api.limits.max-points");
    checkPositiveDuration(maxRange, "lake.api.limits.max-range");
    checkPositive(maxRows, "lake.api.limits.max-rows");
    requireNonNull(views, "views is null");
    keys = List.copyOf(keys);
    Set<String> hashes = new HashSet<>();
    for (Key key : keys) {
      if (!hashes.add(key.keyHash())) {
        throw Checks.invalid("lake.api.keys", key.keyHash(), "a list without repeated key hashes");
      }
    }
    checkPositiveDuration(idleTimeout, "lake.api.idle-timeout");
    checkPositive(maxQueuedQueries, "lake.api.max-queued-queries");
    checkPositiveDuration(queryTimeout, "lake.api.query-timeout");
    requireNonNull(source, "source is null");
    requireNonNull(store, "store is null");
  }

  /** This section with another source and store, e.g. for a benchmark that measures both paths. */
  public ApiConfig withSource(Source otherSource, Store otherStore) {
    return new ApiConfig(
        host,
        port,
        threads,
        cacheTtl,
        cacheMaxEntries,
        rateLimit,
        maxPoints,
        maxRange,
        maxRows,
        views,
        keys,
        idleTimeout,
        maxQueuedQueries,
        queryTimeout,
        otherSource,
        otherStore);
  }

  /** Where the API reads a merchant's series ({@code lake.api.source}). */
  public enum Source {
    /** The point-read store that {@code lake serving-sync} keeps from the batch and speed views. */
    STORE("store"),
    /** The serving views in Trino. */
    TRINO("trino");

    private final String wireName;

    Source(String wireName) {
      this.wireName = wireName;
    }

    public String wireName() {
      return wireName;
    }

    /** The source named in configuration, with an error that names the key. */
    public static Source fromWireName(String name) {
      for (Source source : values()) {
        if (source.wireName.equals(name)) {
          return source;
        }
      }
      throw Checks.invalid("lake.api.source", name, "store or trino");
    }
  }

  /**
   * The point-read store: a MySQL-compatible database of its own (locally a database in the lake's
   * MariaDB) holding the batch and speed hourly views, the coverage and the sync's positions.
   *
   * @param host the database server's host
   * @param port its port
   * @param database the database (schema) of the store, created by the sync if missing
   * @param user the account the sync and the API use
   * @param password its password
   * @param connections connections the API keeps open to the store
   * @param syncInterval how long the continuous sync waits between rounds that found nothing new
   * @param batchRows rows per JDBC batch while the sync applies changes
   * @param writeBinlog whether the sync's writes go to the server's binlog; off (the default) keeps
   *     a binlog reader of the same server (Maxwell) from publishing the store's rows as changes
   */
  public record Store(
      String host,
      int port,
      String database,
      String user,
      String password,
      int connections,
      Duration syncInterval,
      int batchRows,
      boolean writeBinlog) {
    private static final Pattern DATABASE = Pattern.compile("[a-z_][a-z0-9_]{0,63}");

    public Store {
      checkNotBlank(host, "lake.api.store.host");
      checkPort(port, "lake.api.store.port");
      checkNotBlank(database, "lake.api.store.database");
      if (!DATABASE.matcher(database).matches()) {
        throw Checks.invalid(
            "lake.api.store.database", database, "lower case letters, digits and '_'");
      }
      checkNotBlank(user, "lake.api.store.user");
      requireNonNull(password, "lake.api.store.password is null");
      checkPositive(connections, "lake.api.store.connections");
      checkPositiveDuration(syncInterval, "lake.api.store.sync-interval");
      checkPositive(batchRows, "lake.api.store.batch-rows");
    }

    /** The JDBC URL of the store's database. */
    public String jdbcUrl() {
      return "jdbc:mariadb://" + host + ":" + port + "/" + database;
    }

    /** The JDBC URL of the server, no database selected (to create the store's database). */
    public String serverJdbcUrl() {
      return "jdbc:mariadb://" + host + ":" + port + "/";
    }

    /** Masks the password, so the configuration can be printed. */
    @Override
    public String toString() {
      return "Store[host=%s, port=%d, database=%s, user=%s, connections=%d, syncInterval=%s,"
              .formatted(host, port, database, user, connections, syncInterval)
          + " batchRows=%d, writeBinlog=%s]".formatted(batchRows, writeBinlog);
    }
  }

  private static void checkPositiveDuration(Duration duration, String key) {
    requireNonNull(duration, key + " is null");
    if (duration.isNegative() || duration.isZero()) {
      throw Checks.invalid(key, duration, "a positive duration");
    }
  }

  /** A token bucket per API key: a sustained rate of requests per second and a burst. */
  public record RateLimit(double requestsPerSecond, int burst) {
    public RateLimit {
      if (!(requestsPerSecond > 0) || Double.isInfinite(requestsPerSecond)) {
        throw Checks.invalid(
            "lake.api.rate-limit.requests-per-second", requestsPerSecond, "a positive number");
      }
      checkPositive(burst, "lake.api.rate-limit.burst");
    }
  }

  /**
   * The serving views the API reads, as {@code schema.view} in the lake's catalog. They come from
   * configuration and are checked to be plain identifiers, as they go into SQL text.
   *
   * @param eventsHourly hourly events per tracking ID, hour and event name (batch and speed merged)
   * @param pagesHourly hourly page views per tracking ID, hour and page
   * @param sessionsDaily daily sessions and revenue per tracking ID (batch only, UTC days)
   * @param trafficDaily daily sessions per traffic source and device (batch only, UTC days)
   */
  public record Views(
      String eventsHourly, String pagesHourly, String sessionsDaily, String trafficDaily) {
    private static final Pattern QUALIFIED_NAME =
        Pattern.compile("[a-z_][a-z0-9_]{0,127}\\.[a-z_][a-z0-9_]{0,127}");

    public Views {
      checkView(eventsHourly, "lake.api.views.events-hourly");
      checkView(pagesHourly, "lake.api.views.pages-hourly");
      checkView(sessionsDaily, "lake.api.views.sessions-daily");
      checkView(trafficDaily, "lake.api.views.traffic-daily");
    }

    private static void checkView(String view, String key) {
      checkNotBlank(view, key);
      if (!QUALIFIED_NAME.matcher(view).matches()) {
        throw Checks.invalid(
            key, view, "schema.view in lower case letters, digits and '_' (e.g. serving.x)");
      }
    }
  }

  /**
   * One API key: the SHA-256 of the key (never the key), the merchant it belongs to, the tracking
   * IDs it may read and the time zone its days, weeks and months follow unless a request names
   * another.
   */
  public record Key(String keyHash, String merchant, List<String> trackingIds, ZoneId timeZone) {
    private static final Pattern HASH = Pattern.compile("sha256:[0-9a-f]{64}");
    private static final Pattern TRACKING_ID = Pattern.compile("[A-Za-z0-9_-]{1,64}");

    public Key {
      checkNotBlank(keyHash, "lake.api.keys[].key-hash");
      if (!HASH.matcher(keyHash).matches()) {
        throw Checks.invalid(
            "lake.api.keys[].key-hash",
            keyHash,
            "sha256: and 64 lower-case hex digits (`lake api keys create` prints it)");
      }
      checkNotBlank(merchant, "lake.api.keys[].merchant");
      trackingIds = List.copyOf(trackingIds);
      if (trackingIds.isEmpty()) {
        throw Checks.invalid("lake.api.keys[].tracking-ids", "[]", "at least one tracking ID");
      }
      for (String trackingId : trackingIds) {
        if (!TRACKING_ID.matcher(trackingId).matches()) {
          throw Checks.invalid(
              "lake.api.keys[].tracking-ids",
              trackingId,
              "made of 1 to 64 letters, digits, '-' and '_'");
        }
      }
      requireNonNull(timeZone, "timeZone is null");
    }

    /** Masks the hash, so the configuration can be printed. */
    @Override
    public String toString() {
      return "Key[keyHash="
          + keyHash.substring(0, 15)
          + "..., merchant="
          + merchant
          + ", trackingIds="
          + trackingIds
          + ", timeZone="
          + timeZone
          + "]";
    }

    /** A time zone from configuration, with an error that names the key. */
    public static ZoneId timeZone(String zone) {
      try {
        return ZoneId.of(zone);
      } catch (DateTimeException e) {
        throw Checks.invalid("lake.api.keys[].time-zone", zone, "an IANA time zone, e.g. UTC");
      }
    }
  }
}
