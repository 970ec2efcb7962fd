package io.lambdalake.consumers.match;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.common.launch.Endpoint;
import io.lambdalake.common.launch.Job;
import io.lambdalake.common.launch.JobContext;
import io.lambdalake.common.launch.Server;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code lake match}: batch match-making over the profiles mirror, with time travel. */
@Command(
    name = "match",
    description = {
      "Compute the top K candidates of every active profile of the sample application into"
          + " consumers.recommendations, never outside a profile's hard preferences.",
      "Reads the profiles mirror as of a Delta version or time (reproducible) and recomputes only"
          + " the profiles affected by changes since the last run, found by Change Data Feed."
    })
public final class MatchCommand implements Job {
  @Option(names = "--version", description = "The profiles mirror's Delta version to read.")
  Long version;

  @Option(
      names = "--as-of",
      description =
          "Read the profiles mirror as of this time (ISO-8601, e.g. 2026-11-22T06:00:00Z).")
  String asOf;

  @Option(names = "--full", description = "Recompute every profile, not only the changed ones.")
  boolean full;

  @Option(
      names = "--top-k",
      description = "Recommendations per profile (default: lake.consumers.match.top-k).")
  Integer topK;

  MatchJob.Options options(LakeConfig config) {
    return new MatchJob.Options(
        Optional.ofNullable(version),
        Optional.ofNullable(asOf).map(MatchCommand::parseInstant),
        full ? MatchJob.Recompute.FULL : MatchJob.Recompute.INCREMENTAL,
        topK == null ? config.consumers().match().topK() : topK);
  }

  private static Instant parseInstant(String text) {
    try {
      return Instant.parse(text);
    } catch (DateTimeParseException e) {
      throw new LakeException(
          ErrorCode.INVALID_ARGUMENT,
          "--as-of must be an ISO-8601 instant such as 2026-11-22T06:00:00Z, not " + text);
    }
  }

  @Override
  public void validate(LakeConfig config) {
    options(config);
  }

  @Override
  public List<Endpoint> servers(LakeConfig config) {
    return Server.endpoints(config, Server.S3);
  }

  @Override
  public void run(JobContext context) {
    MatchJob.Result result =
        MatchJob.runWithOwnSession(context.config(), options(context.config()));
    context.count("recomputed_profiles", result.recomputedProfiles());
    context.count("profiles_version", result.profilesVersion());
  }
}
