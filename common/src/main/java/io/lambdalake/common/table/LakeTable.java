package io.lambdalake.common.table;

import static java.util.Objects.requireNonNull;

import io.lambdalake.common.config.StorageConfig;
import java.util.List;

/**
 * Every Delta table of the lake: its zone (a Trino schema), name, columns (Spark DDL) and
 * partitioning. The batch and speed views of the same name have the same columns, so that serving
 * can put one on top of the other.
 */
public enum LakeTable {
  RAW_EVENTS(
      "raw",
      "events",
      String.join(
          ", ",
          "event_id STRING NOT NULL",
          "tracking_id STRING NOT NULL",
          "event_name STRING NOT NULL",
          "event_time TIMESTAMP NOT NULL",
          "received_at TIMESTAMP NOT NULL",
          "client_id STRING NOT NULL",
          "user_id STRING",
          "session_id STRING",
          "page_url STRING",
          "referrer STRING",
          "user_agent STRING",
          "client_ip STRING",
          "params MAP<STRING, STRING>",
          "value DECIMAL(18, 4)",
          "currency STRING",
          "browser STRING",
          "browser_version STRING",
          "os STRING",
          "device_class STRING",
          "is_bot BOOLEAN NOT NULL",
          "traffic_source STRING",
          "traffic_medium STRING",
          "traffic_campaign STRING",
          "source_topic STRING NOT NULL",
          "source_partition INT NOT NULL",
          "source_offset BIGINT NOT NULL",
          "landed_at TIMESTAMP NOT NULL",
          "event_date DATE NOT NULL"),
      List.of("event_date")),
  RAW_QUARANTINE("raw", "quarantine", QuarantineColumns.COLUMNS, List.of("quarantine_date")),
  /**
   * What the CDC job could not apply. A table of its own, like raw.import_quarantine: each Delta
   * table has one writer (docs/design.md), and the landing stream writes raw.quarantine.
   */
  RAW_CDC_QUARANTINE(
      "raw", "cdc_quarantine", QuarantineColumns.COLUMNS, List.of("quarantine_date")),
  /** What a file import (Sqoop files, mongoexport) could not load, with file and line. */
  RAW_IMPORT_QUARANTINE(
      "raw", "import_quarantine", QuarantineColumns.COLUMNS, List.of("quarantine_date")),
  /** Every MySQL/MariaDB change Maxwell sent, as received, with its binlog position. */
  RAW_MYSQL_CHANGES(
      "raw",
      "mysql_changes",
      String.join(
          ", ",
          "source_database STRING NOT NULL",
          "source_table STRING NOT NULL",
          "type STRING NOT NULL",
          "op STRING",
          "binlog_file STRING",
          "binlog_position BIGINT",
          "xoffset BIGINT",
          "xid BIGINT",
          "commit BOOLEAN",
          "server_id BIGINT",
          "committed_at TIMESTAMP",
          "primary_key STRING",
          "data STRING",
          "old STRING",
          "source_topic STRING NOT NULL",
          "source_partition INT NOT NULL",
          "source_offset BIGINT NOT NULL",
          "received_at TIMESTAMP",
          "landed_at TIMESTAMP NOT NULL",
          "change_date DATE NOT NULL"),
      List.of("change_date")),
  /** Every MongoDB change event the Kafka source connector sent, as received. */
  RAW_MONGO_CHANGES(
      "raw",
      "mongo_changes",
      String.join(
          ", ",
          "source_database STRING NOT NULL",
          "source_collection STRING NOT NULL",
          "operation_type STRING NOT NULL",
          "op STRING",
          "cluster_time_seconds BIGINT",
          "cluster_time_increment BIGINT",
          "resume_token STRING",
          "document_key STRING",
          "full_document STRING",
          "update_description STRING",
          "committed_at TIMESTAMP",
          "event STRING NOT NULL",
          "source_topic STRING NOT NULL",
          "source_partition INT NOT NULL",
          "source_offset BIGINT NOT NULL",
          "received_at TIMESTAMP",
          "landed_at TIMESTAMP NOT NULL",
          "change_date DATE NOT NULL"),
      List.of("change_date")),
  SPEED_EVENTS_HOURLY("speed", "events_hourly", ViewColumns.EVENTS_HOURLY, List.of()),
  SPEED_PAGES_HOURLY("speed", "pages_hourly", ViewColumns.PAGES_HOURLY, List.of()),
  BATCH_EVENTS_HOURLY("batch", "events_hourly", ViewColumns.EVENTS_HOURLY, List.of("event_date")),
  BATCH_PAGES_HOURLY("batch", "pages_hourly", ViewColumns.PAGES_HOURLY, List.of("event_date")),
  BATCH_EVENTS_DAILY("batch", "events_daily", DailyColumns.EVENTS_DAILY, List.of("event_date")),
  BATCH_PAGES_DAILY("batch", "pages_daily", DailyColumns.PAGES_DAILY, List.of("event_date")),
  BATCH_TRAFFIC_DAILY("batch", "traffic_daily", DailyColumns.TRAFFIC_DAILY, List.of("event_date")),
  BATCH_COVERAGE(
      "batch",
      "coverage",
      String.join(
          ", ",
          "view STRING NOT NULL",
          "covered_until TIMESTAMP NOT NULL",
          "run_id STRING NOT NULL",
          "logic_version STRING NOT NULL",
          "updated_at TIMESTAMP NOT NULL"),
      List.of()),
  /**
   * Per day of the batch views, the version of {@code raw.events} the last run that published the
   * day computed it from (the newest wins): the batch layer's recompute of the dirty hours reads
   * the Delta log of {@code raw.events} after the newest of them.
   */
  BATCH_COMPUTED_DAYS(
      "batch",
      "computed_days",
      String.join(
          ", ",
          "event_date DATE NOT NULL",
          "raw_events_version BIGINT NOT NULL",
          "run_id STRING NOT NULL",
          "logic_version STRING NOT NULL",
          "recorded_at TIMESTAMP NOT NULL"),
      List.of()),
  /**
   * The days of the MySQL history tables ({@code batch.mysql_history__<database>__<table>}, one per
   * mirrored source table, partitioned by {@code snapshot_date}) that the batch job published: a
   * day is listed only after its snapshot committed, with what it was computed from, so the next
   * day can start from it while the change log up to it is unchanged.
   */
  BATCH_MYSQL_HISTORY_DAYS(
      "batch",
      "mysql_history_days",
      String.join(
          ", ",
          "source_table STRING NOT NULL",
          "history_table STRING NOT NULL",
          "snapshot_date DATE NOT NULL",
          "rows BIGINT NOT NULL",
          "log_changes BIGINT NOT NULL",
          "log_landed_until TIMESTAMP",
          "changes_applied BIGINT NOT NULL",
          "changes_not_applicable BIGINT NOT NULL",
          "base STRING NOT NULL",
          "columns STRING NOT NULL",
          "logic_version STRING NOT NULL",
          "computed_at TIMESTAMP NOT NULL"),
      List.of()),
  /**
   * The binlog position each snapshot import of a source table read before it began (written by the
   * JDBC import; newest recorded_at wins): CDC skips that table's changes at or before it.
   */
  STATE_SNAPSHOT_POSITIONS(
      "state",
      "snapshot_positions",
      String.join(
          ", ",
          "source_table STRING NOT NULL",
          "binlog_file STRING NOT NULL",
          "binlog_position BIGINT NOT NULL",
          "target_table STRING NOT NULL",
          "snapshot_id STRING NOT NULL",
          "recorded_at TIMESTAMP NOT NULL"),
      List.of()),
  /**
   * Per MySQL/MariaDB source table, the newest change the Maxwell CDC writer applied to its mirror:
   * an older change seen again (a replay, Maxwell resending after its own restart) is skipped. The
   * cluster-time columns are no longer written (MongoDB keeps its positions per partition in
   * state.mongo_positions); they stay so that existing tables keep their schema.
   */
  STATE_CDC_POSITIONS(
      "state",
      "cdc_positions",
      String.join(
          ", ",
          "source_table STRING NOT NULL",
          "binlog_file STRING",
          "binlog_position BIGINT",
          "xoffset BIGINT",
          "cluster_time_seconds BIGINT",
          "cluster_time_increment BIGINT",
          "resume_token STRING",
          "updated_at TIMESTAMP NOT NULL"),
      List.of()),
  /**
   * Per MongoDB collection and Kafka partition it arrives on, the newest change the Mongo CDC
   * writer has read from that partition (cluster time, then resume token): within one partition the
   * connector writes changes in cluster-time order, so one at or before it is a replay. Written
   * only by the Mongo CDC writer; never moves back.
   */
  STATE_MONGO_POSITIONS(
      "state",
      "mongo_positions",
      String.join(
          ", ",
          "source_collection STRING NOT NULL",
          "source_topic STRING NOT NULL",
          "source_partition INT NOT NULL",
          "cluster_time_seconds BIGINT NOT NULL",
          "cluster_time_increment BIGINT NOT NULL",
          "resume_token STRING NOT NULL",
          "updated_at TIMESTAMP NOT NULL"),
      List.of()),
  /**
   * Per MongoDB collection and document, the newest delete the Mongo CDC writer has seen: a change
   * of that document older than it (arriving late from another partition) is not applied. A row
   * goes once every partition of the collection's topics is past it. Written only by the Mongo CDC
   * writer.
   */
  STATE_MONGO_TOMBSTONES(
      "state",
      "mongo_tombstones",
      String.join(
          ", ",
          "source_collection STRING NOT NULL",
          "document_id STRING NOT NULL",
          "cluster_time_seconds BIGINT NOT NULL",
          "cluster_time_increment BIGINT NOT NULL",
          "resume_token STRING NOT NULL",
          "deleted_at TIMESTAMP",
          "recorded_at TIMESTAMP NOT NULL"),
      List.of()),
  /** One row per historical import run: the last value reached, so the next run continues. */
  STATE_IMPORT_PROGRESS(
      "state",
      "import_progress",
      String.join(
          ", ",
          "import_key STRING NOT NULL",
          "target_table STRING NOT NULL",
          "source STRING NOT NULL",
          "mode STRING NOT NULL",
          "check_column STRING",
          "run_version BIGINT NOT NULL",
          "last_value STRING",
          "rows BIGINT NOT NULL",
          "snapshot_id STRING NOT NULL",
          "recorded_at TIMESTAMP NOT NULL"),
      List.of()),
  /** mongoexport documents as canonical Extended JSON; promoted top-level fields are added. */
  RAW_MONGO_SNAPSHOTS(
      "raw",
      "mongo_snapshots",
      String.join(
          ", ",
          "collection STRING NOT NULL",
          "document_id STRING",
          "document STRING NOT NULL",
          "snapshot_id STRING NOT NULL",
          "source_file STRING NOT NULL",
          "source_line BIGINT NOT NULL",
          "imported_at TIMESTAMP NOT NULL"),
      List.of()),
  /**
   * Profiles flagged by {@code lake spam}: one row per rule, profile and window bucket (the flag_id
   * is derived from them, so a flag is never raised twice), with the evidence as JSON.
   */
  CONSUMERS_SPAM_FLAGS(
      "consumers",
      "spam_flags",
      String.join(
          ", ",
          "flag_id STRING NOT NULL",
          "profile_id BIGINT NOT NULL",
          "rule STRING NOT NULL",
          "evidence STRING NOT NULL",
          "event_count BIGINT NOT NULL",
          "window_start TIMESTAMP NOT NULL",
          "offending_change_at TIMESTAMP NOT NULL",
          "detected_at TIMESTAMP NOT NULL",
          "batch_id BIGINT NOT NULL"),
      List.of()),
  /** The top K candidates per active profile, written by {@code lake match}. */
  CONSUMERS_RECOMMENDATIONS(
      "consumers",
      "recommendations",
      String.join(
          ", ",
          "profile_id BIGINT NOT NULL",
          "rank INT NOT NULL",
          "candidate_id BIGINT NOT NULL",
          "score DOUBLE NOT NULL",
          "reasons STRING NOT NULL",
          "profiles_version BIGINT NOT NULL",
          "as_of TIMESTAMP NOT NULL",
          "computed_at TIMESTAMP NOT NULL"),
      List.of()),
  /**
   * Each spam flag {@code lake spam} published to Kafka, with its place on the topic: a flag in
   * consumers.spam_flags but not here is pending, and recovery looks for it on the topic before
   * sending it again.
   */
  STATE_SPAM_PUBLICATIONS(
      "state",
      "spam_publications",
      String.join(
          ", ",
          "flag_id STRING NOT NULL",
          "topic STRING NOT NULL",
          "kafka_partition INT NOT NULL",
          "kafka_offset BIGINT NOT NULL",
          "published_at TIMESTAMP NOT NULL",
          "latency_ms BIGINT NOT NULL"),
      List.of()),
  /** The profiles mirror version (and its commit time) each {@code lake match} run computed at. */
  STATE_MATCH_RUNS(
      "state",
      "match_runs",
      String.join(
          ", ",
          "profiles_table STRING NOT NULL",
          "profiles_version BIGINT NOT NULL",
          "interests_version BIGINT NOT NULL",
          "as_of TIMESTAMP NOT NULL",
          "mode STRING NOT NULL",
          "recomputed_profiles BIGINT NOT NULL",
          "finished_at TIMESTAMP NOT NULL"),
      List.of());

