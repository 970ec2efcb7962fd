package io.lambdalake.spark.delta;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.stack.testing.SharedStack;
import io.lambdalake.stack.testing.TestSpark;
import java.io.FileNotFoundException;
import java.io.InputStream;
import java.nio.file.FileAlreadyExistsException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.Test;

/**
 * The conditional-create log store on s3proxy, without Spark in the way: of two stores (as two
 * writer processes hold) creating one commit file at once, exactly one succeeds; the probe leaves
 * nothing behind; a file system without conditional creates is refused before the first commit.
 */
class ConditionalCreateLogStoreIT {
  private static final int VERSIONS = 20;

  @Test
  void ofTwoWritersOfOneVersionExactlyOneCreatesIt() throws Exception {
    Configuration configuration = hadoopConfiguration();
    Path log = new Path(table(), "_delta_log");
    List<ConditionalCreateLogStore> stores =
        List.of(
            new ConditionalCreateLogStore(configuration),
            new ConditionalCreateLogStore(configuration));
    ExecutorService pool = Executors.newFixedThreadPool(stores.size());
    try {
      for (int version = 0; version < VERSIONS; version++) {
        Path commit = new Path(log, String.format("%020d.json", version));
        CyclicBarrier start = new CyclicBarrier(stores.size());
        List<Callable<String>> writers = new ArrayList<>();
        for (int index = 0; index < stores.size(); index++) {
          ConditionalCreateLogStore store = stores.get(index);
          String line = "{\"writer\":" + index + ",\"version\":" + version + "}";
          writers.add(
              () -> {
                start.await();
                store.write(commit, List.of(line).iterator(), false, configuration);
                return line;
              });
        }
        List<String> winners = new ArrayList<>();
        List<Throwable> losers = new ArrayList<>();
        for (Future<String> result : pool.invokeAll(writers)) {
          try {
            winners.add(result.get());
          } catch (ExecutionException e) {
            losers.add(e.getCause());
          }
        }
        assertThat(winners).as("version %s", version).hasSize(1);
        assertThat(losers).singleElement().isInstanceOf(FileAlreadyExistsException.class);
        assertThat(read(commit, configuration)).isEqualTo(winners.get(0) + "\n");
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(stores.get(0).listFrom(new Path(log, String.format("%020d.json", 0)), configuration))
        .toIterable()
        .hasSize(VERSIONS);
    assertThat(probeObjects(log.getParent(), configuration)).isEmpty();
  }

  @Test
  void aFileSystemWithoutConditionalCreatesIsRefusedBeforeTheFirstCommit() {
    Configuration configuration = new Configuration(hadoopConfiguration());
    // As an operator would set it for a store that lacks conditional writes.
    configuration.setBoolean("fs.s3a.create.conditional.enabled", false);
    configuration.setBoolean("fs.s3a.impl.disable.cache", true);
    Path commit = new Path(table(), "_delta_log/" + String.format("%020d.json", 0));
    ConditionalCreateLogStore store = new ConditionalCreateLogStore(configuration);

    assertThatThrownBy(() -> store.write(commit, List.of("{}").iterator(), false, configuration))
        .isInstanceOf(LakeException.class)
        .hasMessageContaining("Cannot commit to Delta tables on s3a://")
        .hasMessageContaining("does not offer conditional creates")
        .hasMessageContaining("lake.delta.conditional-commits = false")
        .extracting(error -> ((LakeException) error).errorCode())
        .isEqualTo(ErrorCode.INVALID_CONFIGURATION);
  }

  private static Configuration hadoopConfiguration() {
    return TestSpark.session().sparkContext().hadoopConfiguration();
  }

  private static Path table() {
    String run = UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    return new Path(SharedStack.config().storage().root() + "/log-store-" + run + "/rows");
  }

  private static String read(Path path, Configuration configuration) throws Exception {
    try (InputStream in = path.getFileSystem(configuration).open(path)) {
      return new String(in.readAllBytes(), UTF_8);
    }
  }

  private static List<FileStatus> probeObjects(Path table, Configuration configuration)
      throws Exception {
    FileSystem fileSystem = table.getFileSystem(configuration);
    try {
      return List.of(fileSystem.listStatus(new Path(table, "_lake_probe")));
    } catch (FileNotFoundException e) {
      return List.of();
    }
  }
}
