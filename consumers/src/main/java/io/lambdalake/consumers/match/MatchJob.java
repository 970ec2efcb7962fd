package io.lambdalake.consumers.match;

import static java.util.Objects.requireNonNull;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.current_timestamp;
import static org.apache.spark.sql.functions.lit;

import io.delta.tables.DeltaTable;
import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.common.launch.Launcher;
import io.lambdalake.common.table.LakeTable;
import io.lambdalake.consumers.SampleMirrors;
import io.lambdalake.spark.DeltaTables;
import io.lambdalake.spark.LakeSpark;
import java.io.PrintStream;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import scala.jdk.javaapi.CollectionConverters;

/**
 * {@code lake match}: the top K candidates of every active profile into consumers.recommendations,
 * from the profiles mirror as of one Delta version (or time) and the interest history as of that
 * version's commit time, so a run at the same version gives the same recommendations.
 *
 * <p>Incremental by default: after a first full run, only seekers whose recommendations can change
 * are recomputed, found through the change data feed of both mirrors since the version of the last
 * run (state.match_runs): profiles that changed, senders of new interests, and seekers for whom a
 * changed profile is (or was) a candidate. Going back to an older version recomputes everything.
 */
public final class MatchJob {
  private MatchJob() {}

  public enum Recompute {
    INCREMENTAL,
    FULL
  }

  /**
   * @param profilesVersion the profiles mirror's version to read; else the one at {@code asOf};
   *     else the newest
   */
  public record Options(
      Optional<Long> profilesVersion, Optional<Instant> asOf, Recompute recompute, int topK) {
    public Options {
      requireNonNull(profilesVersion, "profilesVersion is null");
      requireNonNull(asOf, "asOf is null");
      requireNonNull(recompute, "recompute is null");
      if (profilesVersion.isPresent() && asOf.isPresent()) {
        throw new LakeException(
            ErrorCode.INVALID_ARGUMENT, "Give either --version or --as-of, not both");
      }
      if (profilesVersion.filter(version -> version < 0).isPresent()) {
        throw new LakeException(
            ErrorCode.INVALID_ARGUMENT,
            "--version must not be negative, but is " + profilesVersion.get());
      }
      if (topK < 1) {
        throw new LakeException(
            ErrorCode.INVALID_ARGUMENT, "--top-k must be positive, but is " + topK);
      }
    }
  }

  /** What a run did. */
  public record Result(
      long profilesVersion,
      long interestsVersion,
      Instant asOf,
      Recompute recompute,
      long recomputedProfiles) {}

  /** A mirror version and its commit time. */
  record Snapshot(long version, Instant committedAt) {}

  public static void main(String[] arguments) {
    System.exit(Launcher.run(new MatchCommand(), arguments));
  }

  static Result runWithOwnSession(LakeConfig config, Options options) {
    return run(LakeSpark.session(config, "lambda-lake-match"), config, options, System.out);
  }

