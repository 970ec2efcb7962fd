package io.lambdalake.spark;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Supplier;
import org.apache.spark.SparkContext;

/**
 * Spark work of one micro-batch that can overlap (two MERGEs, two appends): each on a thread of its
 * own, started for it, so that it inherits the batch's Spark local properties (the streaming
 * query's job group, which cancels its jobs when the query stops), except the SQL execution id,
 * which belongs to the batch's own query. Most of a small Delta write is waiting (scheduling, the
 * log on S3, the commit), so two of them take little more than one.
 */
public final class Concurrently {
  private static final String EXECUTION_ID = "spark.sql.execution.id";

  private Concurrently() {}

  /** A piece of work that runs on its own thread, started now. */
  public static <T> CompletableFuture<T> start(
      SparkContext context, String name, Supplier<T> work) {
    requireNonNull(context, "context is null");
    requireNonNull(work, "work is null");
    return CompletableFuture.supplyAsync(
        () -> {
          context.setLocalProperty(EXECUTION_ID, null);
          return work.get();
        },
        runnable -> {
          Thread thread = new Thread(runnable, requireNonNull(name, "name is null"));
          thread.setDaemon(true);
          thread.start();
        });
  }

  /**
   * Waits for every piece of work and returns their results in order; when one failed, throws its
   * exception (the first in order) after all have ended, so that nothing runs on behind the caller.
   */
  public static <T> List<T> awaitAll(List<CompletableFuture<T>> running) {
    List<T> results = new ArrayList<>();
    RuntimeException failure = null;
    for (CompletableFuture<T> work : running) {
      try {
        results.add(work.join());
      } catch (CompletionException e) {
        if (failure == null) {
          failure =
              e.getCause() instanceof RuntimeException cause
                  ? cause
                  : new IllegalStateException(e.getCause());
        }
      }
    }
    if (failure != null) {
      throw failure;
    }
    return results;
  }
}