  private final String zone;
  private final String table;
  private final String columns;
  private final List<String> partitionColumns;

  LakeTable(String zone, String table, String columns, List<String> partitionColumns) {
    this.zone = requireNonNull(zone, "zone is null");
    this.table = requireNonNull(table, "table is null");
    this.columns = requireNonNull(columns, "columns is null");
    this.partitionColumns = List.copyOf(partitionColumns);
  }

  public String zone() {
    return zone;
  }

  public String table() {
    return table;
  }

  /** {@code zone.table}, e.g. {@code raw.events}: the name in Trino's lake catalog. */
  public String qualifiedName() {
    return zone + "." + table;
  }

  /** The columns as a Spark DDL list, e.g. {@code event_id STRING NOT NULL, ...}. */
  public String columns() {
    return columns;
  }

  public List<String> partitionColumns() {
    return partitionColumns;
  }

  /** Where the table lives, as Spark addresses it (s3a://). */
  public String location(StorageConfig storage) {
    return storage.tableLocation(zone, table);
  }

  /**
   * The daily views, computed by the batch layer only (sessions need the whole day). A session is a
   * client's run of events with no gap over 30 minutes, cut at midnight UTC; it bounces when it has
   * exactly one event. Traffic and device of a session are those of its first event. Keys that the
   * event did not carry are {@code (none)}, so no key column is null.
   */
  private static final class DailyColumns {
    static final String EVENTS_DAILY =
        String.join(
            ", ",
            "tracking_id STRING NOT NULL",
            "event_date DATE NOT NULL",
            "events BIGINT NOT NULL",
            "pageviews BIGINT NOT NULL",
            "users_sketch BINARY NOT NULL",
            "users BIGINT NOT NULL",
            "sessions BIGINT NOT NULL",
            "bounced_sessions BIGINT NOT NULL",
            "bounce_rate DOUBLE",
            "session_seconds BIGINT NOT NULL",
            "purchases BIGINT NOT NULL",
            "revenue MAP<STRING, DECIMAL(28, 4)> NOT NULL",
            "logic_version STRING NOT NULL",
            "computed_at TIMESTAMP NOT NULL");
    static final String PAGES_DAILY =
        String.join(
            ", ",
            "tracking_id STRING NOT NULL",
            "event_date DATE NOT NULL",
            "page_url STRING NOT NULL",
            "pageviews BIGINT NOT NULL",
            "users_sketch BINARY NOT NULL",
            "users BIGINT NOT NULL",
            "entrances BIGINT NOT NULL",
            "page_rank INT NOT NULL",
            "logic_version STRING NOT NULL",
            "computed_at TIMESTAMP NOT NULL");
    static final String TRAFFIC_DAILY =
        String.join(
            ", ",
            "tracking_id STRING NOT NULL",
            "event_date DATE NOT NULL",
            "traffic_source STRING NOT NULL",
            "traffic_medium STRING NOT NULL",
            "traffic_campaign STRING NOT NULL",
            "device_class STRING NOT NULL",
            "browser STRING NOT NULL",
            "sessions BIGINT NOT NULL",
            "bounced_sessions BIGINT NOT NULL",
            "events BIGINT NOT NULL",
            "users_sketch BINARY NOT NULL",
            "users BIGINT NOT NULL",
            "logic_version STRING NOT NULL",
            "computed_at TIMESTAMP NOT NULL");

