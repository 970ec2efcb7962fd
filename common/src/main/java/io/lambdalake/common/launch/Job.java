package io.lambdalake.common.launch;

import io.lambdalake.common.config.LakeConfig;
import java.util.List;
import java.util.Map;

/**
 * A command the {@link Launcher} runs: every {@code lake} subcommand and every job's main. The
 * launcher parses the arguments into the command's picocli fields, loads the configuration once,
 * calls {@link #validate}, checks the {@link #servers} answer, then calls {@link #run} and writes
 * the run record.
 */
public interface Job {
  /** Configuration keys this command line sets, e.g. {@code --port} for a server's port. */
  default Map<String, String> configOverrides() {
    return Map.of();
  }

  /** Checks the arguments before any server is contacted; throws for a bad one. */
  default void validate(LakeConfig config) {}

  /** The servers this run needs; the preflight checks each answers before {@link #run}. */
  default List<Endpoint> servers(LakeConfig config) {
    return List.of();
  }

  /** Does the work; throws to fail, and reports counts for the run record through the context. */
  void run(JobContext context) throws Exception;
}
