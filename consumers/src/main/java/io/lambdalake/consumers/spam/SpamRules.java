package io.lambdalake.consumers.spam;

import static java.util.Objects.requireNonNull;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.collect_list;
import static org.apache.spark.sql.functions.collect_set;
import static org.apache.spark.sql.functions.concat_ws;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.current_timestamp;
import static org.apache.spark.sql.functions.floor;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.lower;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.regexp_replace;
import static org.apache.spark.sql.functions.row_number;
import static org.apache.spark.sql.functions.sha2;
import static org.apache.spark.sql.functions.size;
import static org.apache.spark.sql.functions.slice;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.substring;
import static org.apache.spark.sql.functions.timestamp_micros;
import static org.apache.spark.sql.functions.to_json;
import static org.apache.spark.sql.functions.trim;
import static org.apache.spark.sql.functions.unix_micros;

import io.lambdalake.common.config.ConsumersConfig;
import io.lambdalake.consumers.SampleMirrors;
import java.time.Duration;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.expressions.WindowSpec;

/**
 * The spam rules, evaluated for the profiles a micro-batch of changes touched.
 *
 * <p>Every rule counts events in a trailing window ending at each event (by the time the source
 * application wrote, {@code created_at}). The first event of a profile whose window reaches the
 * threshold raises the flag; its ID is derived from the rule, the profile and the window-length
 * bucket that event falls in, so evaluating the same data again (a restart, a replayed batch) finds
 * the same IDs and raises nothing new, while a spammer who keeps going is flagged again per bucket.
 */
public final class SpamRules {
  /** The rules, with their stable names (the {@code rule} column and the Kafka message). */
  public enum Rule {
    TOO_MANY_INTERESTS("too_many_interests"),
    TOO_MANY_MESSAGES("too_many_messages"),
    DUPLICATE_MESSAGE("duplicate_message"),
    NEW_ACCOUNT_BURST("new_account_burst"),
    MANY_REPORTS("many_reports");

    private final String wireName;

    Rule(String wireName) {
      this.wireName = wireName;
    }

    public String wireName() {
      return wireName;
    }
  }

  /** The tables a micro-batch's touched profiles come from. */
  public enum Source {
    INTERESTS("interests", "sender_id"),
    MESSAGES("messages", "sender_id"),
    REPORTS("reports", "reported_id");

    private final String table;
    private final String actorColumn;

    Source(String table, String actorColumn) {
      this.table = table;
      this.actorColumn = actorColumn;
    }

    public String table() {
      return table;
    }

    /** The profile the rules judge: who sent it, or who was reported. */
    public String actorColumn() {
      return actorColumn;
    }
  }

  private final SparkSession spark;
  private final SampleMirrors mirrors;
  private final ConsumersConfig.Spam rules;

  public SpamRules(SparkSession spark, SampleMirrors mirrors, ConsumersConfig.Spam rules) {
    this.spark = requireNonNull(spark, "spark is null");
    this.mirrors = requireNonNull(mirrors, "mirrors is null");
    this.rules = requireNonNull(rules, "rules is null");
  }

  /**
   * The flags the touched profiles deserve, in the columns of consumers.spam_flags.
   *
   * @param touched rows of (source, profile_id, created_at): what a micro-batch changed
   */
  public Dataset<Row> flags(Dataset<Row> touched, long batchId) {
    Dataset<Row> interestsSince = since(touched, Source.INTERESTS);
    Dataset<Row> messagesSince = since(touched, Source.MESSAGES);
    Dataset<Row> reportsSince = since(touched, Source.REPORTS);

    Dataset<Row> interests =
        events(Source.INTERESTS, interestsSince, rules.window())
            .select(
                col("profile_id"),
                col("event_time"),
                col("since"),
                lit("").as("group_key"),
                col("receiver_id").cast("string").as("counted"),
                col("id").cast("string").as("item"));
    Dataset<Row> messages =
        events(Source.MESSAGES, messagesSince, rules.window())
            .select(
                col("profile_id"),
                col("event_time"),
                col("since"),
                col("body"),
                col("receiver_id").cast("string").as("counted"),
                col("id").cast("string").as("item"));

    Dataset<Row> flags =
        crossings(Rule.TOO_MANY_INTERESTS, interests, rules.window(), rules.maxInterests(), false)
            .unionByName(
                crossings(
                    Rule.TOO_MANY_MESSAGES,
                    messages.withColumn("group_key", lit("")).drop("body"),
                    rules.window(),
                    rules.maxMessages(),
                    false))
            .unionByName(
                crossings(
                    Rule.DUPLICATE_MESSAGE,
                    messages
                        .withColumn(
                            "group_key",
                            sha2(lower(trim(regexp_replace(col("body"), "\\s+", " "))), 256))
                        .drop("body"),
                    rules.window(),
                    rules.duplicateRecipients(),
                    true))
            .unionByName(
                crossings(
                    Rule.NEW_ACCOUNT_BURST,
                    newAccountActivity(
                        interests, messages.withColumn("group_key", lit("")).drop("body")),
                    rules.window(),
                    rules.newAccountBurst(),
                    false))
            .unionByName(
                crossings(
                    Rule.MANY_REPORTS,
                    events(Source.REPORTS, reportsSince, rules.reportsWindow())
                        .select(
                            col("profile_id"),
                            col("event_time"),
                            col("since"),
                            lit("").as("group_key"),
                            col("reporter_id").cast("string").as("counted"),
                            col("id").cast("string").as("item")),
                    rules.reportsWindow(),
                    rules.maxReports(),
                    true));
    return flags
        .withColumn("detected_at", current_timestamp())
        .withColumn("batch_id", lit(batchId))
        .dropDuplicates("flag_id");
  }

