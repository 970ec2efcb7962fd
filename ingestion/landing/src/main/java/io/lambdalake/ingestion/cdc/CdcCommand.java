package io.lambdalake.ingestion.cdc;

import io.lambdalake.common.cdc.ChangeEnvelope.SourceName;
import io.lambdalake.common.config.Durations;
import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.common.launch.Endpoint;
import io.lambdalake.common.launch.Job;
import io.lambdalake.common.launch.JobContext;
import io.lambdalake.common.launch.Server;
import io.lambdalake.ingestion.imports.reconcile.ReconcileCommand;
import io.lambdalake.ingestion.landing.LandingStream;
import io.lambdalake.spark.LakeSpark;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code lake cdc}: MySQL/MariaDB changes (Maxwell) into raw.mysql_changes and the mirrors. */
@Command(
    name = "cdc",
    mixinStandardHelpOptions = true,
    subcommands = {
      CdcCommand.Resync.class,
      SampleChangesCommand.class,
      DdlRelayCommand.class,
      ReconcileCommand.class
    },
    description = {
      "Apply Maxwell's change topics (MariaDB/MySQL) and the MongoDB connector's to"
          + " raw.mysql_changes / raw.mongo_changes and mirror.<database>__<table> (exactly once,"
          + " in source order), quarantining what cannot be applied.",
      "Runs until stopped, or with --available-now over what Kafka holds and then exits."
    })
public final class CdcCommand implements Job {
  @Option(
      names = "--sources",
      defaultValue = "ALL",
      description =
          "Which change topics to follow: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
  CdcJob.Sources sources;

  @Option(names = "--available-now", description = "Process what is there now, then exit.")
  boolean availableNow;

  @Option(
      names = "--trigger",
      defaultValue = "2s",
      description = "Micro-batch interval (default: ${DEFAULT-VALUE}).")
  String trigger;

  @Option(
      names = "--max-records-per-batch",
      defaultValue = "200000",
      description = "Upper bound of Kafka records per micro-batch (default: ${DEFAULT-VALUE}).")
  long maxRecordsPerBatch;

  @Option(
      names = "--databases",
      defaultValue = "[^.]+",
      description =
          "Regular expression of the source databases to follow (default: all, ${DEFAULT-VALUE}).")
  String databases;

  @Option(
      names = "--reset-from",
      paramLabel = "table|earliest",
      description =
          "Operators only: discard the streams' checkpoints and start afresh from the Kafka"
              + " offsets the tables' own commits recorded (table), or from the earliest record"
              + " Kafka holds (earliest; the tables still skip what they hold, so this only lands"
              + " again what a removed table had). Stop the running job first.")
  String resetFrom;

  @Option(
      names = "--progress",
      defaultValue = "10s",
      description = "Progress line interval (default: ${DEFAULT-VALUE}).")
  String progressInterval;

  public CdcJob.Options options() {
    return new CdcJob.Options(
        sources,
        availableNow ? CdcJob.Mode.AVAILABLE_NOW : CdcJob.Mode.CONTINUOUS,
        Durations.parse(trigger, "--trigger"),
        maxRecordsPerBatch,
        databases,
        Durations.parse(progressInterval, "--progress"),
        Optional.ofNullable(resetFrom).map(LandingStream.ResetFrom::parse));
  }

  @Override
  public void validate(LakeConfig config) {
    options();
  }

  @Override
  public List<Endpoint> servers(LakeConfig config) {
    return Server.endpoints(config, Server.KAFKA, Server.S3);
  }

  @Override
  public void run(JobContext context) {
    CdcJob.runWithOwnSession(context.config(), options());
  }

  /** {@code lake cdc resync --table db.table}. */
  @Command(
      name = "resync",
      mixinStandardHelpOptions = true,
      description =
          "Rebuild one mirror table from raw.mysql_changes (stop lake cdc first: one writer per"
              + " table).")
  static final class Resync implements Job {
    @Option(
        names = "--table",
        required = true,
        description = "The source table, as <database>.<table>.")
    String table;

    @Override
    public void validate(LakeConfig config) {
      sourceName();
    }

    @Override
    public List<Endpoint> servers(LakeConfig config) {
      return Server.endpoints(config, Server.S3);
    }

    @Override
    public void run(JobContext context) {
      LakeConfig config = context.config();
      CdcJob.resync(
          LakeSpark.session(config, "lambda-lake-cdc-resync"), config, sourceName(), System.out);
    }

    private SourceName sourceName() {
      int dot = table.indexOf('.');
      if (dot <= 0 || dot == table.length() - 1) {
        throw new LakeException(
            ErrorCode.INVALID_ARGUMENT, "--table must be <database>.<table>, not " + table);
      }
      return new SourceName(table.substring(0, dot), table.substring(dot + 1));
    }
  }
}
