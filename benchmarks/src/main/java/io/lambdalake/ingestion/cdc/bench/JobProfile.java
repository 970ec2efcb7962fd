package io.lambdalake.ingestion.cdc.bench;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobEnd;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Counts the Spark jobs a benchmark phase runs and their wall time, grouped by what started them
 * (the job's description when set, Delta's for its own jobs, otherwise the call site), so that a
 * micro-batch's fixed cost can be read off: which steps run how many jobs and how long.
 */
final class JobProfile extends SparkListener {
  private static final Logger LOG = LoggerFactory.getLogger(JobProfile.class);

  private record Started(String step, long at) {}

  private static final class Totals {
    final LongAdder jobs = new LongAdder();
    final LongAdder millis = new LongAdder();
  }

  private final Map<Integer, Started> running = new ConcurrentHashMap<>();
  private final Map<String, Totals> totals = new ConcurrentHashMap<>();

  @Override
  public void onJobStart(SparkListenerJobStart jobStart) {
    String step = step(jobStart.properties());
    running.put(jobStart.jobId(), new Started(step, jobStart.time()));
    if (Boolean.getBoolean("lake.bench.traceSnapshots") && step.contains("Compute snapshot")) {
      traceSnapshotCallers();
    }
  }

  private final Set<String> tracedCallers = ConcurrentHashMap.newKeySet();

  /** Diagnostics: which code paths make Delta rebuild a table's state (first time each). */
  private void traceSnapshotCallers() {
    for (Map.Entry<Thread, StackTraceElement[]> thread : Thread.getAllStackTraces().entrySet()) {
      StringBuilder frames = new StringBuilder();
      boolean inState = false;
      for (StackTraceElement frame : thread.getValue()) {
        String text = frame.toString();
        if (text.contains("computedState")) {
          inState = true;
        }
        if (inState && (text.contains("delta") || text.contains("lambdalake"))) {
          frames.append("    ").append(text).append('\n');
        }
      }
      if (inState && tracedCallers.add(frames.toString())) {
        LOG.warn("Delta state reconstruction from:\n{}", frames);
      }
    }
  }

  @Override
  public void onJobEnd(SparkListenerJobEnd jobEnd) {
    Started started = running.remove(jobEnd.jobId());
    if (started == null) {
      return;
    }
    Totals step = totals.computeIfAbsent(started.step(), name -> new Totals());
    step.jobs.increment();
    step.millis.add(Math.max(0, jobEnd.time() - started.at()));
  }

  private static String step(Properties properties) {
    if (properties == null) {
      return "(unknown)";
    }
    String description = properties.getProperty("spark.job.description", "");
    // A streaming query's jobs carry "<name> id = <uuid> runId = <uuid> batch = <n>": keep the
    // name.
    String oneLine =
        String.join(" ", description.strip().split("\\s+"))
            .replaceAll("(run)?[iI]d = [0-9a-f-]+ ?", "")
            .replaceAll("batch = [0-9]+", "");
    if (oneLine.length() > 120) {
      oneLine = oneLine.substring(0, 120) + "...";
    }
    return oneLine + " @ " + properties.getProperty("callSite.short", "(unknown)");
  }

  /** Prints the steps, longest first, and starts counting afresh. */
  void printAndReset(String phase, PrintStream out) {
    List<Map.Entry<String, Totals>> steps = new ArrayList<>(totals.entrySet());
    steps.sort((a, b) -> Long.compare(b.getValue().millis.sum(), a.getValue().millis.sum()));
    long jobs = steps.stream().mapToLong(e -> e.getValue().jobs.sum()).sum();
    long millis = steps.stream().mapToLong(e -> e.getValue().millis.sum()).sum();
    out.printf("profile %s: %d Spark jobs, %.1f s in jobs%n", phase, jobs, millis / 1000.0);
    for (Map.Entry<String, Totals> step : steps) {
      out.printf(
          "  %5d jobs %8.1f s  %s%n",
          step.getValue().jobs.sum(), step.getValue().millis.sum() / 1000.0, step.getKey());
    }
    totals.clear();
  }
}
