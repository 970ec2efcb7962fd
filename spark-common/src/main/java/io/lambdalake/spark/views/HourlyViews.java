package io.lambdalake.spark.views;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.current_timestamp;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.regexp_replace;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.to_date;
import static org.apache.spark.sql.functions.udaf;
import static org.apache.spark.sql.functions.when;
import static org.apache.spark.sql.functions.window;

import io.lambdalake.spark.sketch.UniqueUsers;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.expressions.UserDefinedFunction;

/**
 * The hourly views, defined once for both layers: the batch layer applies them to a day of {@code
 * raw.events}, the speed layer to the stream of it. Hours are UTC; an event counts in the hour of
 * its event time. Bots are left out unless asked for.
 *
 * <ul>
 *   <li>{@code events_hourly}: per tracking ID, hour and event name: events, a unique-user sketch,
 *       and the sum of {@code value} over the events that carry one.
 *   <li>{@code pages_hourly}: per tracking ID, hour and page (URL without query and fragment): page
 *       views and a unique-user sketch.
 * </ul>
 *
 * A user is {@code user_id} when the site knows it, else the browser's {@code client_id}.
 */
public final class HourlyViews {
  public static final String PAGE_VIEW = "page_view";
  private static final UserDefinedFunction USERS =
      udaf(UniqueUsers.sketch(), Encoders.STRING()).withName("unique_users_sketch");

  private HourlyViews() {}

  /** The events the views count: humans only, unless bots are included. */
  public static Dataset<Row> countedEvents(Dataset<Row> rawEvents, BotPolicy botPolicy) {
    return switch (botPolicy) {
      case EXCLUDE_BOTS -> rawEvents.filter(col("is_bot").equalTo(false));
      case INCLUDE_BOTS -> rawEvents;
    };
  }

  public static Dataset<Row> eventsHourly(Dataset<Row> events, String logicVersion) {
    return eventsHourly(events, logicVersion, current_timestamp());
  }

  /**
   * The events view with a given {@code computed_at}: the batch layer passes a value that depends
   * only on its input, so recomputing unchanged input gives identical rows.
   */
  public static Dataset<Row> eventsHourly(
      Dataset<Row> events, String logicVersion, Column computedAt) {
    Dataset<Row> aggregated =
        events
            .groupBy(
                col("tracking_id"),
                window(col("event_time"), "1 hour").as("window"),
                col("event_name"))
            .agg(
                count(lit(1)).as("events"),
                USERS.apply(userOf()).as("users_sketch"),
                sum(col("value")).as("value_sum"),
                count(col("value")).as("valued_events"));
    return aggregated.select(
        col("tracking_id"),
        to_date(col("window.start")).as("event_date"),
        col("window.start").as("hour"),
        col("event_name"),
        col("events"),
        col("users_sketch"),
        col("value_sum").cast("decimal(28,4)").as("value_sum"),
        col("valued_events"),
        lit(logicVersion).as("logic_version"),
        computedAt.as("computed_at"));
  }

  public static Dataset<Row> pagesHourly(Dataset<Row> events, String logicVersion) {
    return pagesHourly(events, logicVersion, current_timestamp());
  }

  /** The pages view with a given {@code computed_at} (see {@link #eventsHourly}). */
  public static Dataset<Row> pagesHourly(
      Dataset<Row> events, String logicVersion, Column computedAt) {
    Dataset<Row> aggregated =
        events
            .filter(col("event_name").equalTo(PAGE_VIEW).and(col("page_url").isNotNull()))
            .withColumn("page", pageOf(col("page_url")))
            .groupBy(
                col("tracking_id"), window(col("event_time"), "1 hour").as("window"), col("page"))
            .agg(count(lit(1)).as("pageviews"), USERS.apply(userOf()).as("users_sketch"));
    return aggregated.select(
        col("tracking_id"),
        to_date(col("window.start")).as("event_date"),
        col("window.start").as("hour"),
        col("page").as("page_url"),
        col("pageviews"),
        col("users_sketch"),
        lit(logicVersion).as("logic_version"),
        computedAt.as("computed_at"));
  }

  /** The user an event counts for. */
  public static Column userOf() {
    return coalesce(col("user_id"), col("client_id"));
  }

  /** A page is its URL without query string and fragment. */
  public static Column pageOf(Column url) {
    return when(url.isNull(), lit(null)).otherwise(regexp_replace(url, "[?#].*$", ""));
  }

  /** Whether the views count events flagged as bots. */
  public enum BotPolicy {
    EXCLUDE_BOTS,
    INCLUDE_BOTS
  }
}
