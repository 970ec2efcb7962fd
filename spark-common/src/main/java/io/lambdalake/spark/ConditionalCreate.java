package io.lambdalake.spark;

import java.io.IOException;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FSDataOutputStreamBuilder;
import org.apache.hadoop.fs.FileAlreadyExistsException;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.s3a.RemoteFileChangedException;
import software.amazon.awssdk.awscore.exception.AwsServiceException;

/**
 * Creating an object only if it does not exist yet: S3A 3.5 sends the PUT with {@code
 * If-None-Match: *}, and the store answers 412 Precondition Failed when the object exists, or 409
 * Conflict when another conditional write of the same key is under way. Of writers racing to create
 * one object, exactly one succeeds. The lease ({@link Lease}) and the Delta log store ({@code
 * spark.delta.ConditionalCreateLogStore}) commit this way.
 */
public final class ConditionalCreate {
  /** S3A 3.5's create option for {@code If-None-Match: *}: the object is created only if absent. */
  public static final String OPTION = "fs.option.create.conditional.overwrite";

  private static final int PRECONDITION_FAILED = 412;
  private static final int CONFLICT = 409;

  private ConditionalCreate() {}

  /**
   * Opens {@code path} for a conditional create. The condition is checked when the stream closes
   * (S3A uploads then): a lost race surfaces from {@code close()}, see {@link #isLostRace}.
   */
  public static FSDataOutputStream create(FileSystem fileSystem, Path path) throws IOException {
    FSDataOutputStreamBuilder<?, ?> create = fileSystem.createFile(path);
    create.overwrite(false);
    create.must(OPTION, true);
    return create.build();
  }

  /**
   * Whether a failed create lost a race to another writer: the object was there already (the
   * store's 412, or the file system's own check before the upload), or the store answered 409
   * Conflict (S3 does while another conditional write of the key is in flight; that writer may
   * still fail, so the loser must look again rather than give up). It goes by exception types and
   * status codes only, never by message text (an object's own name can contain "412").
   */
  public static boolean isLostRace(Throwable failure) {
    for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
      if (cause instanceof FileAlreadyExistsException) {
        return true;
      }
    }
    return isRefusedByStore(failure);
  }

  /**
   * Whether the store itself refused a conditional create (412 or 409), as opposed to the file
   * system's own existence check before the upload: only this proves that the store honours the
   * condition.
   */
  public static boolean isRefusedByStore(Throwable failure) {
    for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
      if (cause instanceof RemoteFileChangedException) {
        return true;
      }
      if (cause instanceof AwsServiceException service) {
        return service.statusCode() == PRECONDITION_FAILED || service.statusCode() == CONFLICT;
      }
    }
    return false;
  }
}
