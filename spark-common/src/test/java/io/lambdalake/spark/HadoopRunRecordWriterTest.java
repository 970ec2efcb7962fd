package io.lambdalake.spark;

import static org.assertj.core.api.Assertions.assertThat;

import io.lambdalake.common.launch.RunRecordWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HadoopRunRecordWriterTest {
  @Test
  void isInstalledForS3Urls() {
    assertThat(ServiceLoader.load(RunRecordWriter.class).stream().map(ServiceLoader.Provider::get))
        .anySatisfy(
            writer ->
                assertThat(writer)
                    .isInstanceOf(HadoopRunRecordWriter.class)
                    .extracting(RunRecordWriter::schemes)
                    .asInstanceOf(org.assertj.core.api.InstanceOfAssertFactories.ITERABLE)
                    .containsExactlyInAnyOrder("s3a", "s3"));
  }

  /** Through Hadoop's local file system: the same FileSystem calls S3A answers. */
  @Test
  void replacesTheRecordThroughHadoop(@TempDir Path directory) throws IOException {
    Path file = directory.resolve("runs").resolve("batch.json");
    RunRecordWriter writer = new HadoopRunRecordWriter();

    writer.write(file.toUri(), "{\"exit_code\": 75}\n");
    writer.write(file.toUri(), "{\"exit_code\": 0}\n");

    assertThat(Files.readString(file, StandardCharsets.UTF_8)).isEqualTo("{\"exit_code\": 0}\n");
  }
}
