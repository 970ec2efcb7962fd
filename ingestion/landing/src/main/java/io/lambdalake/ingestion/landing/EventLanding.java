package io.lambdalake.ingestion.landing;

import static java.util.Objects.requireNonNull;
import static org.apache.spark.sql.functions.base64;
import static org.apache.spark.sql.functions.call_function;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat_ws;
import static org.apache.spark.sql.functions.current_timestamp;
import static org.apache.spark.sql.functions.from_json;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.to_date;
import static org.apache.spark.sql.functions.udf;
import static org.apache.spark.sql.functions.when;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.config.TopicsConfig;
import io.lambdalake.common.event.CollectedEvent;
import io.lambdalake.common.table.LakeTable;
import io.lambdalake.spark.Concurrently;
import io.lambdalake.spark.DeltaTables;
import io.lambdalake.spark.TableUpkeep;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Pattern;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lands every record of the event topics in the raw zone, exactly once: valid events, enriched, in
 * {@code raw.events}; everything else in {@code raw.quarantine} with its reason (including what the
 * collector already quarantined). Event IDs a client sent again are dropped within a window.
 *
 * <p>Exactly once on the {@link LandingStream} skeleton: Kafka offsets and the deduplication state
 * live in the query's checkpoint; each micro-batch is written to both tables as a Delta idempotent
 * write keyed by the stream, the query's id and the batch id, so a batch replayed after a crash is
 * not written twice, and each commit records the Kafka offsets it landed, so a new checkpoint
 * resumes where the tables are.
 */
public final class EventLanding {
  private static final Logger LOG = LoggerFactory.getLogger(EventLanding.class);
  public static final String QUERY_NAME = "landing";
  static final String MALFORMED_JSON = "malformed_json";
  static final String UNSUPPORTED_SCHEMA_VERSION = "unsupported_schema_version";
  static final String MISSING_FIELD = "missing_field";
  static final String INVALID_FIELD = "invalid_field";

  /** The JSON the collector writes to the event topics (see CollectedEvent and EventField). */
  static final StructType WIRE_EVENT =
      new StructType()
          .add("schema_version", DataTypes.StringType)
          .add("event_id", DataTypes.StringType)
          .add("tracking_id", DataTypes.StringType)
          .add("event_name", DataTypes.StringType)
          .add("event_time", DataTypes.StringType)
          .add("received_at", DataTypes.StringType)
          .add("client_id", DataTypes.StringType)
          .add("user_id", DataTypes.StringType)
          .add("session_id", DataTypes.StringType)
          .add("page_url", DataTypes.StringType)
          .add("referrer", DataTypes.StringType)
          .add("user_agent", DataTypes.StringType)
          .add("client_ip", DataTypes.StringType)
          .add("params", DataTypes.createMapType(DataTypes.StringType, DataTypes.StringType))
          .add("value", DataTypes.StringType)
          .add("currency", DataTypes.StringType);

  /** Spark's default name for the column that holds a record it could not parse. */
  static final String CORRUPT_RECORD = "_corrupt_record";

  static final StructType WIRE_EVENT_WITH_CORRUPT_RECORD =
      WIRE_EVENT.add(CORRUPT_RECORD, DataTypes.StringType);

  /** The JSON of the quarantine topic (see QuarantinedInput and QuarantineField). */
  static final StructType WIRE_QUARANTINE =
      new StructType()
          .add("source", DataTypes.StringType)
          .add("reason", DataTypes.StringType)
          .add("field", DataTypes.StringType)
          .add("message", DataTypes.StringType)
          .add("received_at", DataTypes.StringType)
          .add("endpoint", DataTypes.StringType)
          .add("tracking_id", DataTypes.StringType)
          .add("payload", DataTypes.StringType)
          .add("payload_encoding", DataTypes.StringType)
          .add("payload_size", DataTypes.LongType)
          .add("payload_truncated", DataTypes.BooleanType);

  private EventLanding() {}

  /** The collector's wire format of an event, as a Spark schema. */
  public static StructType wireEventSchema() {
    return WIRE_EVENT;
  }

