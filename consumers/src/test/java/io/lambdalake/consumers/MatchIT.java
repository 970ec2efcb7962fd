package io.lambdalake.consumers;

import static org.apache.spark.sql.functions.col;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.lambdalake.common.table.LakeTable;
import io.lambdalake.consumers.match.MatchJob;
import io.lambdalake.consumers.sample.SampleDatabase;
import io.lambdalake.stack.testing.TestSpark;
import io.lambdalake.stack.testing.TrinoSql;
import java.sql.Date;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

/**
 * The sample database through Maxwell, Kafka and the CDC job into the mirrors, then lake match:
 * hard preferences hold, a changed profile changes the recommendations (recomputed incrementally,
 * equal to a full recompute), and a run at an old version gives that version's recommendations
 * again. The table reads back through Trino.
 */
class MatchIT {
  private static final int PROFILES = 120;
  private static final int TOP_K = 5;

  @Test
  void recommendationsRespectHardPreferencesFollowChangesAndAreReproducible() throws Exception {
    ConsumersRun run = ConsumersRun.create("matchit");
    SparkSession spark = TestSpark.session();
    SampleDatabase sample = run.sample();
    sample.create(false);
    sample.generate(
        new SampleDatabase.Options(PROFILES, 2, 11, Instant.now()), ConsumersRun.quietly());
    awaitMirrors(run, spark);

    MatchJob.Result first =
        MatchJob.run(
            spark,
            run.config(),
            options(Optional.empty(), MatchJob.Recompute.INCREMENTAL),
            ConsumersRun.quietly());
    assertThat(first.recompute())
        .as("a first run is a full one")
        .isEqualTo(MatchJob.Recompute.FULL);
    List<String> atFirst = recommendations(spark, run);
    long activeProfiles =
        profilesAt(spark, run, first.profilesVersion())
            .filter(col("status").equalTo("active"))
            .count();
    assertThat(atFirst).isNotEmpty();
    assertThat(recommendationTable(spark, run).select("profile_id").distinct().count())
        .as("most active profiles get recommendations")
        .isGreaterThan(activeProfiles / 2);
    assertThat(
            recommendationTable(spark, run)
                .groupBy("profile_id")
                .count()
                .filter(col("count").gt(TOP_K))
                .count())
        .isZero();
    assertHardPreferences(spark, run, first);

    // A rerun at the same version gives the same recommendations.
    MatchJob.run(
        spark,
        run.config(),
        options(Optional.of(first.profilesVersion()), MatchJob.Recompute.FULL),
        ConsumersRun.quietly());
    assertThat(recommendations(spark, run)).isEqualTo(atFirst);

    // A seeker narrows their age range; a recommended candidate hides their profile.
    Row seeker =
        recommendationTable(spark, run)
            .filter(col("rank").equalTo(1))
            .orderBy("profile_id")
            .first();
    long seekerId = seeker.<Long>getAs("profile_id");
    long hiddenId =
        recommendationTable(spark, run)
            .filter(
                col("profile_id").notEqual(seekerId).and(col("candidate_id").notEqual(seekerId)))
            .orderBy("profile_id", "rank")
            .first()
            .<Long>getAs("candidate_id");
    List<String> seekerBefore = seekerRows(spark, run, seekerId);
    run.execute(
        "UPDATE profiles SET pref_age_min = 36, pref_age_max = 45, pref_religion = NULL,"
            + " updated_at = UTC_TIMESTAMP(3) WHERE id = "
            + seekerId,
        "UPDATE profiles SET status = 'hidden', updated_at = UTC_TIMESTAMP(3) WHERE id = "
            + hiddenId);
    await()
        .atMost(Duration.ofMinutes(15))
        .pollInterval(Duration.ofSeconds(1))
        .until(
            () -> {
              run.cdcAvailableNow(spark);
              Dataset<Row> profiles =
                  spark.read().format("delta").load(run.mirrors().location("profiles"));
              return profiles
                          .filter(col("id").equalTo(hiddenId).and(col("status").equalTo("hidden")))
                          .count()
                      == 1
                  && profiles
                          .filter(col("id").equalTo(seekerId).and(col("pref_age_min").equalTo(36)))
                          .count()
                      == 1;
            });

    MatchJob.Result second =
        MatchJob.run(
            spark,
            run.config(),
            options(Optional.empty(), MatchJob.Recompute.INCREMENTAL),
            ConsumersRun.quietly());
    assertThat(second.recompute()).isEqualTo(MatchJob.Recompute.INCREMENTAL);
    assertThat(second.profilesVersion()).isGreaterThan(first.profilesVersion());
    assertThat(second.recomputedProfiles()).isPositive().isLessThan(activeProfiles);
    assertThat(seekerRows(spark, run, seekerId)).isNotEqualTo(seekerBefore);
    assertThat(
            recommendationTable(spark, run).filter(col("candidate_id").equalTo(hiddenId)).count())
        .as("a hidden profile is nobody's candidate")
        .isZero();
    assertHardPreferences(spark, run, second);
    // Incremental equals a full recompute at the same version.
    assertThat(recommendations(spark, run))
        .isEqualTo(
            texts(MatchJob.recomputeAll(spark, run.config(), second.profilesVersion(), TOP_K)));

    // Time travel: the first version's recommendations again, although the profiles changed since.
    MatchJob.run(
        spark,
        run.config(),
        options(Optional.of(first.profilesVersion()), MatchJob.Recompute.INCREMENTAL),
        ConsumersRun.quietly());
    assertThat(recommendations(spark, run)).isEqualTo(atFirst);

    // Queryable in Trino.
    TrinoSql trino = new TrinoSql(run.config());
    trino.createSchema(run.name());
    trino.register(
        run.name(),
        "recommendations",
        LakeTable.CONSUMERS_RECOMMENDATIONS.location(run.config().storage()));
    assertThat(
            ((Number) trino.scalar("SELECT count(*) FROM " + run.name() + ".recommendations"))
                .longValue())
        .isEqualTo(atFirst.size());
    trino.unregister(run.name(), "recommendations");
  }

