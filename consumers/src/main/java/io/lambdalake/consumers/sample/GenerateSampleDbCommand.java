package io.lambdalake.consumers.sample;

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
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code lake generate-sample-db}: the sample matrimonial database with seeded activity. */
@Command(
    name = "generate-sample-db",
    mixinStandardHelpOptions = true,
    description = {
      "Create the sample matrimonial database in MariaDB (lake.consumers.sample-database) and fill"
          + " it with ordinary activity: profiles, interests, messages, logins, reports.",
      "Its changes reach the lake through Maxwell and lake cdc as mirror.<database>__<table>."
    })
public final class GenerateSampleDbCommand implements Job {
  @Option(
      names = "--database",
      description = "The database to create (default: lake.consumers.sample-database).")
  String database;

  @Option(
      names = "--profiles",
      defaultValue = "2000",
      description = "Profiles (default: ${DEFAULT-VALUE}).")
  int profiles;

  @Option(
      names = "--days",
      defaultValue = "7",
      description = "Days of activity before now (default: ${DEFAULT-VALUE}).")
  int days;

  @Option(
      names = "--seed",
      defaultValue = "42",
      description = "Random seed (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(
      names = "--until",
      description = "End of the generated activity, ISO-8601 UTC (default: now).")
  String until;

  @Option(names = "--replace", description = "Drop and recreate the database if it exists.")
  boolean replace;

  @Override
  public void validate(LakeConfig config) {
    parseUntil();
  }

  @Override
  public List<Endpoint> servers(LakeConfig config) {
    return Server.endpoints(config, Server.MARIADB);
  }

  @Override
  public void run(JobContext context) {
    LakeConfig config = context.config();
    SampleDatabase sample =
        new SampleDatabase(
            config.mariaDb(), database == null ? config.consumers().sampleDatabase() : database);
    SampleDatabase.Options options = new SampleDatabase.Options(profiles, days, seed, parseUntil());
    sample.create(replace);
    System.out.printf("created database %s%n", sample.database());
    sample.generate(options, System.out);
  }

  private Instant parseUntil() {
    if (until == null) {
      return Instant.now();
    }
    try {
      return Instant.parse(until);
    } catch (DateTimeParseException e) {
      throw new LakeException(
          ErrorCode.INVALID_ARGUMENT,
          "--until must be an ISO-8601 instant such as 2026-11-22T06:00:00Z, not " + until);
    }
  }
}
