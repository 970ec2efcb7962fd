package io.lambdalake.serving.store;

import static java.util.Objects.requireNonNull;

import io.lambdalake.common.table.LakeTable;
import java.util.List;

/**
 * The tables of the point-read store, each a copy of one Delta table of the lake that {@code lake
 * serving-sync} keeps: the batch and speed hourly views as they are (not merged), the batch
 * coverage, and the batch layer's daily sessions and traffic. The API merges batch and speed at the
 * coverage watermark when it reads, and keeps the daily rows to the days the coverage covers, as
 * the Trino views do, so a move of the watermark needs no rewrite of the store.
 *
 * <p>Hours and the watermark are epoch seconds, days are epoch days (UTC, no time zone to get
 * wrong); revenue per currency is the JSON of the map; strings compare as Trino compares them (code
 * points, no padding: {@code utf8mb4_nopad_bin}); a page is keyed by the SHA-256 of its URL, which
 * can be longer than an index key.
 */
public enum StoreTable {
  BATCH_EVENTS_HOURLY(LakeTable.BATCH_EVENTS_HOURLY, Shape.EVENTS_HOURLY),
  SPEED_EVENTS_HOURLY(LakeTable.SPEED_EVENTS_HOURLY, Shape.EVENTS_HOURLY),
  BATCH_PAGES_HOURLY(LakeTable.BATCH_PAGES_HOURLY, Shape.PAGES_HOURLY),
  SPEED_PAGES_HOURLY(LakeTable.SPEED_PAGES_HOURLY, Shape.PAGES_HOURLY),
  BATCH_COVERAGE(LakeTable.BATCH_COVERAGE, Shape.COVERAGE),
  BATCH_EVENTS_DAILY(LakeTable.BATCH_EVENTS_DAILY, Shape.EVENTS_DAILY),
  BATCH_TRAFFIC_DAILY(LakeTable.BATCH_TRAFFIC_DAILY, Shape.TRAFFIC_DAILY);

  /**
   * The order in which one sync round reads the tables' latest versions: the order in which a Trino
   * serving view reads their snapshots (speed, then the coverage, then batch), so that the writers'
   * promises that keep the views exact (docs/serving.md) keep the store exact too.
   */
  public static final List<StoreTable> SNAPSHOT_ORDER =
      List.of(
          SPEED_EVENTS_HOURLY,
          SPEED_PAGES_HOURLY,
          BATCH_COVERAGE,
          BATCH_EVENTS_HOURLY,
          BATCH_PAGES_HOURLY,
          BATCH_EVENTS_DAILY,
          BATCH_TRAFFIC_DAILY);

  private final LakeTable lakeTable;
  private final Shape shape;

  StoreTable(LakeTable lakeTable, Shape shape) {
    this.lakeTable = requireNonNull(lakeTable, "lakeTable is null");
    this.shape = requireNonNull(shape, "shape is null");
  }

  /** The Delta table this one copies. */
  public LakeTable lakeTable() {
    return lakeTable;
  }

  /** The table's name in the store's database, e.g. {@code speed_events_hourly}. */
  public String tableName() {
    return lakeTable.zone() + "_" + lakeTable.table();
  }

  public List<Column> columns() {
    return shape.columns;
  }

  /** The store's primary key. */
  public List<String> keyColumns() {
    return shape.keyColumns;
  }

  /** The Delta columns that identify a row (what the store's key is computed from). */
  public List<String> deltaKeyColumns() {
    return shape.deltaKeyColumns;
  }

  /** {@code CREATE TABLE IF NOT EXISTS} of the table. */
  public String createStatement() {
    StringBuilder sql = new StringBuilder("CREATE TABLE IF NOT EXISTS ").append(tableName());
    sql.append(" (");
    for (Column column : shape.columns) {
      sql.append(column.name()).append(' ').append(column.storeType()).append(", ");
    }
    sql.append("PRIMARY KEY (").append(String.join(", ", shape.keyColumns)).append("))");
    sql.append(" ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_nopad_bin");
    return sql.toString();
  }

  /** How a column's value travels from Spark to JDBC. */
  public enum Kind {
    STRING,
    LONG,
    DECIMAL,
    BYTES
  }

  /**
   * A column of the store: its name, its type there, the Spark SQL expression over the Delta row
   * that gives its value, and how that value is bound.
   */
  public record Column(String name, String storeType, String sparkExpression, Kind kind) {
    public Column {
      requireNonNull(name, "name is null");
      requireNonNull(storeType, "storeType is null");
      requireNonNull(sparkExpression, "sparkExpression is null");
      requireNonNull(kind, "kind is null");
    }

