package io.lambdalake.spark;

import io.lambdalake.common.launch.RunRecordWriter;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.SparkConf;

/**
 * Writes {@code --run-record s3a://...} through Hadoop's file systems (found by {@link
 * java.util.ServiceLoader}), with the same settings as {@link HadoopConfigFileReader}: the record
 * of a driver that a cluster started on a host of its choice lands where the submitter reads it.
 * S3A uploads the object when the stream closes, so a reader sees the whole record or none.
 */
public final class HadoopRunRecordWriter implements RunRecordWriter {
  @Override
  public Set<String> schemes() {
    return Set.of("s3a", "s3");
  }

  @Override
  public void write(URI location, String text) throws IOException {
    try (FileSystem fileSystem =
            FileSystem.newInstance(
                location, HadoopConfigFileReader.configuration(new SparkConf()));
        FSDataOutputStream output = fileSystem.create(new Path(location), true)) {
      output.write(text.getBytes(StandardCharsets.UTF_8));
    }
  }
}
