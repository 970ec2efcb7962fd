package io.lambdalake.serving.api;

import io.lambdalake.common.config.ApiConfig;
import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.common.launch.Endpoint;
import io.lambdalake.common.launch.Job;
import io.lambdalake.common.launch.JobContext;
import io.lambdalake.common.launch.Launcher;
import io.lambdalake.common.launch.Server;
import io.lambdalake.serving.store.StoreDatabase;
import io.lambdalake.serving.store.StoreMetricsSource;
import java.io.PrintWriter;
import java.time.DateTimeException;
import java.time.LocalDate;
import java.time.ZoneId;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code lake api}: the metrics API for merchants; {@code lake api keys create} makes a key. */
@Command(
    name = "api",
    description =
        "The metrics API: per-merchant time series over HTTP (lake.api.host/port), read from the"
            + " point-read store that lake serving-sync keeps (lake.api.source = store) or from the"
            + " serving views in Trino (trino). Runs until stopped.",
    subcommands = {ApiCommand.Keys.class})
public final class ApiCommand implements Job {
  @Spec CommandSpec spec;

  /** Runs the API with its own class path, which has no Spark (the lake tarball's lib/api). */
  public static void main(String[] arguments) {
    System.exit(Launcher.run(new ApiCommand(), arguments));
  }

  @Override
  public List<Endpoint> servers(LakeConfig config) {
    // The store's server is not one of the stack's endpoints: a store that does not answer is a
    // 503 per request, as Trino is.
    return config.api().source() == ApiConfig.Source.TRINO
        ? Server.endpoints(config, Server.TRINO)
        : List.of();
  }

  @Override
  public void run(JobContext context) throws Exception {
    LakeConfig config = context.config();
    ApiConfig api = config.api();
    PrintWriter out = spec.commandLine().getOut();
    MetricsSource source = source(config);
    MetricsApi metrics = new MetricsApi(api, source, System::nanoTime);
    CountDownLatch stopped = new CountDownLatch(1);
    try (ApiServer server = ApiServer.start(api, metrics);
        AutoCloseable ignored = source instanceof AutoCloseable closeable ? closeable : () -> {}) {
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(
                  () -> {
                    server.close();
                    stopped.countDown();
                  },
                  "api-shutdown"));
      out.printf(
          "lake api: listening on %s (%d API keys of %d merchants; %s; cache %ss)%n",
          server.baseUrl(),
          api.keys().size(),
          api.keys().stream().map(ApiConfig.Key::merchant).distinct().count(),
          api.source() == ApiConfig.Source.STORE
              ? "the store "
                  + api.store().database()
                  + " at "
                  + api.store().host()
                  + ":"
                  + api.store().port()
              : "Trino " + config.trino().url(),
          api.cacheTtl().toSeconds());
      out.printf(
          "lake api: try  curl -H 'Authorization: Bearer <key>' '%s/v1/metrics?metric=events&from=%s&to=%s'%n",
          server.baseUrl(), LocalDate.now().minusDays(6), LocalDate.now());
      out.flush();
      stopped.await();
    }
  }

  /** The API's source as {@code lake.api.source} says: the point-read store, or Trino. */
  public static MetricsSource source(LakeConfig config) {
    return switch (config.api().source()) {
      case STORE ->
          new StoreMetricsSource(
              new StoreDatabase(config.api().store()), config.api().queryTimeout());
      case TRINO -> new TrinoMetricsSource(config);
    };
  }

  @Command(
      name = "keys",
      description = "API keys of merchants.",
      subcommands = {Create.class})
  static final class Keys {}

  @Command(
      name = "create",
      description =
          "Make a new random API key for a merchant's tracking IDs. Prints the key once (it is not"
              + " stored anywhere) and the lake.api.keys entry with its SHA-256 to add to conf.")
  static final class Create implements Job {
    private static final Pattern TRACKING_ID = Pattern.compile("[A-Za-z0-9_-]{1,64}");

    @Spec CommandSpec spec;

    @Option(names = "--merchant", required = true, description = "The merchant the key belongs to.")
    String merchant;

    @Option(
        names = "--tracking-id",
        required = true,
        split = ",",
        description = "A tracking ID the key may read (repeat or comma-separate for several).")
    List<String> trackingIds;

    @Option(
        names = "--time-zone",
        defaultValue = "UTC",
        description =
            "The merchant's time zone for days, weeks, months (default: ${DEFAULT-VALUE}).")
    String timeZone;

    @Override
    public void run(JobContext context) {
      if (merchant.isBlank() || merchant.contains("\"") || merchant.contains("\\")) {
        throw new LakeException(
            ErrorCode.INVALID_ARGUMENT, "--merchant must be a name without quotes or backslashes");
      }
      for (String trackingId : trackingIds) {
        if (!TRACKING_ID.matcher(trackingId).matches()) {
          throw new LakeException(
              ErrorCode.INVALID_ARGUMENT,
              "--tracking-id '" + trackingId + "' must be 1 to 64 letters, digits, '-' and '_'");
        }
      }
      try {
        ZoneId.of(timeZone);
      } catch (DateTimeException e) {
        throw new LakeException(
            ErrorCode.INVALID_ARGUMENT,
            "--time-zone '" + timeZone + "' is not an IANA time zone (e.g. Europe/Berlin, UTC)");
      }
      String key = ApiKeys.generate();
      PrintWriter out = spec.commandLine().getOut();
      out.println("API key (shown only now; give it to the merchant, it is not stored):");
      out.println();
      out.println("  " + key);
      out.println();
      out.println("Add this entry to lake.api.keys (conf/application.conf or LAKE_CONFIG_FILE):");
      out.println();
      out.printf(
          "  { key-hash = \"%s\", merchant = \"%s\", tracking-ids = [%s], time-zone = \"%s\" }%n",
          ApiKeys.hash(key),
          merchant,
          trackingIds.stream().map(id -> "\"" + id + "\"").collect(Collectors.joining(", ")),
          timeZone);
      out.flush();
    }
  }
}