    static Column same(String name, String storeType, Kind kind) {
      return new Column(name, storeType, name, kind);
    }
  }

  private enum Shape {
    EVENTS_HOURLY(
        List.of(
            Column.same("tracking_id", "VARCHAR(255) NOT NULL", Kind.STRING),
            new Column("hour", "BIGINT NOT NULL", "unix_seconds(hour)", Kind.LONG),
            Column.same("event_name", "VARCHAR(255) NOT NULL", Kind.STRING),
            Column.same("events", "BIGINT NOT NULL", Kind.LONG),
            Column.same("users_sketch", "MEDIUMBLOB NOT NULL", Kind.BYTES),
            Column.same("value_sum", "DECIMAL(28, 4)", Kind.DECIMAL),
            Column.same("valued_events", "BIGINT NOT NULL", Kind.LONG)),
        List.of("tracking_id", "hour", "event_name"),
        List.of("tracking_id", "hour", "event_name")),
    PAGES_HOURLY(
        List.of(
            Column.same("tracking_id", "VARCHAR(255) NOT NULL", Kind.STRING),
            new Column("hour", "BIGINT NOT NULL", "unix_seconds(hour)", Kind.LONG),
            new Column("page_key", "BINARY(32) NOT NULL", "unhex(sha2(page_url, 256))", Kind.BYTES),
            Column.same("page_url", "TEXT NOT NULL", Kind.STRING),
            Column.same("pageviews", "BIGINT NOT NULL", Kind.LONG),
            Column.same("users_sketch", "MEDIUMBLOB NOT NULL", Kind.BYTES)),
        List.of("tracking_id", "hour", "page_key"),
        List.of("tracking_id", "hour", "page_url")),
    EVENTS_DAILY(
        List.of(
            Column.same("tracking_id", "VARCHAR(255) NOT NULL", Kind.STRING),
            new Column("event_date", "BIGINT NOT NULL", "unix_date(event_date)", Kind.LONG),
            Column.same("sessions", "BIGINT NOT NULL", Kind.LONG),
            new Column("revenue", "LONGTEXT NOT NULL", "to_json(revenue)", Kind.STRING)),
        List.of("tracking_id", "event_date"),
        List.of("tracking_id", "event_date")),
    TRAFFIC_DAILY(
        List.of(
            Column.same("tracking_id", "VARCHAR(255) NOT NULL", Kind.STRING),
            new Column("event_date", "BIGINT NOT NULL", "unix_date(event_date)", Kind.LONG),
            new Column(
                "dimensions_key",
                "BINARY(32) NOT NULL",
                "unhex(sha2(to_json(array(traffic_source, traffic_medium, traffic_campaign,"
                    + " device_class, browser)), 256))",
                Kind.BYTES),
            Column.same("traffic_source", "TEXT NOT NULL", Kind.STRING),
            Column.same("traffic_medium", "TEXT NOT NULL", Kind.STRING),
            Column.same("traffic_campaign", "TEXT NOT NULL", Kind.STRING),
            Column.same("device_class", "TEXT NOT NULL", Kind.STRING),
            Column.same("browser", "TEXT NOT NULL", Kind.STRING),
            Column.same("sessions", "BIGINT NOT NULL", Kind.LONG),
            Column.same("bounced_sessions", "BIGINT NOT NULL", Kind.LONG),
            Column.same("events", "BIGINT NOT NULL", Kind.LONG),
            Column.same("users_sketch", "MEDIUMBLOB NOT NULL", Kind.BYTES)),
        List.of("tracking_id", "event_date", "dimensions_key"),
        List.of(
            "tracking_id",
            "event_date",
            "traffic_source",
            "traffic_medium",
            "traffic_campaign",
            "device_class",
            "browser")),
    COVERAGE(
        List.of(
            new Column("view_name", "VARCHAR(255) NOT NULL", "view", Kind.STRING),
            new Column(
                "covered_until", "BIGINT NOT NULL", "unix_seconds(covered_until)", Kind.LONG)),
        List.of("view_name"),
        List.of("view"));

    private final List<Column> columns;
    private final List<String> keyColumns;
    private final List<String> deltaKeyColumns;

    Shape(List<Column> columns, List<String> keyColumns, List<String> deltaKeyColumns) {
      this.columns = List.copyOf(columns);
      this.keyColumns = List.copyOf(keyColumns);
      this.deltaKeyColumns = List.copyOf(deltaKeyColumns);
    }
  }
}
