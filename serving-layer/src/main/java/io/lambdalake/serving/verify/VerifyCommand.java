package io.lambdalake.serving.verify;

import io.lambdalake.common.config.ApiConfig;
import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.common.launch.Endpoint;
import io.lambdalake.common.launch.Job;
import io.lambdalake.common.launch.JobContext;
import io.lambdalake.common.launch.Server;
import io.lambdalake.serving.store.StoreDatabase;
import io.lambdalake.spark.views.HourlyViews.BotPolicy;
import java.io.PrintWriter;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code lake verify --from T1 --to T2}: recomputes the hourly metrics of the range from {@code
 * raw.events} and compares them with the serving views; prints each difference, then a summary, and
 * fails with exit code 3 (quality check failed) when anything differs.
 */
@Command(
    name = "verify",
    description =
        "Recompute events, unique users and values per tracking ID, UTC hour and event name (and"
            + " page views per page) straight from raw.events in Trino, and compare them with"
            + " serving.events_hourly and serving.pages_hourly. Prints every difference (tracking"
            + " ID, hour, metric, expected, actual) and a summary; exits 3 (quality check"
            + " failed) if anything differs.")
public final class VerifyCommand implements Job {
  @Spec CommandSpec spec;

  @Option(
      names = "--from",
      required = true,
      paramLabel = "T1",
      description = "First hour, UTC: 2026-11-20 (midnight) or 2026-11-20T05:00Z.")
  String from;

  @Option(
      names = "--to",
      required = true,
      paramLabel = "T2",
      description = "End of the range, exclusive, UTC: 2026-11-21 or 2026-11-21T05:00Z.")
  String to;

  @Option(
      names = "--include-bots",
      description = "Count events flagged as bots (for views computed with --include-bots).")
  boolean includeBots;

  @Option(
      names = "--chunk-hours",
      defaultValue = "168",
      description =
          "Hours compared per query; progress is printed per chunk (default: ${DEFAULT-VALUE}).")
  int chunkHours;

  @Option(
      names = "--max-differences",
      defaultValue = "1000",
      description =
          "Print at most this many differences; all are counted (default: ${DEFAULT-VALUE}).")
  long maxDifferences;

  @Option(
      names = "--store",
      description =
          "Also compare the API's point-read store (lake.api.store) with the serving views; on by"
              + " default when lake.api.source = store.")
  boolean store;

  @Override
  public void validate(LakeConfig config) {
    options();
  }

  @Override
  public List<Endpoint> servers(LakeConfig config) {
    return Server.endpoints(config, Server.TRINO);
  }

  private ServingVerifier.Options options() {
    if (chunkHours < 1) {
      throw new LakeException(
          ErrorCode.INVALID_ARGUMENT, "--chunk-hours must be positive, but is " + chunkHours);
    }
    if (maxDifferences < 0) {
      throw new LakeException(
          ErrorCode.INVALID_ARGUMENT, "--max-differences must not be negative: " + maxDifferences);
    }
    return new ServingVerifier.Options(
        parseTime(from, "--from"),
        parseTime(to, "--to"),
        includeBots ? BotPolicy.INCLUDE_BOTS : BotPolicy.EXCLUDE_BOTS,
        Duration.ofHours(chunkHours));
  }

  @Override
  public void run(JobContext context) {
    ServingVerifier.Options options = options();
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    long[] printed = {0};
    long[] differences = {0};
    ServingVerifier.Summary summary =
        new ServingVerifier(context.config())
            .verify(
                options,
                difference -> {
                  differences[0]++;
                  if (printed[0] < maxDifferences) {
                    out.println(difference.toLine());
                    printed[0]++;
                  }
                },
                err);
    if (printed[0] < differences[0]) {
      out.printf("... and %d more difference(s)%n", differences[0] - printed[0]);
    }
    out.printf(
        "verify %s..%s: serving.events_hourly %d keys, %d differing; serving.pages_hourly %d keys,"
            + " %d differing: %s%n",
        options.from(),
        options.to(),
        summary.eventKeys(),
        summary.eventKeysDiffering(),
        summary.pageKeys(),
        summary.pageKeysDiffering(),
        summary.differingKeys() == 0
            ? "the serving views equal raw.events"
            : differences[0] + " difference(s)");
    out.flush();
    context.count("event_keys", summary.eventKeys());
    context.count("page_keys", summary.pageKeys());
    long storeDiffering = 0;
    if (store || context.config().api().source() == ApiConfig.Source.STORE) {
      try (StoreDatabase database = new StoreDatabase(context.config().api().store())) {
        StoreVerifier.Summary storeSummary =
            new StoreVerifier(context.config(), database)
                .verify(
                    options.from(),
                    options.to(),
                    difference -> {
                      differences[0]++;
                      if (printed[0] < maxDifferences) {
                        out.println(difference.toLine());
                        printed[0]++;
                      }
                    },
                    err);
        storeDiffering = storeSummary.differingKeys();
        out.printf(
            "verify %s..%s: store %s %d keys, %d differing: %s%n",
            options.from(),
            options.to(),
            database.config().database(),
            storeSummary.keys(),
            storeDiffering,
            storeDiffering == 0
                ? "the store equals the serving views"
                : "the store differs from the serving views (run lake serving-sync --once and"
                    + " verify again; a difference that stays is a bug)");
        out.flush();
        context.count("store_keys", storeSummary.keys());
      }
    }
    context.count("differences", differences[0]);
    if (storeDiffering != 0 && summary.differingKeys() == 0) {
      throw new LakeException(
          ErrorCode.QUALITY_CHECK_FAILED,
          storeDiffering
              + " key(s) differ between the serving store and the serving views from "
              + options.from()
              + " to "
              + options.to()
              + ", listed above: run lake serving-sync --once, then verify again");
    }
    if (summary.differingKeys() != 0) {
      throw new LakeException(
          ErrorCode.QUALITY_CHECK_FAILED,
          differences[0]
              + " difference(s) between the serving views and raw.events from "
              + options.from()
              + " to "
              + options.to()
              + ", listed above: recompute the range with lake batch or lake backfill");
    }
  }

  /** A date (its midnight, UTC) or a time with or without offset (UTC when without). */
  static Instant parseTime(String text, String option) {
    String value = text.strip();
    try {
      if (value.length() == 10) {
        return LocalDate.parse(value).atStartOfDay(ZoneOffset.UTC).toInstant();
      }
      if (value.endsWith("Z") || value.matches(".*[+-]\\d\\d:?\\d\\d$")) {
        return OffsetDateTime.parse(value).toInstant();
      }
      return LocalDateTime.parse(value).toInstant(ZoneOffset.UTC);
    } catch (DateTimeException e) {
      throw new LakeException(
          ErrorCode.INVALID_ARGUMENT,
          option
              + " '"
              + text
              + "' is neither a date (2026-11-20) nor a time (2026-11-20T05:00Z, UTC when"
              + " without offset)",
          e);
    }
  }
}