  /** Kafka's subscribe pattern for every event topic, quarantine included. */
  public static String topicPattern(TopicsConfig topics) {
    // Anchored: Spark's Kafka source matched the unanchored pattern anywhere in a topic's name,
    // so "<prefix>.events.page_view" of a benchmark or test was landed as if it were ours.
    return "^(?:"
        + Pattern.quote(topics.eventsPrefix())
        + ".+|"
        + Pattern.quote(topics.eventsOther())
        + "|"
        + Pattern.quote(topics.eventsQuarantine())
        + ")$";
  }

  /**
   * The landing stream on the {@link LandingStream} skeleton: the event topics' records,
   * deduplicated, into raw.events and raw.quarantine.
   */
  public static LandingStream.Source source(
      LakeConfig config, long maxRecordsPerBatch, Duration deduplicationWindow) {
    return new Landing(config, maxRecordsPerBatch, deduplicationWindow, Optional.empty());
  }

  /**
   * The landing stream, and in each of its micro-batches what the downstream does with the events
   * it lands (the speed views: one pass, one commit interval).
   */
  public static LandingStream.Source source(
      LakeConfig config,
      long maxRecordsPerBatch,
      Duration deduplicationWindow,
      Downstream downstream) {
    return new Landing(
        config,
        maxRecordsPerBatch,
        deduplicationWindow,
        Optional.of(requireNonNull(downstream, "downstream is null")));
  }

  /**
   * What else a landing micro-batch does with the events it lands, in the same batch and with its
   * idempotence key ({@link LandingBatch#applicationId()}, {@link LandingBatch#version()}), so that
   * a batch replayed after a crash changes nothing twice.
   */
  public interface Downstream {
    /** Before the batch writes anything: what the downstream must check against raw.events. */
    void beforeLanding(SparkSession spark, LandingBatch landing);

    /**
     * After raw.events holds the batch, with the rows it appended (persisted; empty on a replay of
     * a batch raw.events already holds).
     */
    void landed(Dataset<Row> events, LandingBatch landing);
  }

  private static final class Landing implements LandingStream.Source {
    private final LakeConfig config;
    private final long maxRecordsPerBatch;
    private final Duration deduplicationWindow;
    private final String eventsLocation;
    private final String quarantineLocation;
    private final TableUpkeep upkeep;
    private final Optional<Downstream> downstream;

    Landing(
        LakeConfig config,
        long maxRecordsPerBatch,
        Duration deduplicationWindow,
        Optional<Downstream> downstream) {
      this.config = requireNonNull(config, "config is null");
      this.downstream = requireNonNull(downstream, "downstream is null");
      this.maxRecordsPerBatch = maxRecordsPerBatch;
      this.deduplicationWindow = requireNonNull(deduplicationWindow, "deduplicationWindow is null");
      this.eventsLocation = LakeTable.RAW_EVENTS.location(config.storage());
      this.quarantineLocation = LakeTable.RAW_QUARANTINE.location(config.storage());
      this.upkeep = new TableUpkeep("landing", config.speed().compactEveryBatches());
    }

    @Override
    public String name() {
      return QUERY_NAME;
    }

    @Override
    public String topicPattern() {
      return EventLanding.topicPattern(config.topics());
    }

    @Override
    public long maxRecordsPerBatch() {
      return maxRecordsPerBatch;
    }

    @Override
    public List<String> appendOnlyTables() {
      return List.of(eventsLocation, quarantineLocation);
    }

    @Override
    public TableUpkeep upkeep() {
      return upkeep;
    }

    @Override
    public Dataset<Row> prepare(Dataset<Row> records) {
      Dataset<Row> classified =
          withoutWhatValidEventsNoLongerNeed(classify(records, config.topics()));
      // Processing time as the watermark: a retried event seen again within the window is
      // dropped, and no record is ever "late" for this operator, so none is lost to it. Spark
      // records each batch's timestamp in its offset log, so a replayed batch deduplicates the
      // same way.
      return classified
          .withColumn("processed_at", current_timestamp())
          .withWatermark("processed_at", deduplicationWindow.toMillis() + " milliseconds")
          .dropDuplicatesWithinWatermark("deduplication_key");
    }