  /** Per touched profile of one source, the earliest changed event time. */
  private static Dataset<Row> since(Dataset<Row> touched, Source source) {
    return touched
        .filter(col("source").equalTo(source.table()))
        .groupBy("profile_id")
        .agg(min("created_at").as("since"));
  }

  /**
   * The source table's rows (from its mirror) of the touched profiles, from a window before their
   * earliest change: enough to count every trailing window that ends at a changed event.
   */
  private Dataset<Row> events(Source source, Dataset<Row> since, Duration window) {
    Dataset<Row> table = spark.read().format("delta").load(mirrors.location(source.table()));
    return table
        .join(since, table.col(source.actorColumn()).equalTo(since.col("profile_id")))
        .withColumn("event_time", col("created_at").cast("timestamp"))
        .filter(
            col("event_time")
                .geq(timestamp_micros(unix_micros(col("since")).minus(micros(window)))));
  }

  /** Interests and messages of accounts younger than the configured age when they sent them. */
  private Dataset<Row> newAccountActivity(Dataset<Row> interests, Dataset<Row> messages) {
    Dataset<Row> profiles =
        spark
            .read()
            .format("delta")
            .load(mirrors.location("profiles"))
            .select(col("id").as("account_id"), col("created_at").cast("timestamp").as("account"));
    Dataset<Row> both = interests.unionByName(messages);
    return both.join(profiles, both.col("profile_id").equalTo(profiles.col("account_id")))
        .filter(
            unix_micros(col("event_time"))
                .minus(unix_micros(col("account")))
                .lt(micros(rules.newAccountAge())))
        .drop("account_id", "account");
  }

  /**
   * The flags of one rule: per profile (and group), the trailing-window count at each event; the
   * first event per bucket whose count reaches the threshold.
   */
  private static Dataset<Row> crossings(
      Rule rule, Dataset<Row> events, Duration window, int threshold, boolean distinct) {
    long windowMicros = micros(window);
    Column eventMicros = unix_micros(col("event_time"));
    WindowSpec trailing =
        Window.partitionBy("profile_id", "group_key")
            .orderBy(eventMicros)
            .rangeBetween(-windowMicros + 1, 0);
    Column counted =
        distinct ? size(collect_set(col("counted")).over(trailing)) : count(lit(1)).over(trailing);
    Dataset<Row> counts =
        events
            .withColumn("event_count", counted.cast("long"))
            .withColumn("evidence_items", collect_list(col("item")).over(trailing))
            .filter(col("event_count").geq(threshold).and(col("event_time").geq(col("since"))))
            .withColumn("bucket", floor(eventMicros.divide(windowMicros)));
    WindowSpec firstInBucket =
        Window.partitionBy("profile_id", "bucket").orderBy(col("event_time"), col("item"));
    Column id =
        substring(
            sha2(
                concat_ws(
                    "|",
                    lit(rule.wireName()),
                    col("profile_id").cast("string"),
                    lit(Long.toString(window.toSeconds())),
                    col("bucket").cast("string")),
                256),
            1,
            32);
    return counts
        .withColumn("first", row_number().over(firstInBucket))
        .filter(col("first").equalTo(1))
        .select(
            id.as("flag_id"),
            col("profile_id").cast("long").as("profile_id"),
            lit(rule.wireName()).as("rule"),
            to_json(
                    struct(
                        col("event_count").as("count"),
                        lit(threshold).as("threshold"),
                        lit(window.toString()).as("window"),
                        lit(distinct ? "distinct " + countedName(rule) : "events").as("counting"),
                        slice(col("evidence_items"), -20, 20).as("last_ids")))
                .as("evidence"),
            col("event_count"),
            timestamp_micros(eventMicros.minus(windowMicros - 1)).as("window_start"),
            col("event_time").as("offending_change_at"));
  }

  private static String countedName(Rule rule) {
    return rule == Rule.MANY_REPORTS ? "reporters" : "recipients";
  }

  private static long micros(Duration duration) {
    return duration.toNanos() / 1_000;
  }

  /** The column lists of the touched-profiles rows, for the stream's projection. */
  public static List<String> touchedColumns() {
    return List.of("source", "profile_id", "created_at");
  }
}
