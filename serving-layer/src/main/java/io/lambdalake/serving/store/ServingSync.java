package io.lambdalake.serving.store;

import static java.util.Objects.requireNonNull;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.expr;
import static org.apache.spark.sql.functions.row_number;

import io.delta.tables.DeltaTable;
import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.spark.DeltaTables;
import java.io.FileNotFoundException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Clock;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.expressions.Window;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One round of {@code lake serving-sync}: brings every {@link StoreTable} of the point-read store
 * to the latest version of its Delta table.
 *
 * <p>A round reads the tables' latest versions in {@link StoreTable#SNAPSHOT_ORDER} (the order in
 * which the Trino views read their snapshots), then applies, for each table, the changes since the
 * version the store holds: the rows of Delta's change data feed reduced to the last change per key
 * (an upsert, or a delete), or, where there is no change feed for the range (a table without {@code
 * delta.enableChangeDataFeed}, a first sync, a re-created table, change files vacuumed), the whole
 * table at its latest version. Everything a round writes, the tables' new positions included, is
 * one transaction of the store: a crash at any point leaves the store as the last round left it,
 * and the next round applies the same changes again from there. Upserts and deletes by key make
 * applying a change again harmless too. Rounds of several processes are serialized by a lock of the
 * store's server ({@code GET_LOCK}).
 */
public final class ServingSync {
  private static final Logger LOG = LoggerFactory.getLogger(ServingSync.class);

  /** A table's position when its Delta table did not exist: the store's copy is empty. */
  private static final long ABSENT = -1;

  private final LakeConfig config;
  private final SparkSession spark;
  private final StoreDatabase store;
  private final Clock clock;
  private final Faults faults;

  public ServingSync(LakeConfig config, SparkSession spark, StoreDatabase store) {
    this(config, spark, store, Clock.systemUTC(), Faults.NONE);
  }

  ServingSync(
      LakeConfig config, SparkSession spark, StoreDatabase store, Clock clock, Faults faults) {
    this.config = requireNonNull(config, "config is null");
    this.spark = requireNonNull(spark, "spark is null");
    this.store = requireNonNull(store, "store is null");
    this.clock = requireNonNull(clock, "clock is null");
    this.faults = requireNonNull(faults, "faults is null");
  }

  /** Where a test makes the sync fail: after each row it applied within a round. */
  interface Faults {
    Faults NONE = (table, rowsInRound) -> {};

    void rowApplied(StoreTable table, long rowsInRound);
  }

  /** How a table was brought up to date in a round. */
  public enum Mode {
    /** Already at the latest version. */
    UNCHANGED,
    /** The change data feed since the store's version, reduced to the last change per key. */
    CHANGES,
    /** The whole table at its latest version replaced the store's copy. */
    SNAPSHOT,
    /** No Delta table there (yet): the store's copy is empty. */
    ABSENT
  }

  /** What one round did to one table. */
  public record TableSync(
      StoreTable table, long fromVersion, long toVersion, Mode mode, long upserts, long deletes) {
    public TableSync {
      requireNonNull(table, "table is null");
      requireNonNull(mode, "mode is null");
    }

    String describe() {
      return switch (mode) {
        case UNCHANGED -> table.tableName() + " at " + toVersion;
        case ABSENT -> table.tableName() + " absent";
        case CHANGES, SNAPSHOT ->
            "%s %d->%d (%s: %d upserts, %d deletes)"
                .formatted(
                    table.tableName(),
                    fromVersion,
                    toVersion,
                    mode.name().toLowerCase(),
                    upserts,
                    deletes);
      };
    }
  }

  /** What one round did. */
  public record Round(List<TableSync> tables) {
    public Round {
      tables = List.copyOf(tables);
    }

    /** Whether the round applied anything. */
    public boolean changed() {
      return tables.stream().anyMatch(table -> table.upserts() + table.deletes() > 0);
    }

    public String describe() {
      return tables.stream().map(TableSync::describe).collect(Collectors.joining("; "));
    }
  }