    /**
     * Enriches, then appends to both raw tables (each commits in every non-empty batch), then hands
     * the landed events to the downstream.
     */
    @Override
    public void write(Dataset<Row> batch, LandingBatch landing) {
      SparkSession spark = batch.sparkSession();
      DeltaTables.ensure(spark, config, LakeTable.RAW_EVENTS);
      DeltaTables.ensure(spark, config, LakeTable.RAW_QUARANTINE);
      // Parsed, deduplicated and enriched once, for both tables and the downstream (and computed
      // once: the deduplication's state moves on only once per batch).
      Dataset<Row> enriched = enrich(batch).persist(StorageLevel.MEMORY_AND_DISK());
      Dataset<Row> events = events(enriched);
      try {
        // An empty batch writes nothing, and a replay of it writes nothing either.
        long started = System.nanoTime();
        if (enriched.isEmpty()) {
          return;
        }
        downstream.ifPresent(next -> next.beforeLanding(spark, landing));
        long read = System.nanoTime();
        // The quarantine's append overlaps the events' append and the downstream.
        CompletableFuture<Long> quarantined =
            Concurrently.start(
                spark.sparkContext(),
                "landing-quarantine",
                () -> {
                  long from = System.nanoTime();
                  landing.append(quarantine(enriched), quarantineLocation);
                  return (System.nanoTime() - from) / 1_000_000;
                });
        // The events on this thread; a failure waits for the quarantine's append to end.
        CompletableFuture<Long> landed =
            CompletableFuture.supplyAsync(() -> landEvents(events, landing), Runnable::run);
        List<Long> millis = Concurrently.awaitAll(List.of(quarantined, landed));
        LOG.info(
            "Landing batch {}: read and deduplicated in {} ms, quarantine written in {} ms, events"
                + " and downstream in {} ms",
            landing.version(),
            (read - started) / 1_000_000,
            millis.get(0),
            millis.get(1));
      } finally {
        enriched.unpersist();
      }
    }

    /** Appends the events, then hands what it appended to the downstream; in milliseconds. */
    private long landEvents(Dataset<Row> events, LandingBatch landing) {
      long from = System.nanoTime();
      Dataset<Row> appended = landing.append(events, eventsLocation);
      long written = System.nanoTime();
      downstream.ifPresent(next -> next.landed(appended, landing));
      LOG.info(
          "Landing batch {}: events written in {} ms, downstream in {} ms",
          landing.version(),
          (written - from) / 1_000_000,
          (System.nanoTime() - written) / 1_000_000);
      return (System.nanoTime() - from) / 1_000_000;
    }
  }

  /**
   * The classified records as the deduplication shuffles and the batch keeps them: a valid event
   * goes on as its parsed fields only, without its record's bytes and their copy as a string (both
   * are for the quarantine's payload); that was two thirds of what a batch shuffled and cached.
   */
  static Dataset<Row> withoutWhatValidEventsNoLongerNeed(Dataset<Row> classified) {
    Column validEvent = col("from_quarantine_topic").equalTo(false).and(col("reason").isNull());
    return classified
        .drop("key", "timestampType", "is_object")
        .withColumn("json", when(validEvent, lit(null)).otherwise(col("json")))
        .withColumn("value", when(validEvent, lit(null)).otherwise(col("value")));
  }

