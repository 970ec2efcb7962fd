package io.lambdalake.common.config;

import java.io.IOException;
import java.net.URI;
import java.util.Set;

/**
 * Reads a configuration file that {@code LAKE_CONFIG_FILE} names by a URL, such as {@code
 * s3a://bucket/lake.conf}, for the schemes this module cannot read itself. The loader finds the
 * readers on the class path with {@link java.util.ServiceLoader}; spark-common's reads {@code
 * s3a://} and {@code s3://} through Hadoop's file systems.
 */
public interface ConfigFileReader {
  /** The URL schemes this reader reads, in lower case: {@code s3a}, {@code s3}. */
  Set<String> schemes();

  /** The file's text; throws {@link java.io.FileNotFoundException} when there is no such file. */
  String read(URI location) throws IOException;
}
