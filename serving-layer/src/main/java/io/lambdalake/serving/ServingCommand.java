package io.lambdalake.serving;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.launch.Endpoint;
import io.lambdalake.common.launch.Job;
import io.lambdalake.common.launch.JobContext;
import io.lambdalake.common.launch.Server;
import io.lambdalake.spark.LakeSpark;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code lake serving init}: makes the lake queryable in Trino, with the merged serving views. */
@Command(
    name = "serving",
    description = "Serving layer in Trino.",
    subcommands = {ServingCommand.Init.class})
public final class ServingCommand {
  @Command(
      name = "init",
      description =
          "Register in Trino every Delta table the pipeline has written (raw, mirror, speed, batch,"
              + " consumers),"
              + " creating the schemas and, empty, the tables the serving views read that no job"
              + " has written yet; then create or replace the views of the serving schema"
              + " (docs/serving.md). Idempotent: safe to run at any time.")
  static final class Init implements Job {
    @Spec CommandSpec spec;

    @Override
    public List<Endpoint> servers(LakeConfig config) {
      return Server.endpoints(config, Server.TRINO, Server.S3);
    }

    @Override
    public void run(JobContext context) {
      LakeConfig config = context.config();
      new ServingSetup(config)
          .run(
              () -> LakeSpark.session(config, "lambda-lake-serving-init"),
              spec.commandLine().getOut());
    }
  }
}