  /** Runs one round; creates the store's schema first if missing. */
  public Round runOnce() {
    store.createSchema();
    try (Connection lock = store.connect();
        Connection connection = store.connect()) {
      acquireLock(lock);
      connection.setAutoCommit(false);
      Map<StoreTable, Position> positions = readPositions(connection);
      connection.commit();
      Map<StoreTable, Optional<Long>> targets = new EnumMap<>(StoreTable.class);
      for (StoreTable table : StoreTable.SNAPSHOT_ORDER) {
        targets.put(table, latestVersion(location(table)));
      }
      Set<StoreTable> snapshots = EnumSet.noneOf(StoreTable.class);
      while (true) {
        try {
          Round round = apply(connection, positions, targets, snapshots);
          connection.commit();
          return round;
        } catch (ChangeFeedUnavailable e) {
          rollback(connection);
          LOG.warn(
              "No change data feed for {} from version {} to {} ({}); copying the whole table"
                  + " instead. Enable delta.enableChangeDataFeed on it so that the sync reads"
                  + " only what changed.",
              e.table.lakeTable().qualifiedName(),
              e.fromVersion,
              e.toVersion,
              e.getCause().getMessage());
          snapshots.add(e.table);
        } catch (SQLException | RuntimeException e) {
          rollback(connection);
          throw e;
        } catch (Exception e) {
          rollback(connection);
          throw asUnchecked(e, "reading the lake's tables");
        }
      }
    } catch (SQLException e) {
      throw store.unavailable("applying the lake's changes", e);
    }
  }

  private Round apply(
      Connection connection,
      Map<StoreTable, Position> positions,
      Map<StoreTable, Optional<Long>> targets,
      Set<StoreTable> snapshots)
      throws SQLException {
    List<TableSync> done = new ArrayList<>();
    long[] rowsInRound = {0};
    for (StoreTable table : StoreTable.SNAPSHOT_ORDER) {
      String location = location(table);
      Optional<Position> position = Optional.ofNullable(positions.get(table));
      long from = position.map(Position::version).orElse(ABSENT);
      Optional<Long> target = targets.get(table);
      TableSync sync;
      if (target.isEmpty()) {
        if (from == ABSENT) {
          sync = new TableSync(table, ABSENT, ABSENT, Mode.ABSENT, 0, 0);
        } else {
          long deleted = deleteAll(connection, table);
          sync = new TableSync(table, from, ABSENT, Mode.ABSENT, 0, deleted);
        }
        done.add(sync);
        writePosition(connection, table, location, ABSENT);
        continue;
      }
      long to = target.get();
      boolean sameTable = position.isPresent() && position.get().location().equals(location);
      if (sameTable && from == to) {
        done.add(new TableSync(table, from, to, Mode.UNCHANGED, 0, 0));
        continue;
      }
      if (!sameTable || from == ABSENT || from > to || snapshots.contains(table)) {
        if (sameTable && from > to) {
          LOG.warn(
              "{} is at version {}, behind the store's {}: the table was re-created; copying it"
                  + " whole",
              table.lakeTable().qualifiedName(),
              to,
              from);
        }
        sync = snapshot(connection, table, location, from, to, rowsInRound);
      } else {
        sync = changes(connection, table, location, from, to, rowsInRound);
      }
      done.add(sync);
      writePosition(connection, table, location, to);
    }
    return new Round(done);
  }

  private TableSync snapshot(
      Connection connection,
      StoreTable table,
      String location,
      long from,
      long to,
      long[] rowsInRound)
      throws SQLException {
    long deleted = deleteAll(connection, table);
    Dataset<Row> rows =
        spark
            .read()
            .format("delta")
            .option("versionAsOf", to)
            .load(location)
            .select(storeColumns(table));
    long upserts = 0;
    try (Writer writer = new Writer(connection, table)) {
      Iterator<Row> iterator = rows.toLocalIterator();
      while (iterator.hasNext()) {
        writer.upsert(iterator.next());
        upserts++;
        faults.rowApplied(table, ++rowsInRound[0]);
      }
    }
    return new TableSync(table, from, to, Mode.SNAPSHOT, upserts, deleted);
  }

  private TableSync changes(
      Connection connection,
      StoreTable table,
      String location,
      long from,
      long to,
      long[] rowsInRound)
      throws SQLException {
    long upserts = 0;
    long deletes = 0;
    try (Writer writer = new Writer(connection, table)) {
      Iterator<Row> iterator;
      try {
        iterator = lastChangePerKey(table, location, from + 1, to).toLocalIterator();
        while (iterator.hasNext()) {
          Row row = iterator.next();
          if (row.getBoolean(row.length() - 1)) {
            writer.delete(row);
            deletes++;
          } else {
            writer.upsert(row);
            upserts++;
          }
          faults.rowApplied(table, ++rowsInRound[0]);
        }
      } catch (SQLException e) {
        throw e;
      } catch (Exception e) {
        // Delta's AnalysisException is a checked exception that Scala code throws undeclared.
        if (isChangeFeedUnavailable(e)) {
          throw new ChangeFeedUnavailable(table, from + 1, to, e);
        }
        throw asUnchecked(
            e, "reading the change data feed of " + table.lakeTable().qualifiedName());
      }
    }
    return new TableSync(table, from, to, Mode.CHANGES, upserts, deletes);
  }