  public static Result run(
      SparkSession spark, LakeConfig config, Options options, PrintStream progress) {
    requireNonNull(spark, "spark is null");
    requireNonNull(config, "config is null");
    requireNonNull(options, "options is null");
    SampleMirrors mirrors = SampleMirrors.of(config);
    String profilesLocation = mirrors.require(spark, "profiles");
    String interestsLocation = mirrors.require(spark, "interests");
    Snapshot profilesSnapshot = profilesSnapshot(spark, profilesLocation, options);
    Optional<Snapshot> interestsSnapshot =
        interestsFor(
            spark,
            config,
            mirrors,
            interestsLocation,
            profilesSnapshot,
            options.profilesVersion().isEmpty() && options.asOf().isEmpty());
    LocalDate referenceDate = profilesSnapshot.committedAt().atZone(ZoneOffset.UTC).toLocalDate();
    progress.printf(
        "match: %s at version %d (%s), interests at version %s; ages on %s%n",
        mirrors.tableName("profiles"),
        profilesSnapshot.version(),
        profilesSnapshot.committedAt(),
        interestsSnapshot.map(snapshot -> Long.toString(snapshot.version())).orElse("(none)"),
        referenceDate);

    Dataset<Row> profiles =
        MatchScoring.withAge(
                spark
                    .read()
                    .format("delta")
                    .option("versionAsOf", profilesSnapshot.version())
                    .load(profilesLocation),
                referenceDate)
            .cache();
    Dataset<Row> interests =
        interestsSnapshot
            .map(
                snapshot ->
                    spark
                        .read()
                        .format("delta")
                        .option("versionAsOf", snapshot.version())
                        .load(interestsLocation))
            .orElseGet(() -> emptyLike(spark, interestsLocation))
            .cache();
    try {
      String recommendations =
          DeltaTables.ensure(spark, config, LakeTable.CONSUMERS_RECOMMENDATIONS);
      Optional<Row> last = lastRun(spark, config, mirrors);
      Recompute recompute = options.recompute();
      if (recompute == Recompute.INCREMENTAL
          && (last.isEmpty()
              || last.get().<Long>getAs("profiles_version") > profilesSnapshot.version()
              // Ages are taken on the snapshot's date: a new day can move anyone in or out of
              // range.
              || !last.get()
                  .<Timestamp>getAs("as_of")
                  .toInstant()
                  .atZone(ZoneOffset.UTC)
                  .toLocalDate()
                  .equals(referenceDate))) {
        recompute = Recompute.FULL;
      }
      Dataset<Row> seekers =
          recompute == Recompute.FULL
              ? profiles.select("id")
              : affectedSeekers(
                  spark,
                  profiles,
                  interests,
                  recommendations,
                  profilesLocation,
                  interestsLocation,
                  last.get(),
                  profilesSnapshot,
                  interestsSnapshot);
      seekers = seekers.distinct().cache();
      long seekerCount = seekers.count();
      Dataset<Row> computed =
          MatchScoring.recommend(profiles, interests, seekers, options.topK())
              .withColumn("profiles_version", lit(profilesSnapshot.version()))
              .withColumn("as_of", lit(Timestamp.from(profilesSnapshot.committedAt())))
              .withColumn("computed_at", current_timestamp())
              .select(columns(LakeTable.CONSUMERS_RECOMMENDATIONS));
      if (recompute == Recompute.FULL) {
        computed.write().format("delta").mode("overwrite").save(recommendations);
      } else if (seekerCount > 0) {
        replaceSeekers(spark, recommendations, computed, seekers);
      }
      seekers.unpersist();
      Result result =
          new Result(
              profilesSnapshot.version(),
              interestsSnapshot.map(Snapshot::version).orElse(-1L),
              profilesSnapshot.committedAt(),
              recompute,
              seekerCount);
      recordRun(spark, config, mirrors, result);
      progress.printf(
          "match: %s run recomputed %d profiles at version %d into %s%n",
          recompute.name().toLowerCase(Locale.ROOT),
          seekerCount,
          profilesSnapshot.version(),
          LakeTable.CONSUMERS_RECOMMENDATIONS.qualifiedName());
      progress.flush();
      return result;
    } finally {
      profiles.unpersist();
      interests.unpersist();
    }
  }

  /**
   * The recommendations of every active profile at a snapshot, computed from scratch and not
   * written: what an incremental run must equal.
   */
  public static Dataset<Row> recomputeAll(
      SparkSession spark, LakeConfig config, long profilesVersion, int topK) {
    SampleMirrors mirrors = SampleMirrors.of(config);
    String profilesLocation = mirrors.require(spark, "profiles");
    String interestsLocation = mirrors.require(spark, "interests");
    Snapshot snapshot =
        profilesSnapshot(
            spark,
            profilesLocation,
            new Options(Optional.of(profilesVersion), Optional.empty(), Recompute.FULL, topK));
    Dataset<Row> profiles =
        MatchScoring.withAge(
            spark
                .read()
                .format("delta")
                .option("versionAsOf", profilesVersion)
                .load(profilesLocation),
            snapshot.committedAt().atZone(ZoneOffset.UTC).toLocalDate());
    Dataset<Row> interests =
        interestsFor(spark, config, mirrors, interestsLocation, snapshot, false)
            .map(
                found ->
                    spark
                        .read()
                        .format("delta")
                        .option("versionAsOf", found.version())
                        .load(interestsLocation))
            .orElseGet(() -> emptyLike(spark, interestsLocation));
    return MatchScoring.recommend(profiles, interests, profiles.select("id"), topK);
  }

