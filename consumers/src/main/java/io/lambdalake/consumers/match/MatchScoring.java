package io.lambdalake.consumers.match;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat_ws;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.floor;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.months_between;
import static org.apache.spark.sql.functions.round;
import static org.apache.spark.sql.functions.row_number;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import java.sql.Date;
import java.time.LocalDate;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.expressions.Window;

/**
 * How a seeker's candidates are chosen and scored.
 *
 * <p>Hard preferences filter: the candidate's gender is the seeker's preferred one, the candidate's
 * age (on the reference date) lies within the seeker's range, and the religion matches when the
 * seeker set one; candidates the seeker already sent an interest to, and inactive profiles, are
 * left out. The score adds: mutual fit (the seeker meets the candidate's own hard preferences, 3),
 * the preferred city (1, or 0.5 for the same city), the preferred minimum education (0.5), the
 * seeker's past interest pattern (2 x the average share of the seeker's interests that went to the
 * candidate's city, community and education level) and how often the candidate accepts interests (1
 * x the acceptance rate). Ties go to the lower candidate ID, so a run is reproducible.
 */
final class MatchScoring {
  private MatchScoring() {}

  /** Profiles with their age on the reference date. */
  static Dataset<Row> withAge(Dataset<Row> profiles, LocalDate referenceDate) {
    return profiles.withColumn(
        "age",
        floor(months_between(lit(Date.valueOf(referenceDate)), col("birth_date")).divide(12))
            .cast("int"));
  }

  /**
   * The top K recommendations of each seeker.
   *
   * @param profiles every profile, with {@link #withAge}
   * @param interests the interest history
   * @param seekers the IDs of the seekers to compute (column id)
   */
  static Dataset<Row> recommend(
      Dataset<Row> profiles, Dataset<Row> interests, Dataset<Row> seekers, int topK) {
    Dataset<Row> active = profiles.filter(col("status").equalTo("active"));
    Dataset<Row> seeker =
        active
            .join(
                seekers.select(col("id").as("seeker_id")).distinct(),
                col("id").equalTo(col("seeker_id")))
            .select(prefixed(active, "s_"));
    Dataset<Row> candidate = active.select(prefixed(active, "c_"));
    Dataset<Row> pairs =
        seeker
            .join(candidate, hardPreferences())
            .join(
                interests.select(col("sender_id").as("sent_by"), col("receiver_id").as("sent_to")),
                col("s_id").equalTo(col("sent_by")).and(col("c_id").equalTo(col("sent_to"))),
                "left_anti");

    Dataset<Row> pattern = pattern(profiles, interests);
    Dataset<Row> acceptance =
        interests
            .filter(col("status").isin("accepted", "declined"))
            .groupBy(col("receiver_id").as("a_id"))
            .agg(
                sum(when(col("status").equalTo("accepted"), 1).otherwise(0))
                    .divide(count(lit(1)))
                    .as("acceptance_rate"));

    Dataset<Row> scored =
        pairs
            .join(
                share(pattern, "city"),
                col("s_id")
                    .equalTo(col("p_city_sender"))
                    .and(col("c_city").equalTo(col("p_city_value"))),
                "left")
            .join(
                share(pattern, "community"),
                col("s_id")
                    .equalTo(col("p_community_sender"))
                    .and(col("c_community").equalTo(col("p_community_value"))),
                "left")
            .join(
                share(pattern, "education_level"),
                col("s_id")
                    .equalTo(col("p_education_level_sender"))
                    .and(
                        col("c_education_level")
                            .cast("string")
                            .equalTo(col("p_education_level_value"))),
                "left")
            .join(acceptance, col("c_id").equalTo(col("a_id")), "left");

    Column mutual = mutualFit();
    Column preferredCity =
        col("s_pref_city").isNotNull().and(col("c_city").equalTo(col("s_pref_city")));
    Column sameCity = col("c_city").equalTo(col("s_city"));
    Column education =
        col("s_pref_education_min")
            .isNotNull()
            .and(col("c_education_level").geq(col("s_pref_education_min")));
    Column patternShare =
        coalesce(col("p_city_share"), lit(0.0))
            .plus(coalesce(col("p_community_share"), lit(0.0)))
            .plus(coalesce(col("p_education_level_share"), lit(0.0)))
            .divide(3.0);
    Column acceptanceRate = coalesce(col("acceptance_rate"), lit(0.0));
    Column score =
        when(mutual, 3.0)
            .otherwise(0.0)
            .plus(when(preferredCity, 1.0).when(sameCity, 0.5).otherwise(0.0))
            .plus(when(education, 0.5).otherwise(0.0))
            .plus(patternShare.multiply(2.0))
            .plus(acceptanceRate);
    Column reasons =
        concat_ws(
            ",",
            when(mutual, lit("mutual_preferences")),
            when(preferredCity, lit("preferred_city")).when(sameCity, lit("same_city")),
            when(education, lit("preferred_education")),
            when(patternShare.gt(0), lit("interest_pattern")),
            when(acceptanceRate.gt(0), lit("responsive")));
    return scored
        .select(
            col("s_id").as("profile_id"),
            col("c_id").as("candidate_id"),
            round(score, 6).as("score"),
            reasons.as("reasons"))
        .withColumn(
            "rank",
            row_number()
                .over(
                    Window.partitionBy("profile_id")
                        .orderBy(col("score").desc(), col("candidate_id").asc())))
        .filter(col("rank").leq(topK));
  }