  /**
   * The change feed of versions [first, last], one row per key: its last change (by commit version;
   * within one commit an insert after the delete of the same key, as an overwrite of a partition
   * writes them, wins), with a last column saying whether it is a delete.
   */
  private Dataset<Row> lastChangePerKey(StoreTable table, String location, long first, long last) {
    Dataset<Row> changes =
        spark
            .read()
            .format("delta")
            .option("readChangeFeed", "true")
            .option("startingVersion", first)
            .option("endingVersion", last)
            .load(location)
            .filter(col("_change_type").notEqual("update_preimage"));
    Column[] keys = table.deltaKeyColumns().stream().map(key -> col(key)).toArray(Column[]::new);
    Column latest =
        row_number()
            .over(
                Window.partitionBy(keys)
                    .orderBy(
                        col("_commit_version").desc(),
                        expr("CASE WHEN _change_type = 'delete' THEN 0 ELSE 1 END").desc()));
    List<Column> columns = new ArrayList<>(List.of(storeColumns(table)));
    columns.add(col("_change_type").equalTo("delete").as("_deleted"));
    return changes
        .withColumn("_latest", latest)
        .filter(col("_latest").equalTo(1))
        .select(columns.toArray(Column[]::new));
  }

  private static Column[] storeColumns(StoreTable table) {
    return table.columns().stream()
        .map(column -> expr(column.sparkExpression()).as(column.name()))
        .toArray(Column[]::new);
  }

