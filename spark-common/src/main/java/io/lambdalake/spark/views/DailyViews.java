package io.lambdalake.spark.views;

import static org.apache.spark.sql.functions.array_sort;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.collect_list;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.floor;
import static org.apache.spark.sql.functions.lag;
import static org.apache.spark.sql.functions.last;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.map_from_entries;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.row_number;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.udaf;
import static org.apache.spark.sql.functions.udf;
import static org.apache.spark.sql.functions.unix_micros;
import static org.apache.spark.sql.functions.when;

import io.lambdalake.spark.sketch.UniqueUsers;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.expressions.WindowSpec;
import org.apache.spark.sql.types.DataTypes;

/**
 * The daily views of the batch layer, over one UTC day of counted events (see {@link
 * HourlyViews#countedEvents}). They need the whole day, so only the batch layer computes them.
 *
 * <ul>
 *   <li>A session is a run of one client's events (per tracking ID) with no gap longer than 30
 *       minutes; sessions are cut at midnight UTC, so a day's sessions depend on that day only. A
 *       session bounces when it has exactly one event. Its traffic source, medium, campaign, device
 *       class and browser are those of its first event; its entrance is its first page view.
 *   <li>Revenue is the sum of {@code value} over {@code purchase} events, per currency; a purchase
 *       without a value or currency counts as a purchase but adds no revenue.
 *   <li>Dimension values an event did not carry are {@code (none)}, so no key is null.
 * </ul>
 *
 * Every ordering is total (event time, then event ID), so recomputing a day gives the same rows.
 */
public final class DailyViews {
  static final Duration SESSION_GAP = Duration.ofMinutes(30);
  static final String NONE = "(none)";
  static final String PURCHASE = "purchase";

  private static final UserDefinedFunction USERS =
      udaf(UniqueUsers.sketch(), Encoders.STRING()).withName("unique_users_sketch");
  private static final UserDefinedFunction CARDINALITY =
      udf((UDF1<byte[], Long>) sketch -> UniqueUsers.cardinality(sketch), DataTypes.LongType)
          .withName("unique_users_cardinality");
  private static final List<String> TRAFFIC_DIMENSIONS =
      List.of("traffic_source", "traffic_medium", "traffic_campaign", "device_class", "browser");

  /** The columns of {@code raw.events} the batch views read; the job caches only these. */
  public static final List<String> INPUT_COLUMNS =
      Stream.concat(
              Stream.of(
                  "event_id",
                  "tracking_id",
                  "event_name",
                  "event_time",
                  "event_date",
                  "client_id",
                  "user_id",
                  "page_url",
                  "value",
                  "currency"),
              TRAFFIC_DIMENSIONS.stream())
          .toList();

  private DailyViews() {}

  /**
   * The day's counted events, each with its session ({@code session_number}, per tracking ID and
   * client) and the session's {@code session_*} dimensions, those of its first event.
   *
   * <p>One sort of the day by client and time serves everything: the session number is the running
   * count of session starts, and a session's dimensions are those of the latest start, so every
   * window here looks only backwards (no frame has to hold a whole session).
   */
  public static Dataset<Row> sessionized(Dataset<Row> counted) {
    WindowSpec byClient =
        Window.partitionBy(col("tracking_id"), col("client_id"))
            .orderBy(col("event_time"), col("event_id"));
    WindowSpec soFar = byClient.rowsBetween(Window.unboundedPreceding(), Window.currentRow());
    Column gapMicros =
        unix_micros(col("event_time")).minus(unix_micros(lag(col("event_time"), 1).over(byClient)));
    Column startsSession =
        when(gapMicros.isNull().or(gapMicros.gt(SESSION_GAP.toNanos() / 1_000)), 1).otherwise(0);
    Dataset<Row> withAttributes =
        counted
            .withColumn("page", HourlyViews.pageOf(col("page_url")))
            .withColumn("starts_session", startsSession)
            .withColumn("session_number", sum(col("starts_session")).over(soFar));
    for (String dimension : TRAFFIC_DIMENSIONS) {
      Column atStart = when(col("starts_session").equalTo(1), coalesce(col(dimension), lit(NONE)));
      withAttributes =
          withAttributes.withColumn("session_" + dimension, last(atStart, true).over(soFar));
    }
    return withAttributes;
  }

  /**
   * One row per session: its events, length, bounce, attributes and {@code entrance_page}, the page
   * of its first page view (null when it has none).
   */
  public static Dataset<Row> sessions(Dataset<Row> sessionized) {
    Column[] keys =
        concat(
            List.of(col("tracking_id"), col("client_id"), col("session_number")),
            TRAFFIC_DIMENSIONS.stream().map(dimension -> col("session_" + dimension)).toList(),
            List.of());
    Column firstPageView =
        min(when(isPageView(), struct(col("event_time"), col("event_id"), col("page"))));
    return sessionized
        .groupBy(keys)
        .agg(
            count(lit(1)).as("session_events"),
            floor(
                    unix_micros(max(col("event_time")))
                        .minus(unix_micros(min(col("event_time"))))
                        .divide(1_000_000))
                .cast("long")
                .as("session_seconds"),
            firstPageView.getField("page").as("entrance_page"))
        .withColumn("bounced", when(col("session_events").equalTo(1), 1L).otherwise(0L));
  }

