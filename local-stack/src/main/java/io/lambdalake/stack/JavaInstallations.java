package io.lambdalake.stack;

import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/** Finds a JDK new enough for Trino among the installed ones. */
public final class JavaInstallations {
  /** Trino 476 needs Java 24.0.1 or newer. */
  public static final int TRINO_MINIMUM_FEATURE_VERSION = 24;

  private static final List<Path> SEARCH_ROOTS =
      List.of(Path.of("/usr/lib/jvm"), Path.of("/opt/java"), Path.of("/usr/local/lib/jvm"));
  private static final Pattern VERSION = Pattern.compile("JAVA_VERSION=\"(\\d+)");

  private JavaInstallations() {}

  /** The configured JDK if set (it must be new enough), else the newest installed 24+. */
  public static Path forTrino(Optional<String> configured) {
    if (configured.isPresent()) {
      Path home = Path.of(configured.get());
      int version = featureVersion(home).orElse(0);
      if (version < TRINO_MINIMUM_FEATURE_VERSION) {
        throw new LakeException(
            ErrorCode.INVALID_CONFIGURATION,
            "LAKE_TRINO_JAVA_HOME="
                + home
                + " is not a JDK "
                + TRINO_MINIMUM_FEATURE_VERSION
                + "+ (found version "
                + version
                + "); Trino needs one");
      }
      return home;
    }
    return installed().stream()
        .filter(home -> featureVersion(home).orElse(0) >= TRINO_MINIMUM_FEATURE_VERSION)
        .max(Comparator.comparingInt(home -> featureVersion(home).orElse(0)))
        .orElseThrow(
            () ->
                new LakeException(
                    ErrorCode.SERVER_DISTRIBUTION_MISSING,
                    "Trino needs a JDK "
                        + TRINO_MINIMUM_FEATURE_VERSION
                        + "+ and none is installed under "
                        + SEARCH_ROOTS
                        + ": install one (e.g. a Temurin 25 package) or set LAKE_TRINO_JAVA_HOME"));
  }

  private static List<Path> installed() {
    return SEARCH_ROOTS.stream()
        .filter(Files::isDirectory)
        .flatMap(JavaInstallations::children)
        .filter(home -> Files.isExecutable(home.resolve("bin").resolve("java")))
        .toList();
  }

  private static Stream<Path> children(Path root) {
    try (Stream<Path> children = Files.list(root)) {
      return children.toList().stream();
    } catch (IOException e) {
      return Stream.empty();
    }
  }

  /** The feature version from the JDK's release file, e.g. 25. */
  static Optional<Integer> featureVersion(Path home) {
    Path release = home.resolve("release");
    if (!Files.isRegularFile(release)) {
      return Optional.empty();
    }
    try {
      Matcher matcher = VERSION.matcher(Files.readString(release));
      return matcher.find() ? Optional.of(Integer.parseInt(matcher.group(1))) : Optional.empty();
    } catch (IOException e) {
      return Optional.empty();
    }
  }
}
