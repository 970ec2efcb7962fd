package io.lambdalake.spark;

import static java.util.Objects.requireNonNull;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.date_trunc;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;

import io.delta.tables.DeltaTable;
import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.common.table.LakeTable;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.LongStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Recompute the dirty hours: the hours the batch layer covers whose input in {@code raw.events}
 * changed since the batch views last computed them.
 *
 * <p>Every batch run reads {@code raw.events} at one Delta version and records it per day it
 * published in {@code batch.computed_days}. The newest recorded version is where the last run's
 * knowledge ends: every covered day was clean up to it (each run recomputes the dirty days it finds
 * before recording). So the dirty hours up to a version {@code V} are the hours of the files that
 * the commits after the recorded version and up to {@code V} added with {@code dataChange} (a
 * compaction re-adds the same rows with {@code dataChange=false} and changes nothing). They are
 * found from the Delta log's commit files alone, and then only the added data files are read, for
 * their event hours: no partition is scanned.
 *
 * <p>When that cannot be exact it is conservative, with a warning: with no recorded version (views
 * computed before versions were recorded) or with the log's commits after it removed by log
 * retention, every covered day with data is dirty.
 */
public final class DirtyHours {
  private static final Logger LOG = LoggerFactory.getLogger(DirtyHours.class);
  private static final StructType COMMIT_ACTIONS =
      StructType.fromDDL(
          "add STRUCT<path: STRING, partitionValues: MAP<STRING, STRING>, dataChange: BOOLEAN>");

  private DirtyHours() {}

  /** Why a covered day must be recomputed. */
  public enum Reason {
    /** Events landed for the day after the version it was last computed from. */
    ADDED_SINCE_COMPUTED,
    /** No batch run recorded the version it computed from: the day may be stale. */
    NO_RECORDED_VERSION,
    /** The log's commits after the recorded version are gone (log retention): may be stale. */
    LOG_NOT_RETAINED;

    String explanation() {
      return switch (this) {
        case ADDED_SINCE_COMPUTED -> "events landed after the day was last computed";
        case NO_RECORDED_VERSION ->
            "no batch run recorded the raw.events version it computed from (views computed before"
                + " versions were recorded): every covered day is recomputed once";
        case LOG_NOT_RETAINED ->
            "raw.events' Delta log no longer holds the commits after the recorded version (log"
                + " retention): every covered day is recomputed";
      };
    }
  }

  /**
   * A covered day to recompute and why; {@code hours} are its dirty hours, empty when the whole day
   * is recomputed conservatively.
   */
  public record DirtyDay(LocalDate day, List<Instant> hours, Reason reason) {
    public DirtyDay {
      requireNonNull(day, "day is null");
      hours = List.copyOf(hours);
      requireNonNull(reason, "reason is null");
    }
  }

  /**
   * What a search found: the versions of raw.events it looked at ({@code sinceVersion} exclusive,
   * absent when none was recorded), the coverage it applied, the dirty days, and the data files it
   * read (only ones the log said were added).
   */
  public record Result(
      Optional<Long> sinceVersion,
      long throughVersion,
      Optional<Instant> coveredUntil,
      List<DirtyDay> days,
      List<String> filesRead) {
    public Result {
      requireNonNull(sinceVersion, "sinceVersion is null");
      requireNonNull(coveredUntil, "coveredUntil is null");
      days = List.copyOf(days);
      filesRead = List.copyOf(filesRead);
    }

    public List<LocalDate> dirtyDays() {
      return days.stream().map(DirtyDay::day).toList();
    }

    /** One line per dirty day, and a first line saying what was compared. */
    public List<String> describe() {
      List<String> lines = new ArrayList<>();
      lines.add(
          "dirty hours: raw.events "
              + sinceVersion.map(version -> "after version " + version + " ").orElse("")
              + "up to version "
              + throughVersion
              + coveredUntil.map(until -> ", covered until " + until).orElse(", nothing covered")
              + ": "
              + (days.isEmpty() ? "none" : days.size() + " day(s)")
              + " ("
              + filesRead.size()
              + " added file(s) read)");
      for (DirtyDay day : days) {
        String hours =
            day.hours().isEmpty()
                ? "the whole day"
                : String.join(
                    ", ",
                    day.hours().stream()
                        .map(hour -> hour.atOffset(ZoneOffset.UTC).toLocalTime().toString())
                        .toList());
        lines.add("  " + day.day() + " " + hours + ": " + day.reason().explanation());
      }
      return lines;
    }
  }