  /** The seeker's hard preferences, met by the candidate. */
  static Column hardPreferences() {
    return col("c_id")
        .notEqual(col("s_id"))
        .and(col("c_gender").equalTo(col("s_pref_gender")))
        .and(col("c_age").between(col("s_pref_age_min"), col("s_pref_age_max")))
        .and(col("s_pref_religion").isNull().or(col("c_religion").equalTo(col("s_pref_religion"))));
  }

  /** The candidate's hard preferences, met by the seeker. */
  private static Column mutualFit() {
    return col("s_gender")
        .equalTo(col("c_pref_gender"))
        .and(col("s_age").between(col("c_pref_age_min"), col("c_pref_age_max")))
        .and(col("c_pref_religion").isNull().or(col("s_religion").equalTo(col("c_pref_religion"))));
  }

  /** Per sender, how many interests went to receivers of each city, community, education. */
  private static Dataset<Row> pattern(Dataset<Row> profiles, Dataset<Row> interests) {
    Dataset<Row> receivers =
        profiles.select(
            col("id").as("r_id"),
            col("city").as("r_city"),
            col("community").as("r_community"),
            col("education_level").cast("string").as("r_education_level"));
    return interests
        .select(col("sender_id"), col("receiver_id"))
        .join(receivers, col("receiver_id").equalTo(col("r_id")));
  }

  private static Dataset<Row> share(Dataset<Row> pattern, String attribute) {
    Dataset<Row> totals =
        pattern.groupBy(col("sender_id").as("t_sender")).agg(count(lit(1)).as("t_total"));
    String prefix = "p_" + attribute + "_";
    Dataset<Row> counts =
        pattern.groupBy(col("sender_id"), col("r_" + attribute)).agg(count(lit(1)).as("n"));
    return counts
        .join(totals, col("sender_id").equalTo(col("t_sender")))
        .select(
            col("sender_id").as(prefix + "sender"),
            col("r_" + attribute).as(prefix + "value"),
            col("n").divide(col("t_total")).as(prefix + "share"));
  }

  private static Column[] prefixed(Dataset<Row> profiles, String prefix) {
    return List.of(profiles.columns()).stream()
        .filter(name -> !name.startsWith("_"))
        .map(name -> col(name).as(prefix + name))
        .toArray(Column[]::new);
  }
}
