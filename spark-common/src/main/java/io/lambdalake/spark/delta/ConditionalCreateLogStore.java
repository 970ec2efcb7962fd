package io.lambdalake.spark.delta;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.delta.storage.HadoopFileSystemLogStore;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.spark.ConditionalCreate;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.FileAlreadyExistsException;
import java.util.Iterator;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.PathIOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Delta log store for S3 that is safe for more than one writer: each commit file ({@code
 * _delta_log/<version>.json}) is created with a conditional create ({@code If-None-Match: *}), so
 * of two writers racing for one version exactly one creates it and the other gets the {@link
 * FileAlreadyExistsException} on which Delta checks for conflicts and retries with the next
 * version. Delta's own {@code S3SingleDriverLogStore} checks for the file and then writes it: two
 * writers in different JVMs both pass the check, and the second upload replaces the first commit
 * without an error.
 *
 * <p>Before its first commit to a bucket it checks that the store honours the condition (an object
 * created twice must fail the second time) and refuses to commit otherwise: a store that ignored
 * the header would make this class exactly as unsafe as Delta's, silently.
 *
 * <p>Reading and listing are {@link HadoopFileSystemLogStore}'s: a plain listing of {@code
 * _delta_log}, which S3 has kept strongly consistent since December 2020. Delta's S3 store lists
 * the same way (its fast listing is opt-in) and adds only an in-JVM lock per path, which serialises
 * commits of one JVM and does nothing across processes; the conditional create covers both.
 *
 * <p>Configured per scheme by {@code spark.delta.logStore.s3a.impl} (see {@code
 * SparkSettings#CONDITIONAL_LOG_STORE}); docs/design.md, "Safe commits on S3".
 */
public final class ConditionalCreateLogStore extends HadoopFileSystemLogStore {
  private static final Logger LOG = LoggerFactory.getLogger(ConditionalCreateLogStore.class);
  private static final String PROBE_FOLDER = "_lake_probe";

  /** S3A's refusal of a conditional create when fs.s3a.create.conditional.enabled is false. */
  private static final String CONDITIONAL_WRITES_UNAVAILABLE = "Conditional Writes Unavailable";

  /** The stores ({@code s3a://bucket}) found to honour the condition, probed once each. */
  private final Set<String> provenStores = ConcurrentHashMap.newKeySet();

  public ConditionalCreateLogStore(Configuration hadoopConfiguration) {
    super(hadoopConfiguration);
  }

  @Override
  public void write(
      Path path, Iterator<String> actions, Boolean overwrite, Configuration hadoopConfiguration)
      throws IOException {
    FileSystem fileSystem = path.getFileSystem(hadoopConfiguration);
    if (overwrite) {
      // Delta overwrites only files that are not commits (e.g. _last_checkpoint).
      try (FSDataOutputStream out = fileSystem.create(path, true)) {
        writeLines(out, actions);
      }
      return;
    }
    requireConditionHonoured(fileSystem, path);
    try (FSDataOutputStream out = ConditionalCreate.create(fileSystem, path)) {
      writeLines(out, actions);
    } catch (IOException e) {
      if (ConditionalCreate.isLostRace(e)) {
        LOG.info("Another writer created {} first; Delta checks for conflicts and retries", path);
        FileAlreadyExistsException lost =
            new FileAlreadyExistsException(path.toString(), null, "another writer created it");
        lost.initCause(e);
        throw lost;
      }
      throw e;
    }
  }

  @Override
  public Boolean isPartialWriteVisible(Path path, Configuration hadoopConfiguration) {
    // An S3 object appears whole when its upload completes, or not at all.
    return false;
  }

  /**
   * Creates a probe object beside the table's log twice with the condition, the first time this
   * store is written to; the second create must be refused by the store.
   */
  private void requireConditionHonoured(FileSystem fileSystem, Path commit) throws IOException {
    String store = fileSystem.getUri().toString();
    if (provenStores.contains(store)) {
      return;
    }
    Path table = commit.getParent().getParent();
    Path probe = new Path(table, PROBE_FOLDER + "/" + UUID.randomUUID());
    try {
      createProbe(fileSystem, store, probe);
      try {
        createProbe(fileSystem, store, probe);
      } catch (IOException e) {
        if (!ConditionalCreate.isRefusedByStore(e)) {
          throw e;
        }
        provenStores.add(store);
        LOG.info("{} honours conditional creates (If-None-Match): commits there are safe", store);
        return;
      }
      throw refused(
          store,
          "it let the probe object "
              + probe
              + " be created twice although the second create asked for If-None-Match: *");
    } finally {
      deleteQuietly(fileSystem, probe);
    }
  }

  private static void createProbe(FileSystem fileSystem, String store, Path probe)
      throws IOException {
    FSDataOutputStream out;
    try {
      out = ConditionalCreate.create(fileSystem, probe);
    } catch (IllegalArgumentException | UnsupportedOperationException e) {
      // A file system without the option rejects a mandatory one when the stream is built.
      throw refused(store, withoutConditionalCreates(fileSystem, e));
    } catch (PathIOException e) {
      // S3A with fs.s3a.create.conditional.enabled=false, for stores known to lack them.
      if (String.valueOf(e.getMessage()).contains(CONDITIONAL_WRITES_UNAVAILABLE)) {
        throw refused(store, withoutConditionalCreates(fileSystem, e));
      }
      throw e;
    }
    try (out) {
      out.write(("lambda-lake probe of conditional creates\n").getBytes(UTF_8));
    }
  }

  private static String withoutConditionalCreates(FileSystem fileSystem, Exception e) {
    return "its file system ("
        + fileSystem.getClass().getName()
        + ") does not offer conditional creates: "
        + e.getMessage();
  }

  private static LakeException refused(String store, String why) {
    return new LakeException(
        ErrorCode.INVALID_CONFIGURATION,
        "Cannot commit to Delta tables on "
            + store
            + " safely: "
            + why
            + ", so two writers of one table could overwrite each other's commits without an"
            + " error. Use a store that honours conditional writes (AWS S3, s3proxy 4.1), or set"
            + " lake.delta.conditional-commits = false"
            + " (LAKE_DELTA_CONDITIONAL_COMMITS=false) and make sure each table has one writer"
            + " at a time.");
  }

  private static void writeLines(OutputStream out, Iterator<String> lines) throws IOException {
    while (lines.hasNext()) {
      out.write((lines.next() + "\n").getBytes(UTF_8));
    }
  }

  private static void deleteQuietly(FileSystem fileSystem, Path probe) {
    try {
      fileSystem.delete(probe, false);
    } catch (IOException e) {
      LOG.warn("Could not delete the probe object {}: {}", probe, e.getMessage());
    }
  }
}