  /** The newest version of the Delta table at the location. */
  public static long currentVersion(SparkSession spark, String location) {
    return DeltaTable.forPath(spark, location).history(1).select("version").first().getLong(0);
  }

  /**
   * The covered hours of raw.events that changed after the newest version recorded in {@code
   * batch.computed_days}, up to {@code throughVersion}.
   */
  public static Result find(SparkSession spark, LakeConfig config, long throughVersion) {
    String rawLocation = LakeTable.RAW_EVENTS.location(config.storage());
    Optional<Instant> coveredUntil = coveredUntil(spark, config);
    Optional<Long> since = recordedVersion(spark, config);
    if (coveredUntil.isEmpty() || (since.isPresent() && since.get() >= throughVersion)) {
      return new Result(since, throughVersion, coveredUntil, List.of(), List.of());
    }
    if (since.isEmpty()) {
      return conservatively(
          spark,
          rawLocation,
          throughVersion,
          since,
          coveredUntil.get(),
          Reason.NO_RECORDED_VERSION);
    }
    List<String> commits = commitFiles(rawLocation, since.get(), throughVersion);
    if (!exists(spark, commits.get(0))) {
      return conservatively(
          spark, rawLocation, throughVersion, since, coveredUntil.get(), Reason.LOG_NOT_RETAINED);
    }
    LocalDate firstUncovered = day(coveredUntil.get());
    List<String> added =
        spark
            .read()
            .schema(COMMIT_ACTIONS)
            .json(commits.toArray(String[]::new))
            .filter(col("add").isNotNull().and(col("add.dataChange")))
            .filter(
                col("add.partitionValues").getItem("event_date").lt(lit(firstUncovered.toString())))
            .select("add.path")
            .collectAsList()
            .stream()
            .map(row -> dataFile(rawLocation, row.getString(0)))
            .distinct()
            .sorted()
            .toList();
    if (added.isEmpty()) {
      return new Result(since, throughVersion, coveredUntil, List.of(), List.of());
    }
    List<Instant> hours =
        spark
            .read()
            .parquet(added.toArray(String[]::new))
            .select(date_trunc("hour", col("event_time")).as("hour"))
            .distinct()
            .collectAsList()
            .stream()
            .map(row -> row.getTimestamp(0).toInstant())
            .toList();
    return new Result(
        since,
        throughVersion,
        coveredUntil,
        dirtyDays(hours, coveredUntil.get(), Reason.ADDED_SINCE_COMPUTED),
        added);
  }

  private static Result conservatively(
      SparkSession spark,
      String rawLocation,
      long throughVersion,
      Optional<Long> since,
      Instant coveredUntil,
      Reason reason) {
    Row first =
        spark
            .read()
            .format("delta")
            .option("versionAsOf", throughVersion)
            .load(rawLocation)
            .agg(min(col("event_date")))
            .first();
    List<DirtyDay> days =
        first.isNullAt(0)
            ? List.of()
            : wholeDays(first.getDate(0).toLocalDate(), coveredUntil, reason);
    LOG.warn(
        "Recomputing every covered day of raw.events ({} day(s)): {}",
        days.size(),
        reason.explanation());
    return new Result(since, throughVersion, Optional.of(coveredUntil), days, List.of());
  }