  public static Dataset<Row> eventsDaily(
      Dataset<Row> sessionized, Dataset<Row> sessions, String logicVersion, Column computedAt) {
    Dataset<Row> events =
        sessionized
            .groupBy(col("tracking_id"), col("event_date"))
            .agg(
                count(lit(1)).as("events"),
                sum(isPageView().cast("long")).as("pageviews"),
                USERS.apply(HourlyViews.userOf()).as("users_sketch"),
                sum(col("event_name").equalTo(PURCHASE).cast("long")).as("purchases"));
    Dataset<Row> sessionTotals =
        sessions
            .groupBy(col("tracking_id"))
            .agg(
                count(lit(1)).as("sessions"),
                sum(col("bounced")).as("bounced_sessions"),
                sum(col("session_seconds")).as("session_seconds"));
    Dataset<Row> revenue =
        sessionized
            .filter(
                col("event_name")
                    .equalTo(PURCHASE)
                    .and(col("value").isNotNull())
                    .and(col("currency").isNotNull()))
            .groupBy(col("tracking_id"), col("currency"))
            .agg(sum(col("value")).cast("decimal(28,4)").as("amount"))
            .groupBy(col("tracking_id"))
            .agg(
                map_from_entries(array_sort(collect_list(struct(col("currency"), col("amount")))))
                    .as("revenue"));
    Column emptyRevenue = org.apache.spark.sql.functions.map().cast("map<string,decimal(28,4)>");
    return events
        .join(sessionTotals, "tracking_id")
        .join(revenue, new String[] {"tracking_id"}, "left")
        .select(
            col("tracking_id"),
            col("event_date"),
            col("events"),
            col("pageviews"),
            col("users_sketch"),
            CARDINALITY.apply(col("users_sketch")).as("users"),
            col("sessions"),
            col("bounced_sessions"),
            col("bounced_sessions").cast("double").divide(col("sessions")).as("bounce_rate"),
            col("session_seconds"),
            col("purchases"),
            coalesce(col("revenue"), emptyRevenue).as("revenue"),
            lit(logicVersion).as("logic_version"),
            computedAt.as("computed_at"));
  }

  public static Dataset<Row> pagesDaily(
      Dataset<Row> sessionized, Dataset<Row> sessions, String logicVersion, Column computedAt) {
    Dataset<Row> pages =
        sessionized
            .filter(isPageView())
            .groupBy(col("tracking_id"), col("event_date"), col("page").as("page_url"))
            .agg(
                count(lit(1)).as("pageviews"),
                USERS.apply(HourlyViews.userOf()).as("users_sketch"));
    Dataset<Row> entrances =
        sessions
            .filter(col("entrance_page").isNotNull())
            .groupBy(col("tracking_id"), col("entrance_page").as("page_url"))
            .agg(count(lit(1)).as("entrances"));
    WindowSpec byMerchant =
        Window.partitionBy(col("tracking_id"))
            .orderBy(col("pageviews").desc(), col("page_url").asc());
    return pages
        .join(entrances, new String[] {"tracking_id", "page_url"}, "left")
        .select(
            col("tracking_id"),
            col("event_date"),
            col("page_url"),
            col("pageviews"),
            col("users_sketch"),
            CARDINALITY.apply(col("users_sketch")).as("users"),
            coalesce(col("entrances"), lit(0L)).as("entrances"),
            row_number().over(byMerchant).as("page_rank"),
            lit(logicVersion).as("logic_version"),
            computedAt.as("computed_at"));
  }

  public static Dataset<Row> trafficDaily(
      Dataset<Row> sessionized, Dataset<Row> sessions, String logicVersion, Column computedAt) {
    Column[] eventKeys =
        concat(
            List.of(col("tracking_id"), col("event_date")),
            TRAFFIC_DIMENSIONS.stream()
                .map(dimension -> col("session_" + dimension).as(dimension))
                .toList(),
            List.of());
    Dataset<Row> events =
        sessionized
            .groupBy(eventKeys)
            .agg(count(lit(1)).as("events"), USERS.apply(HourlyViews.userOf()).as("users_sketch"));
    Column[] sessionKeys =
        concat(
            List.of(col("tracking_id")),
            TRAFFIC_DIMENSIONS.stream()
                .map(dimension -> col("session_" + dimension).as(dimension))
                .toList(),
            List.of());
    Dataset<Row> sessionCounts =
        sessions
            .groupBy(sessionKeys)
            .agg(count(lit(1)).as("sessions"), sum(col("bounced")).as("bounced_sessions"));
    String[] joinKeys =
        Stream.concat(Stream.of("tracking_id"), TRAFFIC_DIMENSIONS.stream()).toArray(String[]::new);
    return events
        .join(sessionCounts, joinKeys, "inner")
        .select(
            col("tracking_id"),
            col("event_date"),
            col("traffic_source"),
            col("traffic_medium"),
            col("traffic_campaign"),
            col("device_class"),
            col("browser"),
            col("sessions"),
            col("bounced_sessions"),
            col("events"),
            col("users_sketch"),
            CARDINALITY.apply(col("users_sketch")).as("users"),
            lit(logicVersion).as("logic_version"),
            computedAt.as("computed_at"));
  }

  /** A page view with a URL: what the page views count, as in {@code pages_hourly}. */
  public static Column isPageView() {
    return col("event_name").equalTo(HourlyViews.PAGE_VIEW).and(col("page_url").isNotNull());
  }

  private static Column[] concat(List<Column> first, List<Column> second, List<Column> third) {
    return Stream.of(first, second, third).flatMap(List::stream).toArray(Column[]::new);
  }
}