  /**
   * Seekers whose top K can differ from the last run's: changed profiles themselves; senders of
   * changed interests (their pattern and exclusions); seekers who sent interests to a changed
   * profile (their pattern counts its attributes); and, for every changed candidate (a changed
   * profile, or the receiver of a changed interest, whose acceptance rate moved), the seekers who
   * listed it and those whose hard preferences it now meets.
   */
  private static Dataset<Row> affectedSeekers(
      SparkSession spark,
      Dataset<Row> profiles,
      Dataset<Row> interests,
      String recommendations,
      String profilesLocation,
      String interestsLocation,
      Row last,
      Snapshot profilesSnapshot,
      Optional<Snapshot> interestsSnapshot) {
    long lastProfiles = last.<Long>getAs("profiles_version");
    long lastInterests = last.<Long>getAs("interests_version");
    Dataset<Row> changedProfiles =
        changes(spark, profilesLocation, lastProfiles, profilesSnapshot.version())
            .select(col("id"))
            .distinct()
            .cache();
    Dataset<Row> changedInterests =
        interestsSnapshot
            .map(snapshot -> changes(spark, interestsLocation, lastInterests, snapshot.version()))
            .orElseGet(() -> emptyLike(spark, interestsLocation))
            .select(col("sender_id"), col("receiver_id"))
            .cache();
    Dataset<Row> changedCandidates =
        changedProfiles
            .unionByName(changedInterests.select(col("receiver_id").as("id")))
            .distinct()
            .select(col("id").as("changed_id"));
    Dataset<Row> listing =
        spark
            .read()
            .format("delta")
            .load(recommendations)
            .join(changedCandidates, col("candidate_id").equalTo(col("changed_id")))
            .select(col("profile_id").as("id"));
    Dataset<Row> sentToChanged =
        interests
            .join(
                changedProfiles.select(col("id").as("changed_id")),
                col("receiver_id").equalTo(col("changed_id")))
            .select(col("sender_id").as("id"));
    Dataset<Row> active = profiles.filter(col("status").equalTo("active"));
    Dataset<Row> seekerSide = active.select(prefixed(active, "s_"));
    Dataset<Row> candidateSide =
        active
            .join(changedCandidates, col("id").equalTo(col("changed_id")))
            .select(prefixed(active, "c_"));
    Dataset<Row> nowCandidate =
        seekerSide.join(candidateSide, MatchScoring.hardPreferences()).select(col("s_id").as("id"));
    return changedProfiles
        .unionByName(changedInterests.select(col("sender_id").as("id")))
        .unionByName(sentToChanged)
        .unionByName(listing)
        .unionByName(nowCandidate);
  }

  private static Column[] prefixed(Dataset<Row> profiles, String prefix) {
    return List.of(profiles.columns()).stream()
        .filter(name -> !name.startsWith("_"))
        .map(name -> col(name).as(prefix + name))
        .toArray(Column[]::new);
  }

  /** The change data feed after one version up to another (empty when they are equal). */
  private static Dataset<Row> changes(
      SparkSession spark, String location, long afterVersion, long untilVersion) {
    if (untilVersion <= afterVersion) {
      return emptyLike(spark, location);
    }
    return spark
        .read()
        .format("delta")
        .option("readChangeFeed", "true")
        .option("startingVersion", afterVersion + 1)
        .option("endingVersion", untilVersion)
        .load(location);
  }

  /**
   * Replaces the seekers' rows in one commit: their new rows by MERGE, and each old row of theirs
   * that is not among the new ones deleted.
   */
  private static void replaceSeekers(
      SparkSession spark, String recommendations, Dataset<Row> computed, Dataset<Row> seekers) {
    Dataset<Row> existing =
        spark
            .read()
            .format("delta")
            .load(recommendations)
            .join(
                seekers.select(col("id").as("seeker_id")),
                col("profile_id").equalTo(col("seeker_id")))
            .drop("seeker_id");
    Dataset<Row> gone =
        existing
            .join(
                computed.select("profile_id", "candidate_id"),
                CollectionConverters.asScala(List.of("profile_id", "candidate_id")).toSeq(),
                "left_anti")
            .withColumn("_delete", lit(true));
    Dataset<Row> source = computed.withColumn("_delete", lit(false)).unionByName(gone);
    DeltaTable.forPath(spark, recommendations)
        .as("t")
        .merge(source.as("s"), "t.profile_id = s.profile_id AND t.candidate_id = s.candidate_id")
        .whenMatched("s._delete")
        .delete()
        .whenMatched()
        .updateExpr(assignments())
        .whenNotMatched("NOT s._delete")
        .insertExpr(assignments())
        .execute();
  }

  private static Map<String, String> assignments() {
    Map<String, String> set = new LinkedHashMap<>();
    for (String column : columnNames(LakeTable.CONSUMERS_RECOMMENDATIONS)) {
      set.put(column, "s." + column);
    }
    return set;
  }

  private static Snapshot profilesSnapshot(SparkSession spark, String location, Options options) {
    List<Row> history =
        DeltaTable.forPath(spark, location)
            .history()
            .select(col("version"), col("timestamp"))
            .orderBy(col("version").desc())
            .collectAsList();
    if (options.profilesVersion().isPresent()) {
      long wanted = options.profilesVersion().get();
      return history.stream()
          .filter(row -> row.getLong(0) == wanted)
          .findFirst()
          .map(MatchJob::snapshot)
          .orElseThrow(
              () ->
                  new LakeException(
                      ErrorCode.INVALID_ARGUMENT,
                      "The profiles mirror has no version "
                          + wanted
                          + " (newest is "
                          + history.get(0).getLong(0)
                          + "; older ones may have been vacuumed)"));
    }
    if (options.asOf().isPresent()) {
      Instant asOf = options.asOf().get();
      return latestAt(spark, location, asOf)
          .orElseThrow(
              () ->
                  new LakeException(
                      ErrorCode.INVALID_ARGUMENT,
                      "The profiles mirror did not exist yet at " + asOf));
    }
    return snapshot(history.get(0));
  }