  /** The hours before {@code coveredUntil}, grouped by UTC day, in order. */
  static List<DirtyDay> dirtyDays(Collection<Instant> hours, Instant coveredUntil, Reason reason) {
    Map<LocalDate, TreeSet<Instant>> byDay = new TreeMap<>();
    for (Instant hour : hours) {
      Instant truncated = hour.truncatedTo(ChronoUnit.HOURS);
      if (truncated.isBefore(coveredUntil)) {
        byDay.computeIfAbsent(day(truncated), ignored -> new TreeSet<>()).add(truncated);
      }
    }
    return byDay.entrySet().stream()
        .map(entry -> new DirtyDay(entry.getKey(), List.copyOf(entry.getValue()), reason))
        .toList();
  }

  /** Every day from {@code first} to the last day before {@code coveredUntil}, whole. */
  static List<DirtyDay> wholeDays(LocalDate first, Instant coveredUntil, Reason reason) {
    Instant end = coveredUntil.truncatedTo(ChronoUnit.DAYS);
    LocalDate last = coveredUntil.equals(end) ? day(end).minusDays(1) : day(end);
    if (last.isBefore(first)) {
      return List.of();
    }
    return first
        .datesUntil(last.plusDays(1))
        .map(day -> new DirtyDay(day, List.of(), reason))
        .toList();
  }

  /** The commit files of the versions after {@code since} up to {@code through}, in order. */
  static List<String> commitFiles(String tableLocation, long since, long through) {
    if (through <= since) {
      throw new IllegalArgumentException("through " + through + " is not after since " + since);
    }
    return LongStream.rangeClosed(since + 1, through)
        .mapToObj(version -> tableLocation + "/_delta_log/" + String.format("%020d.json", version))
        .toList();
  }

  /**
   * The absolute location of a data file an {@code add} action names: a URI, relative to the table
   * root unless absolute, with its special characters percent-encoded (Delta's protocol).
   */
  static String dataFile(String tableLocation, String addPath) {
    try {
      URI uri = new URI(addPath);
      return uri.isAbsolute()
          ? new Path(uri).toString()
          : new Path(new Path(tableLocation), new Path(uri)).toString();
    } catch (URISyntaxException e) {
      throw new LakeException(
          ErrorCode.INTERNAL_ERROR,
          "raw.events' Delta log names a data file that is no URI: " + addPath,
          e);
    }
  }

  private static LocalDate day(Instant instant) {
    return LocalDate.ofInstant(instant, ZoneOffset.UTC);
  }

  private static boolean exists(SparkSession spark, String file) {
    try {
      Path path = new Path(file);
      FileSystem fileSystem = path.getFileSystem(spark.sessionState().newHadoopConf());
      return fileSystem.exists(path);
    } catch (IOException e) {
      throw new LakeException(
          ErrorCode.SERVER_NOT_AVAILABLE, "Cannot read raw.events' Delta log at " + file, e);
    }
  }

  private static Optional<Instant> coveredUntil(SparkSession spark, LakeConfig config) {
    String location = LakeTable.BATCH_COVERAGE.location(config.storage());
    if (!DeltaTables.exists(spark, location)) {
      return Optional.empty();
    }
    Row row =
        spark
            .read()
            .format("delta")
            .load(location)
            .filter(col("view").equalTo("events_hourly"))
            .agg(max(col("covered_until")))
            .first();
    return row.isNullAt(0) ? Optional.empty() : Optional.of(row.getTimestamp(0).toInstant());
  }

  /** The newest raw.events version a batch run recorded it computed from. */
  private static Optional<Long> recordedVersion(SparkSession spark, LakeConfig config) {
    String location = LakeTable.BATCH_COMPUTED_DAYS.location(config.storage());
    if (!DeltaTables.exists(spark, location)) {
      return Optional.empty();
    }
    Row row =
        spark.read().format("delta").load(location).agg(max(col("raw_events_version"))).first();
    return row.isNullAt(0) ? Optional.empty() : Optional.of(row.getLong(0));
  }
}
