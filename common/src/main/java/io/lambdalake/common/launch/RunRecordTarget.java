package io.lambdalake.common.launch;

import static java.util.Objects.requireNonNull;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.regex.Pattern;

/**
 * Where {@code --run-record} sends a run's record: a local file, or a URL ({@code s3a://...}) that
 * a {@link RunRecordWriter} on the class path writes.
 */
record RunRecordTarget(String location) {
  private static final Pattern URL = Pattern.compile("^[a-zA-Z][a-zA-Z0-9+.-]*://.*");

  RunRecordTarget {
    requireNonNull(location, "location is null");
  }

  /** The URL scheme in lower case, or empty for a local file (also {@code file://}). */
  Optional<String> scheme() {
    if (!URL.matcher(location).matches()) {
      return Optional.empty();
    }
    String scheme = location.substring(0, location.indexOf(':')).toLowerCase(Locale.ROOT);
    return scheme.equals("file") ? Optional.empty() : Optional.of(scheme);
  }

  /**
   * Fails unless the record can go there: a URL needs a writer for its scheme. Checked before the
   * job runs, so that a long run does not end with a record nobody can find.
   */
  void check(List<RunRecordWriter> writers) {
    scheme()
        .filter(scheme -> writer(writers, scheme).isEmpty())
        .ifPresent(
            scheme -> {
              throw new LakeException(
                  ErrorCode.INVALID_ARGUMENT,
                  "--run-record "
                      + location
                      + ": nothing here writes "
                      + scheme
                      + ":// URLs (the jobs jar and the Spark jobs' class path write s3a:// and"
                      + " s3://); give a local file or one of those");
            });
  }

  void write(RunRecord record, List<RunRecordWriter> writers, Optional<LakeConfig> config)
      throws IOException {
    Optional<String> scheme = scheme();
    if (scheme.isEmpty()) {
      record.writeFile(
          location.regionMatches(true, 0, "file:", 0, 5)
              ? Path.of(URI.create(location))
              : Path.of(location));
      return;
    }
    RunRecordWriter writer =
        writer(writers, scheme.get())
            .orElseThrow(() -> new IOException("no writer for " + scheme.get() + ":// URLs"));
    writer.write(URI.create(location), record.toJson(), config);
  }

  static List<RunRecordWriter> installed() {
    return ServiceLoader.load(RunRecordWriter.class, RunRecordWriter.class.getClassLoader())
        .stream()
        .map(ServiceLoader.Provider::get)
        .toList();
  }

  private static Optional<RunRecordWriter> writer(List<RunRecordWriter> writers, String scheme) {
    return writers.stream().filter(writer -> writer.schemes().contains(scheme)).findFirst();
  }

  @Override
  public String toString() {
    return location;
  }
}
