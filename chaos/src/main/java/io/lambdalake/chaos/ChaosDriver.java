package io.lambdalake.chaos;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.config.LakeConfigLoader;
import io.lambdalake.common.launch.ExitCode;
import io.lambdalake.spark.LakeSpark;
import io.lambdalake.stack.S3ProxyServer;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.SparkSession;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.NoSuchBucketException;

/**
 * {@code scripts/chaos [--events N] [SCENARIO...]}: runs the fault scenarios (all by default)
 * against the local stack, one progress line each, and prints as its last line {@code chaos:
 * scenarios=N lost=L duplicated=D diverged=V}. Exits non-zero when anything was lost, duplicated or
 * diverged (3) or a scenario failed to run (70).
 */
public final class ChaosDriver {
  private ChaosDriver() {}

  public static void main(String[] arguments) throws Exception {
    int events = 20_000;
    List<String> names = new ArrayList<>();
    for (int i = 0; i < arguments.length; i++) {
      if (arguments[i].equals("--events") && i + 1 < arguments.length) {
        events = Integer.parseInt(arguments[++i]);
      } else if (arguments[i].startsWith("-")) {
        System.err.println("usage: scripts/chaos [--events N] [SCENARIO...]");
        System.exit(ExitCode.USER_ERROR.code());
      } else {
        names.add(arguments[i]);
      }
    }
    List<Scenario> scenarios = select(Scenarios.all(events), names);
    LakeConfig config = LakeConfigLoader.load();
    Path logs = Path.of(System.getProperty("lake.chaos.logs", "target/chaos-logs"));
    createBucketIfMissing(config);
    SparkSession spark = LakeSpark.session(config, "lambda-lake-chaos");
    Summary summary = run(scenarios, spark, logs, System.out);
    spark.stop();
    System.exit(summary.exitCode().code());
  }

  /** What a run of scenarios found: the sum of their tallies, and how many failed to run. */
  public record Summary(int scenarios, Tally tally, int failed) {
    public ExitCode exitCode() {
      if (failed > 0) {
        return ExitCode.INTERNAL_ERROR;
      }
      return tally.clean() ? ExitCode.SUCCESS : ExitCode.QUALITY_CHECK_FAILED;
    }
  }

  /** Runs the scenarios in order; prints a line per scenario and the summary line last. */
  public static Summary run(
      List<Scenario> scenarios, SparkSession spark, Path logs, PrintStream out) throws Exception {
    Scenarios.pending()
        .forEach((name, reason) -> out.printf("chaos: %s pending (%s)%n", name, reason));
    Tally total = Tally.CLEAN;
    int failed = 0;
    for (Scenario scenario : scenarios) {
      long started = System.nanoTime();
      out.printf("chaos: %s ...%n", scenario.name());
      out.flush();
      try {
        Tally tally = scenario.run(ChaosRun.create(scenario.name(), spark, logs));
        total = total.plus(tally);
        out.printf(
            "chaos: %s %s %s (%.0f s)%n",
            scenario.name(),
            tally.clean() ? "ok" : "LOSS",
            tally.toLine(),
            (System.nanoTime() - started) / 1e9);
      } catch (Exception | AssertionError e) {
        failed++;
        out.printf(
            "chaos: %s FAILED to run: %s (%.0f s)%n",
            scenario.name(), e.getMessage(), (System.nanoTime() - started) / 1e9);
      }
      out.flush();
    }
    Summary summary = new Summary(scenarios.size(), total, failed);
    out.printf(
        "chaos: scenarios=%d lost=%d duplicated=%d diverged=%d%n",
        summary.scenarios(), total.lost(), total.duplicated(), total.diverged());
    out.flush();
    return summary;
  }

  /** The run's own bucket (e.g. LAKE_S3_BUCKET=chaos on a shared stack) may not exist yet. */
  private static void createBucketIfMissing(LakeConfig config) {
    try (S3Client client = S3ProxyServer.client(config.s3())) {
      String bucket = config.s3().bucket();
      try {
        client.headBucket(request -> request.bucket(bucket));
      } catch (NoSuchBucketException e) {
        client.createBucket(request -> request.bucket(bucket));
      }
    }
  }

  private static List<Scenario> select(List<Scenario> all, List<String> names) {
    if (names.isEmpty()) {
      return all;
    }
    List<Scenario> selected = new ArrayList<>();
    for (String name : names) {
      all.stream()
          .filter(scenario -> scenario.name().equals(name))
          .findFirst()
          .ifPresentOrElse(
              selected::add,
              () -> {
                System.err.printf(
                    "error: no scenario named '%s' (have: %s)%n",
                    name, all.stream().map(Scenario::name).toList());
                System.exit(ExitCode.USER_ERROR.code());
              });
    }
    return selected;
  }
}