  /** Whether the change feed of the range cannot be read, so that a copy of the table must do. */
  private static boolean isChangeFeedUnavailable(Throwable failure) {
    for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
      String message = String.valueOf(cause.getMessage());
      if (cause instanceof FileNotFoundException
          || message.contains("DELTA_MISSING_CHANGE_DATA")
          || message.contains("DELTA_CHANGE_DATA_FILE_NOT_FOUND")
          || message.contains("change data was not recorded")
          || message.contains("DELTA_VERSIONS_NOT_CONTIGUOUS")) {
        return true;
      }
    }
    return false;
  }

  private static RuntimeException asUnchecked(Exception e, String what) {
    if (e instanceof RuntimeException runtime) {
      return runtime;
    }
    return new LakeException(
        ErrorCode.SERVER_NOT_AVAILABLE,
        "The serving sync failed " + what + ": " + e.getMessage(),
        e);
  }

  private static final class ChangeFeedUnavailable extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final transient StoreTable table;
    private final long fromVersion;
    private final long toVersion;

    ChangeFeedUnavailable(StoreTable table, long fromVersion, long toVersion, Throwable cause) {
      super(cause);
      this.table = table;
      this.fromVersion = fromVersion;
      this.toVersion = toVersion;
    }
  }

  private String location(StoreTable table) {
    return table.lakeTable().location(config.storage());
  }

  private Optional<Long> latestVersion(String location) {
    if (!DeltaTables.exists(spark, location)) {
      return Optional.empty();
    }
    return Optional.of(
        DeltaTable.forPath(spark, location).history(1).select("version").first().getLong(0));
  }

  private void acquireLock(Connection lock) throws SQLException {
    try (PreparedStatement statement = lock.prepareStatement("SELECT GET_LOCK(?, 0)")) {
      statement.setString(1, lockName());
      try (ResultSet result = statement.executeQuery()) {
        if (!result.next() || result.getInt(1) != 1) {
          throw new LakeException(
              ErrorCode.LEASE_HELD,
              "Another lake serving-sync is applying changes to the serving store "
                  + store.config().database()
                  + " (it holds the lock "
                  + lockName()
                  + "); run one sync per store, or retry when it is done");
        }
      }
    }
  }

  private String lockName() {
    return store.config().database() + ".serving_sync";
  }

  private record Position(String location, long version) {}

  private static Map<StoreTable, Position> readPositions(Connection connection)
      throws SQLException {
    Map<StoreTable, Position> positions = new EnumMap<>(StoreTable.class);
    try (Statement statement = connection.createStatement();
        ResultSet rows =
            statement.executeQuery(
                "SELECT delta_table, location, version FROM " + StoreDatabase.POSITIONS_TABLE)) {
      while (rows.next()) {
        String name = rows.getString(1);
        for (StoreTable table : StoreTable.values()) {
          if (table.lakeTable().qualifiedName().equals(name)) {
            positions.put(table, new Position(rows.getString(2), rows.getLong(3)));
          }
        }
      }
    }
    return positions;
  }

  private void writePosition(Connection connection, StoreTable table, String location, long version)
      throws SQLException {
    try (PreparedStatement statement =
        connection.prepareStatement(
            "INSERT INTO "
                + StoreDatabase.POSITIONS_TABLE
                + " (delta_table, location, version, synced_at) VALUES (?, ?, ?, ?)"
                + " ON DUPLICATE KEY UPDATE location = VALUES(location),"
                + " version = VALUES(version), synced_at = VALUES(synced_at)")) {
      statement.setString(1, table.lakeTable().qualifiedName());
      statement.setString(2, location);
      statement.setLong(3, version);
      statement.setLong(4, clock.instant().getEpochSecond());
      statement.executeUpdate();
    }
  }

  private static long deleteAll(Connection connection, StoreTable table) throws SQLException {
    try (Statement statement = connection.createStatement()) {
      return statement.executeUpdate("DELETE FROM " + table.tableName());
    }
  }

  private static void rollback(Connection connection) {
    try {
      connection.rollback();
    } catch (SQLException e) {
      LOG.warn("Rolling back the serving store's transaction failed: {}", e.getMessage());
    }
  }

  /** Batched upserts and deletes by key into one table of the store. */
  private final class Writer implements AutoCloseable {
    private final StoreTable table;
    private final PreparedStatement upsert;
    private final PreparedStatement delete;
    private final List<Integer> keyIndexes = new ArrayList<>();
    private int pendingUpserts;
    private int pendingDeletes;

    Writer(Connection connection, StoreTable table) throws SQLException {
      this.table = table;
      List<String> names = table.columns().stream().map(StoreTable.Column::name).toList();
      List<String> updates =
          names.stream()
              .filter(name -> !table.keyColumns().contains(name))
              .map(name -> name + " = VALUES(" + name + ")")
              .toList();
      this.upsert =
          connection.prepareStatement(
              "INSERT INTO "
                  + table.tableName()
                  + " ("
                  + String.join(", ", names)
                  + ") VALUES ("
                  + names.stream().map(name -> "?").collect(Collectors.joining(", "))
                  + ") ON DUPLICATE KEY UPDATE "
                  + String.join(", ", updates));
      for (String key : table.keyColumns()) {
        keyIndexes.add(names.indexOf(key));
      }
      this.delete =
          connection.prepareStatement(
              "DELETE FROM "
                  + table.tableName()
                  + " WHERE "
                  + table.keyColumns().stream()
                      .map(key -> key + " = ?")
                      .collect(Collectors.joining(" AND ")));
    }

    void upsert(Row row) throws SQLException {
      for (int index = 0; index < table.columns().size(); index++) {
        bind(upsert, index + 1, table.columns().get(index), row, index);
      }
      upsert.addBatch();
      if (++pendingUpserts >= store.config().batchRows()) {
        upsert.executeBatch();
        pendingUpserts = 0;
      }
    }

    void delete(Row row) throws SQLException {
      for (int position = 0; position < keyIndexes.size(); position++) {
        int index = keyIndexes.get(position);
        bind(delete, position + 1, table.columns().get(index), row, index);
      }
      delete.addBatch();
      if (++pendingDeletes >= store.config().batchRows()) {
        delete.executeBatch();
        pendingDeletes = 0;
      }
    }

    private void bind(
        PreparedStatement statement, int parameter, StoreTable.Column column, Row row, int field)
        throws SQLException {
      if (row.isNullAt(field)) {
        statement.setNull(parameter, sqlType(column.kind()));
        return;
      }
      switch (column.kind()) {
        case STRING -> statement.setString(parameter, row.getString(field));
        case LONG -> statement.setLong(parameter, ((Number) row.get(field)).longValue());
        case DECIMAL -> statement.setBigDecimal(parameter, row.getDecimal(field));
        case BYTES -> statement.setBytes(parameter, (byte[]) row.get(field));
      }
    }

    private int sqlType(StoreTable.Kind kind) {
      return switch (kind) {
        case STRING -> Types.VARCHAR;
        case LONG -> Types.BIGINT;
        case DECIMAL -> Types.DECIMAL;
        case BYTES -> Types.VARBINARY;
      };
    }

    @Override
    public void close() throws SQLException {
      try {
        if (pendingUpserts > 0) {
          upsert.executeBatch();
        }
        if (pendingDeletes > 0) {
          delete.executeBatch();
        }
      } finally {
        upsert.close();
        delete.close();
      }
    }
  }
}
