package io.lambdalake.common.launch;

import io.lambdalake.common.config.LakeConfig;
import java.io.IOException;
import java.net.URI;
import java.util.Optional;
import java.util.Set;

/**
 * Writes a run record to a URL, such as {@code --run-record s3a://bucket/runs/batch.json}, for the
 * schemes this module cannot write itself: a driver in cluster deploy mode runs on a host nobody
 * reads, so its record goes to storage the submitter can read. The launcher finds the writers on
 * the class path with {@link java.util.ServiceLoader}; spark-common's writes {@code s3a://} and
 * {@code s3://} through Hadoop's file systems.
 */
public interface RunRecordWriter {
  /** The URL schemes this writer writes, in lower case: {@code s3a}, {@code s3}. */
  Set<String> schemes();

  /**
   * Writes the whole text at the location, replacing what is there, in one piece; with the run's
   * configuration when it was loaded (the lake's own S3 settings), else with what the process was
   * given.
   */
  void write(URI location, String text, Optional<LakeConfig> config) throws IOException;
}
