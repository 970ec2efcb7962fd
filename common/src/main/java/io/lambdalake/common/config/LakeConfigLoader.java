package io.lambdalake.common.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigResolveOptions;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValue;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the configuration, highest precedence first:
 *
 * <ol>
 *   <li>Java system properties ({@code -Dlake.kafka.bootstrap-servers=...});
 *   <li>the file named by {@code -Dlake.config.file}, else {@code spark.lake.config.file} (what
 *       {@code spark-submit --conf spark.lake.config.file=...} passes to the driver in every deploy
 *       mode), else {@code LAKE_CONFIG_FILE}, e.g. a copy of conf/cluster.conf.example: a local
 *       path, a bare name in the working directory (where {@code spark-submit --files lake.conf}
 *       puts it for a driver in cluster deploy mode), or a URL ({@code s3a://bucket/lake.conf})
 *       read by a {@link ConfigFileReader};
 *   <li>{@code conf/application.conf} of the checkout (its folder from {@code LAKE_CONF_DIR}, or
 *       ./conf), whose keys name the environment variables that override them;
 *   <li>the same defaults packaged in the jar, for jobs that run where no checkout is.
 * </ol>
 *
 * <p>A named file that cannot be read fails the load with one line saying what was tried; it never
 * falls back to the defaults.
 */
public final class LakeConfigLoader {
  public static final String CONFIG_FILE_VARIABLE = "LAKE_CONFIG_FILE";
  public static final String CONFIG_FILE_PROPERTY = "lake.config.file";
  public static final String SPARK_CONFIG_FILE_PROPERTY = "spark.lake.config.file";
  public static final String CONF_DIRECTORY_VARIABLE = "LAKE_CONF_DIR";
  private static final Logger LOG = LoggerFactory.getLogger(LakeConfigLoader.class);
  private static final String PACKAGED_DEFAULTS = "io/lambdalake/common/config/application.conf";
  private static final Pattern URL = Pattern.compile("([A-Za-z][A-Za-z0-9+.-]*)://.*");

  private LakeConfigLoader() {}

  /** Loads the configuration from the process's environment and system properties. */
  public static LakeConfig load() {
    return load(System.getenv(), Map.of());
  }

  /**
   * Loads the configuration with the given environment and overrides (keys like {@code
   * lake.kafka.bootstrap-servers}), which take precedence over everything else.
   */
  public static LakeConfig load(Map<String, String> environment, Map<String, String> overrides) {
    return load(environment, overrides, ConfigFileSources.installed());
  }

  /** As {@link #load(Map, Map)}, looking for the named configuration file in these sources. */
  public static LakeConfig load(
      Map<String, String> environment, Map<String, String> overrides, ConfigFileSources sources) {
    Path confDirectory = confDirectory(environment);
    Config layered = defaults(confDirectory);
    Optional<NamedFile> configFile = configFile(environment);
    if (configFile.isPresent()) {
      layered = read(configFile.get(), sources).withFallback(layered);
    } else if (!Files.isRegularFile(confDirectory.resolve("application.conf"))) {
      LOG.warn(
          "No configuration file named ({}, {} or -D{}) and no application.conf in {}: using the"
              + " defaults packaged in the jar, which point at a local stack on 127.0.0.1",
          CONFIG_FILE_VARIABLE,
          SPARK_CONFIG_FILE_PROPERTY,
          CONFIG_FILE_PROPERTY,
          confDirectory);
    }
    Config config =
        ConfigFactory.parseMap(overrides, "overrides")
            .withFallback(ConfigFactory.systemProperties())
            .withFallback(layered);
    try {
      Config resolved =
          config
              .withFallback(environmentConfig(environment))
              .resolve(ConfigResolveOptions.defaults().setUseSystemEnvironment(false));
      return toRecord(resolved.getConfig("lake"), baseDirectory(confDirectory));
    } catch (ConfigException e) {
      throw new LakeException(
          ErrorCode.INVALID_CONFIGURATION, "Invalid configuration: " + shorten(e.getMessage()), e);
    }
  }

  /** The conf/ folder: {@code -Dlake.conf.dir}, else {@code LAKE_CONF_DIR}, else ./conf. */
  public static Path confDirectory(Map<String, String> environment) {
    return Path.of(
            Optional.ofNullable(System.getProperty("lake.conf.dir"))
                .or(() -> Optional.ofNullable(environment.get(CONF_DIRECTORY_VARIABLE)))
                .orElse("conf"))
        .toAbsolutePath()
        .normalize();
  }

  /** The configuration file's name and what named it, if anything did. */
  private static Optional<NamedFile> configFile(Map<String, String> environment) {
    return property(CONFIG_FILE_PROPERTY)
        .map(name -> new NamedFile(name, "-D" + CONFIG_FILE_PROPERTY))
        .or(
            () ->
                property(SPARK_CONFIG_FILE_PROPERTY)
                    .map(name -> new NamedFile(name, SPARK_CONFIG_FILE_PROPERTY)))
        .or(
            () ->
                Optional.ofNullable(environment.get(CONFIG_FILE_VARIABLE))
                    .filter(name -> !name.isBlank())
                    .map(name -> new NamedFile(name, CONFIG_FILE_VARIABLE)));
  }

  private static Optional<String> property(String name) {
    return Optional.ofNullable(System.getProperty(name)).filter(value -> !value.isBlank());
  }

  private static Config read(NamedFile file, ConfigFileSources sources) {
    Matcher url = URL.matcher(file.name());
    if (!url.matches()) {
      return readLocal(file, sources.workingDirectory());
    }
    return readUrl(file, url.group(1).toLowerCase(Locale.ROOT), sources);
  }

  /** A {@code file:} URL as a local path; any other through the reader of its scheme. */
  private static Config readUrl(NamedFile file, String scheme, ConfigFileSources sources) {
    URI location;
    Optional<Path> localPath;
    try {
      location = new URI(file.name());
      localPath = scheme.equals("file") ? Optional.of(Path.of(location)) : Optional.empty();
    } catch (URISyntaxException | IllegalArgumentException e) {
      throw new LakeException(
          ErrorCode.INVALID_CONFIGURATION,
          "Configuration file " + file.describe() + " is not a valid URL: " + e.getMessage(),
          e);
    }
    if (localPath.isPresent()) {
      return readLocal(
          new NamedFile(localPath.get().toString(), file.namedBy()), sources.workingDirectory());
    }
    ConfigFileReader reader =
        sources
            .readerFor(scheme)
            .orElseThrow(
                () ->
                    new LakeException(
                        ErrorCode.INVALID_CONFIGURATION,
                        "Configuration file "
                            + file.describe()
                            + " cannot be read: nothing on the class path reads "
                            + scheme
                            + ":// URLs (spark-common reads s3a:// and s3://; or ship the file"
                            + " with spark-submit --files and name it by its file name)"));
    String text;
    try {
      text = reader.read(location);
    } catch (IOException | RuntimeException e) {
      throw new LakeException(
          ErrorCode.INVALID_CONFIGURATION,
          "Cannot read configuration file "
              + file.describe()
              + ": "
              + e.getClass().getSimpleName()
              + ": "
              + e.getMessage(),
          e);
    }
    try {
      return ConfigFactory.parseString(
          text, ConfigParseOptions.defaults().setOriginDescription(file.name()));
    } catch (ConfigException e) {
      throw new LakeException(
          ErrorCode.INVALID_CONFIGURATION,
          "Cannot read configuration file " + file.describe() + ": " + e.getMessage(),
          e);
    }
  }

  /** A path, relative ones in the working directory (a bare name shipped with --files). */
  private static Config readLocal(NamedFile file, Path workingDirectory) {
    Path path = workingDirectory.resolve(file.name()).normalize();
    if (Files.isRegularFile(path)) {
      return parse(path);
    }
    if (Path.of(file.name()).isAbsolute()) {
      throw new LakeException(
          ErrorCode.INVALID_CONFIGURATION,
          "Configuration file " + path + " named by " + file.namedBy() + " does not exist");
    }
    throw new LakeException(
        ErrorCode.INVALID_CONFIGURATION,
        "Configuration file "
            + file.describe()
            + " does not exist in the working directory "
            + workingDirectory
            + " (tried "
            + path
            + "; spark-submit --files puts a file there for a driver in cluster deploy mode;"
            + " in client deploy mode name the local file)");
  }

  /** A configuration file's name as given, and the variable or property that gave it. */
  private record NamedFile(String name, String namedBy) {
    String describe() {
      return name + " named by " + namedBy;
    }
  }

  private static Config defaults(Path confDirectory) {
    Path file = confDirectory.resolve("application.conf");
    if (Files.isRegularFile(file)) {
      return parse(file);
    }
    return ConfigFactory.parseResources(
        PACKAGED_DEFAULTS, ConfigParseOptions.defaults().setAllowMissing(false));
  }

  private static Config parse(Path file) {
    try {
      return ConfigFactory.parseFile(
          file.toFile(), ConfigParseOptions.defaults().setAllowMissing(false));
    } catch (ConfigException e) {
      throw new LakeException(
          ErrorCode.INVALID_CONFIGURATION,
          "Cannot read configuration file " + file.toAbsolutePath() + ": " + e.getMessage(),
          e);
    }
  }

  /** The environment as a config, so that {@code ${?LAKE_...}} substitutions see the given one. */
  private static Config environmentConfig(Map<String, String> environment) {
    Map<String, String> variables = new LinkedHashMap<>();
    environment.forEach(
        (name, value) -> {
          // Only simple names can be config paths; the lake's variables all are.
          if (name.matches("[A-Za-z_][A-Za-z0-9_]*")) {
            variables.put(name, value);
          }
        });
    return ConfigFactory.parseMap(variables, "environment");
  }

  private static Path baseDirectory(Path confDirectory) {
    Path absolute = confDirectory.toAbsolutePath().normalize();
    return absolute.getParent() == null ? absolute : absolute.getParent();
  }

  private static LakeConfig toRecord(Config lake, Path baseDirectory) {
    Config s3 = lake.getConfig("s3");
    Config storage = lake.getConfig("storage");
    Config topics = lake.getConfig("topics");
    Config trino = lake.getConfig("trino");
    Config mariaDb = lake.getConfig("mariadb");
    Config maxwell = lake.getConfig("maxwell");
    Config spark = lake.getConfig("spark");
    Config stack = lake.getConfig("stack");
    return new LakeConfig(
        baseDirectory.resolve(lake.getString("local-dir")).normalize(),
        new KafkaConfig(
            lake.getString("kafka.bootstrap-servers"),
            stringMap(lake.getConfig("kafka.client-properties"))),
        new S3Config(
            optional(s3.getString("endpoint")),
            s3.getString("region"),
            optional(s3.getString("access-key")),
            optional(s3.getString("secret-key")),
            s3.getBoolean("path-style-access"),
            s3.getString("bucket")),
        new StorageConfig(storage.getString("root"), storage.getString("checkpoints")),
        new TopicsConfig(
            topics.getString("events-prefix"),
            topics.getString("events-other"),
            topics.getString("events-quarantine"),
            topics.getString("cdc-maxwell-prefix"),
            topics.getString("cdc-mongo-prefix"),
            topics.getInt("partitions"),
            topics.getInt("replication-factor")),
        new TrinoConfig(
            trino.getString("url"),
            trino.getString("user"),
            trino.getString("catalog"),
            trino.getString("schema-prefix")),
        new MariaDbConfig(
            mariaDb.getString("host"),
            mariaDb.getInt("port"),
            mariaDb.getString("user"),
            mariaDb.getString("password"),
            mariaDb.getInt("server-id")),
        new MaxwellConfig(
            maxwell.getString("user"),
            maxwell.getString("password"),
            maxwell.getInt("replica-server-id"),
            maxwell.getString("client-id"),
            maxwell.getString("schema-database"),
            maxwell.getInt("ddl-relay-server-id")),
        new SparkConfig(
            spark.getString("master"),
            spark.getInt("shuffle-partitions"),
            spark.getString("driver-memory")),
        new StackConfig(
            stack.getInt("kafka-port"),
            stack.getInt("kafka-controller-port"),
            stack.getInt("s3proxy-port"),
            stack.getInt("trino-port"),
            stack.getString("trino-max-heap"),
            optional(stack.getString("trino-java-home")),
            stack.getInt("mariadb-port"),
            stack.getInt("metastore-port"),
            stack.getString("metastore-database"),
            stack.getDuration("start-timeout"),
            new SparkClusterConfig(
                stack.getInt("spark-master-port"),
                stack.getInt("spark-master-web-ui-port"),
                stack.getInt("spark-worker-port"),
                stack.getInt("spark-worker-web-ui-port"),
                stack.getInt("spark-worker-cores"),
                stack.getString("spark-worker-memory"))),
        collector(lake.getConfig("collector")),
        api(lake.getConfig("api")),
        airflow(lake.getConfig("airflow")),
        cdc(lake.getConfig("cdc")),
        consumers(lake.getConfig("consumers")),
        new SpeedConfig(lake.getInt("speed.compact-every-batches")),
        new LaunchConfig(
            baseDirectory.resolve(lake.getString("runs.directory")).normalize(),
            lake.getDuration("preflight.timeout")),
        new DeltaConfig(lake.getBoolean("delta.conditional-commits")),
        CatalogConfig.of(lake.getString("catalog.type"), lake.getString("catalog.metastore-uri")));
  }

  private static ConsumersConfig consumers(Config consumers) {
    Config spam = consumers.getConfig("spam");
    return new ConsumersConfig(
        consumers.getString("sample-database"),
        new ConsumersConfig.Spam(
            spam.getString("topic"),
            spam.getDuration("window"),
            spam.getInt("max-interests"),
            spam.getInt("max-messages"),
            spam.getInt("duplicate-recipients"),
            spam.getDuration("new-account-age"),
            spam.getInt("new-account-burst"),
            spam.getDuration("reports-window"),
            spam.getInt("max-reports"),
            spam.getDuration("trigger")),
        new ConsumersConfig.Match(consumers.getInt("match.top-k")));
  }

  private static AirflowConfig airflow(Config airflow) {
    return new AirflowConfig(
        airflow.getString("url"),
        airflow.getString("user"),
        airflow.getString("password"),
        airflow.getString("backfill-dag"),
        airflow.getString("nightly-dag"),
        airflow.getString("reconcile-dag"),
        airflow.getDuration("poll-interval"),
        airflow.getDuration("request-timeout"),
        airflow.getDuration("outage-wait"),
        optional(airflow.getString("local-home")));
  }

  private static CdcConfig cdc(Config cdc) {
    Map<String, Map<String, String>> promoted = new LinkedHashMap<>();
    Config collections = cdc.getConfig("mongo.promoted-fields");
    for (String collection : collections.root().keySet()) {
      Config fields = collections.getConfig(ConfigUtil.joinPath(collection));
      Map<String, String> types = new LinkedHashMap<>();
      // HOCON keeps no key order: promoted columns come in name order, the same on every run.
      for (String field : new TreeSet<>(fields.root().keySet())) {
        types.put(field, fields.getString(ConfigUtil.joinPath(field)));
      }
      promoted.put(collection, types);
    }
    return new CdcConfig(promoted, cdc.getInt("compact-every-batches"));
  }

  private static CollectorConfig collector(Config collector) {
    Config limits = collector.getConfig("limits");
    Config producer = collector.getConfig("producer");
    Map<String, CollectorConfig.TrackingId> trackingIds = new LinkedHashMap<>();
    Config registry = collector.getConfig("tracking-ids");
    for (String trackingId : registry.root().keySet()) {
      Config registration = registry.getConfig(ConfigUtil.joinPath(trackingId));
      trackingIds.put(
          trackingId,
          new CollectorConfig.TrackingId(
              registration.getString("merchant"),
              registration.hasPath("rate-limit")
                  ? Optional.of(rateLimit(registration.getConfig("rate-limit")))
                  : Optional.empty()));
    }
    Map<String, String> routes = new LinkedHashMap<>();
    Config routeConfig = collector.getConfig("routes");
    for (String eventName : routeConfig.root().keySet()) {
      routes.put(eventName, routeConfig.getString(ConfigUtil.joinPath(eventName)));
    }
    return new CollectorConfig(
        collector.getString("host"),
        collector.getInt("port"),
        collector.getInt("io-threads"),
        collector.getBoolean("trust-forwarded-for"),
        collector.getStringList("cors-allowed-origins"),
        new CollectorConfig.Limits(
            intBytes(limits, "lake.collector.limits", "max-request-size"),
            intBytes(limits, "lake.collector.limits", "max-event-size"),
            limits.getInt("max-batch-events"),
            limits.getInt("max-params"),
            limits.getInt("max-param-key-length"),
            limits.getInt("max-param-value-length"),
            limits.getInt("max-id-length"),
            limits.getInt("max-text-length"),
            intBytes(limits, "lake.collector.limits", "max-header-size"),
            limits.getInt("max-in-flight-requests"),
            limits.getDuration("max-event-age"),
            limits.getDuration("max-clock-skew"),
            limits.getInt("max-connections"),
            limits.getDuration("request-timeout"),
            limits.getBytes("max-buffered-bodies")),
        rateLimit(collector.getConfig("rate-limit")),
        rateLimit(collector.getConfig("client-rate-limit")),
        new CollectorConfig.QuarantineBudget(
            rateLimit(collector.getConfig("quarantine-budget.per-client")),
            rateLimit(collector.getConfig("quarantine-budget.total"))),
        trackingIds,
        routes,
        new CollectorConfig.Producer(
            producer.getDuration("delivery-timeout"),
            producer.getDuration("request-timeout"),
            producer.getDuration("max-block"),
            producer.getDuration("linger"),
            intBytes(producer, "lake.collector.producer", "batch-size"),
            producer.getBytes("buffer-memory")),
        collector.getDuration("retry-after"),
        collector.getDuration("idle-timeout"),
        collector.getDuration("drain-timeout"),
        collector.getDuration("readiness-interval"),
        collector.getBoolean("create-topics"));
  }

  private static ApiConfig api(Config api) {
    Config views = api.getConfig("views");
    Config store = api.getConfig("store");
    List<ApiConfig.Key> keys = new ArrayList<>();
    for (Config key : api.getConfigList("keys")) {
      keys.add(
          new ApiConfig.Key(
              key.getString("key-hash"),
              key.getString("merchant"),
              key.getStringList("tracking-ids"),
              ApiConfig.Key.timeZone(
                  key.hasPath("time-zone") ? key.getString("time-zone") : "UTC")));
    }
    return new ApiConfig(
        api.getString("host"),
        api.getInt("port"),
        api.getInt("threads"),
        api.getDuration("cache.ttl"),
        api.getLong("cache.max-entries"),
        new ApiConfig.RateLimit(
            api.getDouble("rate-limit.requests-per-second"), api.getInt("rate-limit.burst")),
        api.getInt("limits.max-points"),
        api.getDuration("limits.max-range"),
        api.getInt("limits.max-rows"),
        new ApiConfig.Views(
            views.getString("events-hourly"),
            views.getString("pages-hourly"),
            views.getString("sessions-daily"),
            views.getString("traffic-daily")),
        keys,
        api.getDuration("idle-timeout"),
        api.getInt("max-queued-queries"),
        api.getDuration("query-timeout"),
        ApiConfig.Source.fromWireName(api.getString("source")),
        new ApiConfig.Store(
            store.getString("host"),
            store.getInt("port"),
            store.getString("database"),
            store.getString("user"),
            store.getString("password"),
            store.getInt("connections"),
            store.getDuration("sync-interval"),
            store.getInt("batch-rows"),
            store.getBoolean("write-binlog")));
  }

  private static CollectorConfig.RateLimit rateLimit(Config rateLimit) {
    return new CollectorConfig.RateLimit(
        rateLimit.getDouble("events-per-second"), rateLimit.getInt("burst"));
  }

  /** A size in bytes ("1 MiB") that must fit an int, as buffer sizes do. */
  private static int intBytes(Config config, String prefix, String key) {
    long bytes = config.getBytes(key);
    if (bytes > Integer.MAX_VALUE) {
      throw Checks.invalid(prefix + "." + key, bytes, "below 2 GiB");
    }
    return (int) bytes;
  }

  /** Typesafe Config's messages can quote the whole resolve source, environment and all. */
  private static String shorten(String message) {
    return message.length() <= 300 ? message : message.substring(0, 300) + "...";
  }

  private static Optional<String> optional(String value) {
    return value.isBlank() ? Optional.empty() : Optional.of(value);
  }

  private static Map<String, String> stringMap(Config config) {
    Map<String, String> map = new LinkedHashMap<>();
    for (Map.Entry<String, ConfigValue> entry : config.entrySet()) {
      // Keys such as "security.protocol" come quoted; a property name is the joined path.
      map.put(
          String.join(".", ConfigUtil.splitPath(entry.getKey())),
          String.valueOf(entry.getValue().unwrapped()));
    }
    return map;
  }
}