  private static MatchJob.Options options(Optional<Long> version, MatchJob.Recompute recompute) {
    return new MatchJob.Options(version, Optional.empty(), recompute, TOP_K);
  }

  private static void awaitMirrors(ConsumersRun run, SparkSession spark) throws Exception {
    long profiles = run.sourceCount("profiles");
    long interests = run.sourceCount("interests");
    await()
        .atMost(Duration.ofMinutes(15))
        .pollInterval(Duration.ofSeconds(1))
        .until(
            () -> {
              run.cdcAvailableNow(spark);
              return run.mirrorCount(spark, "profiles") == profiles
                  && run.mirrorCount(spark, "interests") == interests;
            });
  }

  /** No recommendation outside the seeker's hard preferences, ages taken on the run's date. */
  private static void assertHardPreferences(
      SparkSession spark, ConsumersRun run, MatchJob.Result result) {
    Date on = Date.valueOf(result.asOf().atZone(ZoneOffset.UTC).toLocalDate());
    Dataset<Row> profiles = profilesAt(spark, run, result.profilesVersion());
    Dataset<Row> seekers =
        profiles.select(
            col("id").as("s_id"),
            col("pref_gender"),
            col("pref_age_min"),
            col("pref_age_max"),
            col("pref_religion"));
    Dataset<Row> candidates =
        profiles.select(
            col("id").as("c_id"),
            col("gender"),
            col("religion"),
            col("status"),
            org.apache
                .spark
                .sql
                .functions
                .floor(
                    org.apache
                        .spark
                        .sql
                        .functions
                        .months_between(org.apache.spark.sql.functions.lit(on), col("birth_date"))
                        .divide(12))
                .as("age"));
    Dataset<Row> checked =
        recommendationTable(spark, run)
            .join(seekers, col("profile_id").equalTo(col("s_id")))
            .join(candidates, col("candidate_id").equalTo(col("c_id")));
    assertThat(checked.count()).isEqualTo(recommendationTable(spark, run).count());
    Dataset<Row> violations =
        checked.filter(
            col("gender")
                .notEqual(col("pref_gender"))
                .or(col("age").lt(col("pref_age_min")))
                .or(col("age").gt(col("pref_age_max")))
                .or(
                    col("pref_religion")
                        .isNotNull()
                        .and(col("religion").notEqual(col("pref_religion"))))
                .or(col("status").notEqual("active"))
                .or(col("profile_id").equalTo(col("candidate_id"))));
    assertThat(violations.count()).as("recommendations outside hard preferences").isZero();
  }

  private static Dataset<Row> profilesAt(SparkSession spark, ConsumersRun run, long version) {
    return spark
        .read()
        .format("delta")
        .option("versionAsOf", version)
        .load(run.mirrors().location("profiles"));
  }

  private static Dataset<Row> recommendationTable(SparkSession spark, ConsumersRun run) {
    return spark
        .read()
        .format("delta")
        .load(LakeTable.CONSUMERS_RECOMMENDATIONS.location(run.config().storage()));
  }

  private static List<String> recommendations(SparkSession spark, ConsumersRun run) {
    return texts(recommendationTable(spark, run));
  }

  private static List<String> seekerRows(SparkSession spark, ConsumersRun run, long seekerId) {
    return texts(recommendationTable(spark, run).filter(col("profile_id").equalTo(seekerId)));
  }

  private static List<String> texts(Dataset<Row> recommendations) {
    return recommendations
        .select(
            org.apache.spark.sql.functions.concat_ws(
                "|",
                col("profile_id").cast("string"),
                col("rank").cast("string"),
                col("candidate_id").cast("string"),
                col("score").cast("string")))
        .collectAsList()
        .stream()
        .map(row -> row.getString(0))
        .sorted()
        .toList();
  }
}
