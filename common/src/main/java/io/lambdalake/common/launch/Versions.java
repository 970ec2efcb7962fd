package io.lambdalake.common.launch;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The versions a run record names: lambda-lake, Java, and Spark and Delta when present. */
final class Versions {
  private static final Pattern JAR_VERSION = Pattern.compile("-(\\d+(?:\\.\\d+)+[^/]*?)\\.jar$");

  private Versions() {}

  static SortedMap<String, String> current() {
    SortedMap<String, String> versions = new TreeMap<>();
    versions.put(
        "lambda-lake",
        Optional.ofNullable(Versions.class.getPackage().getImplementationVersion())
            .orElse("development build"));
    versions.put("java", Runtime.version().toString());
    of("org.apache.spark.SparkContext").ifPresent(version -> versions.put("spark", version));
    of("io.delta.tables.DeltaTable").ifPresent(version -> versions.put("delta", version));
    return versions;
  }

  /** The version of the jar a class comes from: its manifest's, else its file name's. */
  private static Optional<String> of(String className) {
    Class<?> type;
    try {
      type = Class.forName(className, false, Versions.class.getClassLoader());
    } catch (ClassNotFoundException | LinkageError e) {
      return Optional.empty();
    }
    Optional<String> manifest =
        Optional.ofNullable(type.getPackage()).map(Package::getImplementationVersion);
    return manifest.or(() -> fromJarName(type.getProtectionDomain().getCodeSource()));
  }

  private static Optional<String> fromJarName(CodeSource source) {
    if (source == null || source.getLocation() == null) {
      return Optional.empty();
    }
    try {
      Matcher matcher =
          JAR_VERSION.matcher(Path.of(source.getLocation().toURI()).getFileName().toString());
      return matcher.find() ? Optional.of(matcher.group(1)) : Optional.empty();
    } catch (URISyntaxException | IllegalArgumentException e) {
      return Optional.empty();
    }
  }
}
