package io.lambdalake.serving.store;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.launch.Endpoint;
import io.lambdalake.common.launch.Job;
import io.lambdalake.common.launch.JobContext;
import io.lambdalake.common.launch.Server;
import io.lambdalake.spark.LakeSpark;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code lake serving-sync}: keeps the API's point-read store (lake.api.store) up to date with the
 * batch and speed hourly views, the batch coverage and the daily sessions and traffic, round after
 * round until stopped, or one round with {@code --once}.
 */
@Command(
    name = "serving-sync",
    description =
        "Keep the metrics API's point-read store (lake.api.store, a MySQL-compatible database) up"
            + " to date with batch.events_hourly, speed.events_hourly, batch.pages_hourly,"
            + " speed.pages_hourly, batch.coverage, batch.events_daily and batch.traffic_daily:"
            + " each round applies what the tables committed"
            + " since the last one (Delta's change data feed, or the whole table where there is"
            + " none) in one transaction of the store, with the tables' positions. Runs until"
            + " stopped; --once runs one round (docs/serving.md).")
public final class ServingSyncCommand implements Job {
  @Spec CommandSpec spec;

  @Option(names = "--once", description = "Run one round and exit.")
  boolean once;

  @Override
  public List<Endpoint> servers(LakeConfig config) {
    return Server.endpoints(config, Server.S3);
  }

  @Override
  public void run(JobContext context) throws InterruptedException {
    LakeConfig config = context.config();
    PrintWriter out = spec.commandLine().getOut();
    SparkSession spark = LakeSpark.session(config, "lambda-lake-serving-sync");
    try (StoreDatabase store = new StoreDatabase(config.api().store())) {
      ServingSync sync = new ServingSync(config, spark, store);
      long rounds = 0;
      long applied = 0;
      Duration interval = config.api().store().syncInterval();
      while (true) {
        long started = System.nanoTime();
        ServingSync.Round round = sync.runOnce();
        rounds++;
        long rows =
            round.tables().stream().mapToLong(table -> table.upserts() + table.deletes()).sum();
        applied += rows;
        if (once || round.changed()) {
          out.printf(
              "%s serving-sync: %d rows in %d ms: %s%n",
              Instant.now(), rows, (System.nanoTime() - started) / 1_000_000, round.describe());
          out.flush();
        }
        context.count("rounds", rounds);
        context.count("rows_applied", applied);
        if (once) {
          return;
        }
        if (!round.changed()) {
          Thread.sleep(interval.toMillis());
        }
      }
    }
  }
}
