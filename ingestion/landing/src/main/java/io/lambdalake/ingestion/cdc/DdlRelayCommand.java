package io.lambdalake.ingestion.cdc;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.common.launch.Endpoint;
import io.lambdalake.common.launch.Job;
import io.lambdalake.common.launch.JobContext;
import io.lambdalake.common.launch.Server;
import io.lambdalake.ingestion.cdc.relay.DdlRelay;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code lake cdc ddl-relay}: the DDL relay beside Maxwell, until stopped. On the local stack it
 * runs as the server {@code ddl-relay}; on a cluster, run one next to each Maxwell.
 */
@Command(
    name = "ddl-relay",
    mixinStandardHelpOptions = true,
    description =
        "Publish the source's TRUNCATE, DROP, RENAME, ALTER and CREATE TABLE statements from the"
            + " binlog to each table's Maxwell topic (Maxwell never publishes TRUNCATE), until"
            + " stopped.")
final class DdlRelayCommand implements Job {
  @Option(
      names = "--databases",
      defaultValue = ".*",
      description = "Regex of the databases to follow, as lake cdc (default: ${DEFAULT-VALUE}).")
  String databases;

  @Option(
      names = "--position-file",
      required = true,
      description = "Where the relay remembers its binlog position; it resumes there.")
  Path positionFile;

  @Override
  public void validate(LakeConfig config) {
    try {
      Pattern.compile(databases);
    } catch (PatternSyntaxException e) {
      throw new LakeException(
          ErrorCode.INVALID_ARGUMENT, "--databases is not a regex: " + e.getDescription());
    }
  }

  @Override
  public List<Endpoint> servers(LakeConfig config) {
    return Server.endpoints(config, Server.MARIADB, Server.KAFKA);
  }

  @Override
  public void run(JobContext context) {
    DdlRelay.runUntilStopped(
        context.config(), new DdlRelay.Options(Pattern.compile(databases), positionFile));
  }
}
