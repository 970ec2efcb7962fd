package io.lambdalake.common.config;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.ServiceLoader;

/**
 * Where the file {@code LAKE_CONFIG_FILE} names is looked for: a relative name (a bare {@code
 * lake.conf}) in the working directory, where {@code spark-submit --files} puts it for a driver in
 * cluster deploy mode; a URL through the reader of its scheme.
 */
public record ConfigFileSources(Path workingDirectory, List<ConfigFileReader> readers) {
  public ConfigFileSources {
    requireNonNull(workingDirectory, "workingDirectory is null");
    if (!workingDirectory.isAbsolute()) {
      throw new IllegalArgumentException(
          "workingDirectory must be absolute, but is " + workingDirectory);
    }
    readers = List.copyOf(readers);
  }

  /** The process's working directory and the readers on the class path. */
  public static ConfigFileSources installed() {
    return new ConfigFileSources(
        Path.of("").toAbsolutePath(),
        ServiceLoader.load(ConfigFileReader.class, ConfigFileReader.class.getClassLoader()).stream()
            .map(ServiceLoader.Provider::get)
            .toList());
  }

  /** The reader for this URL scheme (lower case), if one is installed. */
  public Optional<ConfigFileReader> readerFor(String scheme) {
    return readers.stream().filter(reader -> reader.schemes().contains(scheme)).findFirst();
  }
}