  /**
   * Parses each Kafka record and decides its fate: {@code reason} is null for a valid event, else
   * why it goes to quarantine.
   */
  static Dataset<Row> classify(Dataset<Row> records, TopicsConfig topics) {
    Column json = col("value").cast("string");
    Column fromQuarantineTopic = col("topic").equalTo(topics.eventsQuarantine());
    // One JSON parse per record: a record that is not a JSON object comes back null or with the
    // corrupt-record column set.
    Column isObject =
        col("event")
            .isNotNull()
            .and(col("event." + CORRUPT_RECORD).isNull())
            .and(call_function("ltrim", col("json")).startsWith("{"));
    Dataset<Row> parsed =
        records
            .withColumn("json", json)
            .withColumn("event", from_json(col("json"), WIRE_EVENT_WITH_CORRUPT_RECORD))
            .withColumn("is_object", coalesce(isObject, lit(false)))
            .withColumn(
                "quarantined", when(fromQuarantineTopic, from_json(col("json"), WIRE_QUARANTINE)))
            .withColumn(
                "event_time_parsed", call_function("try_to_timestamp", col("event.event_time")))
            .withColumn(
                "received_at_parsed", call_function("try_to_timestamp", col("event.received_at")))
            .withColumn(
                "value_parsed", col("event.value").try_cast(DataTypes.createDecimalType(18, 4)));
    Column eventReason =
        when(col("is_object").equalTo(false), lit(MALFORMED_JSON))
            .when(
                coalesce(col("event.schema_version"), lit(""))
                    .notEqual(Integer.toString(CollectedEvent.SCHEMA_VERSION)),
                lit(UNSUPPORTED_SCHEMA_VERSION))
            .when(missing("event_id"), lit(MISSING_FIELD))
            .when(missing("tracking_id"), lit(MISSING_FIELD))
            .when(missing("event_name"), lit(MISSING_FIELD))
            .when(missing("client_id"), lit(MISSING_FIELD))
            .when(missing("event_time"), lit(MISSING_FIELD))
            .when(missing("received_at"), lit(MISSING_FIELD))
            .when(col("event_time_parsed").isNull(), lit(INVALID_FIELD))
            .when(col("received_at_parsed").isNull(), lit(INVALID_FIELD))
            .when(
                col("event.value").isNotNull().and(col("value_parsed").isNull()),
                lit(INVALID_FIELD));
    Column eventField =
        when(col("is_object").equalTo(false), lit(null))
            .when(missing("event_id"), lit("event_id"))
            .when(missing("tracking_id"), lit("tracking_id"))
            .when(missing("event_name"), lit("event_name"))
            .when(missing("client_id"), lit("client_id"))
            .when(missing("event_time").or(col("event_time_parsed").isNull()), lit("event_time"))
            .when(missing("received_at").or(col("received_at_parsed").isNull()), lit("received_at"))
            .when(col("event.value").isNotNull().and(col("value_parsed").isNull()), lit("value"));
    return parsed
        .withColumn("from_quarantine_topic", fromQuarantineTopic)
        .withColumn("reason", when(fromQuarantineTopic, lit(null)).otherwise(eventReason))
        .withColumn("field", when(fromQuarantineTopic, lit(null)).otherwise(eventField))
        .withColumn(
            "deduplication_key",
            when(
                    fromQuarantineTopic.equalTo(false).and(col("reason").isNull()),
                    concat_ws("/", lit("event"), col("event.tracking_id"), col("event.event_id")))
                .otherwise(
                    concat_ws(
                        "/",
                        lit("record"),
                        col("topic"),
                        col("partition").cast("string"),
                        col("offset").cast("string"))));
  }

  private static Column missing(String field) {
    Column value = col("event." + field);
    return value.isNull().or(call_function("trim", value).equalTo(""));
  }

  /**
   * The batch with each valid event's user agent and traffic source parsed ({@code agent}, {@code
   * traffic}; null for the other records), once for raw.events and the views.
   */
  static Dataset<Row> enrich(Dataset<Row> batch) {
    UserDefinedFunction userAgents = udf(new UserAgents(), UserAgents.TYPE);
    UserDefinedFunction traffic = udf(new TrafficSources(), TrafficSources.TYPE);
    Column validEvent = col("from_quarantine_topic").equalTo(false).and(col("reason").isNull());
    return batch
        .withColumn("agent", when(validEvent, userAgents.apply(col("event.user_agent"))))
        .withColumn(
            "traffic",
            when(
                validEvent,
                traffic.apply(col("event.page_url"), col("event.referrer"), col("event.params"))));
  }