  /**
   * The interests version paired with a profiles version: the one an earlier run at that profiles
   * version used (state.match_runs), so a rerun reads the same data; else, for the newest profiles,
   * the newest interests; else the newest interests committed by the profiles version's commit.
   */
  private static Optional<Snapshot> interestsFor(
      SparkSession spark,
      LakeConfig config,
      SampleMirrors mirrors,
      String interestsLocation,
      Snapshot profiles,
      boolean newest) {
    String runs = LakeTable.STATE_MATCH_RUNS.location(config.storage());
    if (DeltaTables.exists(spark, runs)) {
      List<Row> recorded =
          spark
              .read()
              .format("delta")
              .load(runs)
              .filter(
                  col("profiles_table")
                      .equalTo(mirrors.tableName("profiles"))
                      .and(col("profiles_version").equalTo(profiles.version()))
                      .and(col("interests_version").geq(0)))
              .orderBy(col("finished_at").asc())
              .limit(1)
              .collectAsList();
      if (!recorded.isEmpty()) {
        long version = recorded.get(0).<Long>getAs("interests_version");
        return latestAt(spark, interestsLocation, Instant.now())
            .filter(latest -> latest.version() >= version)
            .flatMap(latest -> versionSnapshot(spark, interestsLocation, version));
      }
    }
    return newest
        ? latestAt(spark, interestsLocation, Instant.now())
        : latestAt(spark, interestsLocation, profiles.committedAt());
  }

  private static Optional<Snapshot> versionSnapshot(
      SparkSession spark, String location, long version) {
    return DeltaTable.forPath(spark, location)
        .history()
        .select(col("version"), col("timestamp"))
        .filter(col("version").equalTo(version))
        .collectAsList()
        .stream()
        .findFirst()
        .map(MatchJob::snapshot);
  }

  /** The newest version committed at or before the instant. */
  private static Optional<Snapshot> latestAt(SparkSession spark, String location, Instant instant) {
    return DeltaTable.forPath(spark, location)
        .history()
        .select(col("version"), col("timestamp"))
        .filter(col("timestamp").leq(lit(Timestamp.from(instant))))
        .orderBy(col("version").desc())
        .limit(1)
        .collectAsList()
        .stream()
        .findFirst()
        .map(MatchJob::snapshot);
  }

  private static Snapshot snapshot(Row row) {
    return new Snapshot(row.getLong(0), row.getTimestamp(1).toInstant());
  }

  private static Dataset<Row> emptyLike(SparkSession spark, String location) {
    return spark.read().format("delta").load(location).limit(0);
  }

  private static Optional<Row> lastRun(
      SparkSession spark, LakeConfig config, SampleMirrors mirrors) {
    String runs = LakeTable.STATE_MATCH_RUNS.location(config.storage());
    if (!DeltaTables.exists(spark, runs)) {
      return Optional.empty();
    }
    return spark
        .read()
        .format("delta")
        .load(runs)
        .filter(col("profiles_table").equalTo(mirrors.tableName("profiles")))
        .orderBy(col("finished_at").desc())
        .limit(1)
        .collectAsList()
        .stream()
        .findFirst();
  }

  private static void recordRun(
      SparkSession spark, LakeConfig config, SampleMirrors mirrors, Result result) {
    String runs = DeltaTables.ensure(spark, config, LakeTable.STATE_MATCH_RUNS);
    spark
        .createDataFrame(
            List.of(
                RowFactory.create(
                    mirrors.tableName("profiles"),
                    result.profilesVersion(),
                    result.interestsVersion(),
                    Timestamp.from(result.asOf()),
                    result.recompute().name().toLowerCase(Locale.ROOT),
                    result.recomputedProfiles(),
                    Timestamp.from(Instant.now()))),
            StructType.fromDDL(LakeTable.STATE_MATCH_RUNS.columns()))
        .write()
        .format("delta")
        .mode("append")
        .save(runs);
  }

  private static Column[] columns(LakeTable table) {
    return columnNames(table).stream().map(name -> col(name)).toArray(Column[]::new);
  }

  private static List<String> columnNames(LakeTable table) {
    return List.of(StructType.fromDDL(table.columns()).fieldNames());
  }
}
