package io.lambdalake.stack;

import static java.util.Objects.requireNonNull;

import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The folders of the local stack under {@code lake.local-dir}: {@code dist/} (server distributions
 * resolved by scripts/stack from Maven Central), one folder per server for data and generated
 * configuration, and {@code logs/}.
 */
public record StackLayout(Path localDirectory, Path confDirectory) {
  public StackLayout {
    localDirectory = requireNonNull(localDirectory, "localDirectory is null").toAbsolutePath();
    confDirectory = requireNonNull(confDirectory, "confDirectory is null").toAbsolutePath();
  }

  public Path serverHome(String server) {
    return localDirectory.resolve(server);
  }

  public Path logFile(String server) {
    return localDirectory.resolve("logs").resolve(server + ".log");
  }

  public Path distribution(String name) {
    return localDirectory.resolve("dist").resolve(name);
  }

  /** The class path scripts/stack resolved for a Java server, e.g. {@code kafka}. */
  public String classPath(String server) {
    Path file = distribution(server + ".classpath");
    if (!Files.isRegularFile(file)) {
      throw missingDistribution(server, file);
    }
    try {
      String classPath = Files.readString(file).strip();
      // Every entry must still exist: a cleaned Maven repository means resolving again.
      boolean complete = Arrays.stream(classPath.split(":")).map(Path::of).allMatch(Files::exists);
      if (!complete) {
        throw missingDistribution(server, file);
      }
      return classPath;
    } catch (IOException e) {
      throw missingDistribution(server, file);
    }
  }

  static LakeException missingDistribution(String server, Path file) {
    return new LakeException(
        ErrorCode.SERVER_DISTRIBUTION_MISSING,
        "The "
            + server
            + " distribution is not resolved ("
            + file
            + " is missing or stale): run scripts/stack up, which resolves it from Maven Central");
  }
}