  /** The rows of raw.events, from an {@link #enrich}ed batch. */
  static Dataset<Row> events(Dataset<Row> enriched) {
    return enriched
        .filter(col("from_quarantine_topic").equalTo(false).and(col("reason").isNull()))
        .select(
            call_function("trim", col("event.event_id")).as("event_id"),
            call_function("trim", col("event.tracking_id")).as("tracking_id"),
            call_function("trim", col("event.event_name")).as("event_name"),
            col("event_time_parsed").as("event_time"),
            col("received_at_parsed").as("received_at"),
            col("event.client_id").as("client_id"),
            col("event.user_id").as("user_id"),
            col("event.session_id").as("session_id"),
            col("event.page_url").as("page_url"),
            col("event.referrer").as("referrer"),
            col("event.user_agent").as("user_agent"),
            col("event.client_ip").as("client_ip"),
            col("event.params").as("params"),
            col("value_parsed").as("value"),
            col("event.currency").as("currency"),
            col("agent.browser").as("browser"),
            col("agent.browser_version").as("browser_version"),
            col("agent.os").as("os"),
            col("agent.device_class").as("device_class"),
            col("agent.is_bot").as("is_bot"),
            col("traffic.source").as("traffic_source"),
            col("traffic.medium").as("traffic_medium"),
            col("traffic.campaign").as("traffic_campaign"),
            col("topic").as("source_topic"),
            col("partition").as("source_partition"),
            col("offset").as("source_offset"),
            col("processed_at").as("landed_at"),
            to_date(col("event_time_parsed")).as("event_date"));
  }

  static Dataset<Row> quarantine(Dataset<Row> batch) {
    Column fromCollector = col("from_quarantine_topic");
    Column validUtf8 = call_function("is_valid_utf8", col("value"));
    return batch
        .filter(fromCollector.or(col("reason").isNotNull()))
        .select(
            when(fromCollector, coalesce(col("quarantined.source"), lit("collector")))
                .otherwise(lit("landing"))
                .as("source"),
            when(fromCollector, coalesce(col("quarantined.reason"), lit("unknown")))
                .otherwise(col("reason"))
                .as("reason"),
            when(fromCollector, col("quarantined.field")).otherwise(col("field")).as("field"),
            when(fromCollector, col("quarantined.message"))
                .otherwise(landingMessage())
                .as("message"),
            coalesce(
                    call_function(
                        "try_to_timestamp",
                        when(fromCollector, col("quarantined.received_at"))
                            .otherwise(col("event.received_at"))),
                    col("timestamp"))
                .as("received_at"),
            when(fromCollector, col("quarantined.endpoint")).otherwise(lit("kafka")).as("endpoint"),
            when(fromCollector, col("quarantined.tracking_id"))
                .otherwise(col("event.tracking_id"))
                .as("tracking_id"),
            when(fromCollector, col("quarantined.payload"))
                .when(validUtf8, col("json"))
                .otherwise(base64(col("value")))
                .as("payload"),
            when(fromCollector, col("quarantined.payload_encoding"))
                .when(validUtf8, lit("utf-8"))
                .otherwise(lit("base64"))
                .as("payload_encoding"),
            when(fromCollector, col("quarantined.payload_size"))
                .otherwise(call_function("octet_length", col("value")).cast("bigint"))
                .as("payload_size"),
            when(fromCollector, col("quarantined.payload_truncated"))
                .otherwise(lit(false))
                .as("payload_truncated"),
            col("topic").as("source_topic"),
            col("partition").as("source_partition"),
            col("offset").as("source_offset"),
            col("processed_at").as("quarantined_at"),
            to_date(col("processed_at")).as("quarantine_date"));
  }

  private static Column landingMessage() {
    return when(col("reason").equalTo(MALFORMED_JSON), lit("the record is not a JSON object"))
        .when(
            col("reason").equalTo(UNSUPPORTED_SCHEMA_VERSION),
            concat_ws(
                "",
                lit("schema_version "),
                coalesce(col("event.schema_version"), lit("(missing)")),
                lit(" is not " + CollectedEvent.SCHEMA_VERSION)))
        .when(col("reason").equalTo(MISSING_FIELD), concat_ws("", col("field"), lit(" is missing")))
        .otherwise(concat_ws("", col("field"), lit(" cannot be parsed")));
  }
}