    private DailyColumns() {}
  }

  /** The columns of every quarantine table. */
  private static final class QuarantineColumns {
    static final String COLUMNS =
        String.join(
            ", ",
            "source STRING NOT NULL",
            "reason STRING NOT NULL",
            "field STRING",
            "message STRING",
            "received_at TIMESTAMP",
            "endpoint STRING",
            "tracking_id STRING",
            "payload STRING",
            "payload_encoding STRING",
            "payload_size BIGINT",
            "payload_truncated BOOLEAN",
            "source_topic STRING",
            "source_partition INT",
            "source_offset BIGINT",
            "quarantined_at TIMESTAMP NOT NULL",
            "quarantine_date DATE NOT NULL");

    private QuarantineColumns() {}
  }

  /** The column lists the batch and speed views share. */
  private static final class ViewColumns {
    static final String EVENTS_HOURLY =
        String.join(
            ", ",
            "tracking_id STRING NOT NULL",
            "event_date DATE NOT NULL",
            "hour TIMESTAMP NOT NULL",
            "event_name STRING NOT NULL",
            "events BIGINT NOT NULL",
            "users_sketch BINARY NOT NULL",
            "value_sum DECIMAL(28, 4)",
            "valued_events BIGINT NOT NULL",
            "logic_version STRING NOT NULL",
            "computed_at TIMESTAMP NOT NULL");
    static final String PAGES_HOURLY =
        String.join(
            ", ",
            "tracking_id STRING NOT NULL",
            "event_date DATE NOT NULL",
            "hour TIMESTAMP NOT NULL",
            "page_url STRING NOT NULL",
            "pageviews BIGINT NOT NULL",
            "users_sketch BINARY NOT NULL",
            "logic_version STRING NOT NULL",
            "computed_at TIMESTAMP NOT NULL");

    private ViewColumns() {}
  }
}
