package io.lambdalake.ingestion.imports.reconcile;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.common.launch.Endpoint;
import io.lambdalake.common.launch.Job;
import io.lambdalake.common.launch.JobContext;
import io.lambdalake.common.launch.Server;
import io.lambdalake.spark.LakeSpark;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code lake cdc reconcile}: the safety net under CDC. Compares each MariaDB mirror with its
 * source by key ranges and resyncs the ranges that differ; prints a line per table and a report,
 * which the run record keeps as counts.
 */
@Command(
    name = "reconcile",
    mixinStandardHelpOptions = true,
    description = {
      "Compare each MariaDB mirror with its source table (row counts and checksums per primary key"
          + " range: one aggregate query on the source) and resync the ranges that differ with the"
          + " source's rows, stamped with the binlog position read before them so that CDC goes on"
          + " after it. Stop lake cdc for the databases first (it refuses while CDC writes them).",
      "Exit code 0 when in sync or fixed; with --dry-run, 3 when it found differences."
    })
public final class ReconcileCommand implements Job {
  @Option(
      names = "--databases",
      defaultValue = "[^.]+",
      description =
          "Regular expression of the source databases whose mirrors to check (default: all,"
              + " ${DEFAULT-VALUE}).")
  String databases;

  @Option(
      names = "--tables",
      split = ",",
      description = "Only these source tables, as <database>.<table>[,...].")
  List<String> tables = new ArrayList<>();

  @Option(
      names = "--dry-run",
      description = "Compare and report only; change nothing (exit code 3 when a mirror differs).")
  boolean dryRun;

  @Option(
      names = "--ranges",
      defaultValue = "16",
      description = "Key ranges per table (default: ${DEFAULT-VALUE}).")
  int ranges;

  public ReconcileJob.Options options() {
    try {
      return new ReconcileJob.Options(Pattern.compile(databases), tables, dryRun, ranges);
    } catch (PatternSyntaxException e) {
      throw new LakeException(
          ErrorCode.INVALID_ARGUMENT,
          "--databases is not a regular expression: " + e.getDescription());
    }
  }

  @Override
  public void validate(LakeConfig config) {
    options();
  }

  @Override
  public List<Endpoint> servers(LakeConfig config) {
    return Server.endpoints(config, Server.MARIADB, Server.S3);
  }

  @Override
  public void run(JobContext context) {
    ReconcileJob.Options options = options();
    LakeConfig config = context.config();
    ReconcileJob.Report report =
        ReconcileJob.run(
            LakeSpark.session(config, "lambda-lake-cdc-reconcile"),
            config,
            options,
            System.out::println);
    for (Map.Entry<String, Long> count : report.counts().entrySet()) {
      context.count(count.getKey(), count.getValue());
    }
    report.skipped().forEach(line -> System.out.println("reconcile: skipped " + line));
    System.out.println(
        "reconcile: " + report + (options.dryRun() ? " (dry run: nothing changed)" : ""));
    if (options.dryRun() && !report.inSync()) {
      throw new LakeException(
          ErrorCode.QUALITY_CHECK_FAILED,
          report.rangesDiffering()
              + " key range(s) of the mirrors differ from their sources ("
              + report
              + "); run lake cdc reconcile without --dry-run, with lake cdc stopped, to resync them");
    }
  }
}
