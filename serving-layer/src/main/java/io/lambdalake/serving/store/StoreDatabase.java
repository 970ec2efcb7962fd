package io.lambdalake.serving.store;

import static java.util.Objects.requireNonNull;

import io.lambdalake.common.config.ApiConfig;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * The point-read store's database: its schema, and a small pool of connections for the API (one per
 * request thread at most; a connection that failed is closed, not returned).
 */
public final class StoreDatabase implements AutoCloseable {
  /** The sync's position per Delta table, written in the transaction that applies its changes. */
  public static final String POSITIONS_TABLE = "sync_positions";

  private final ApiConfig.Store store;
  private final BlockingQueue<Connection> idle;

  public StoreDatabase(ApiConfig.Store store) {
    this.store = requireNonNull(store, "store is null");
    this.idle = new ArrayBlockingQueue<>(store.connections());
  }

  public ApiConfig.Store config() {
    return store;
  }

  /** Creates the database and its tables where missing; idempotent. */
  public void createSchema() {
    try (Connection connection = open(store.serverJdbcUrl());
        Statement statement = connection.createStatement()) {
      if (!store.writeBinlog()) {
        statement.execute("SET SESSION sql_log_bin = 0");
      }
      statement.execute(
          "CREATE DATABASE IF NOT EXISTS "
              + store.database()
              + " DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_nopad_bin");
      statement.execute("USE " + store.database());
      for (StoreTable table : StoreTable.values()) {
        statement.execute(table.createStatement());
      }
      statement.execute(
          "CREATE TABLE IF NOT EXISTS "
              + POSITIONS_TABLE
              + " (delta_table VARCHAR(255) NOT NULL PRIMARY KEY,"
              + " location VARCHAR(2048) NOT NULL,"
              + " version BIGINT NOT NULL,"
              + " synced_at BIGINT NOT NULL)"
              + " ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_nopad_bin");
    } catch (SQLException e) {
      throw unavailable("creating its tables", e);
    }
  }

  /**
   * A new connection to the store's database for writing (the caller closes it): unless {@code
   * lake.api.store.write-binlog}, its writes stay out of the server's binlog. A binlog reader of
   * the same server (Maxwell, locally) would otherwise get row events of a database whose creation
   * it never saw, and stops on them.
   */
  public Connection connect() {
    try {
      Connection connection = open(store.jdbcUrl());
      if (!store.writeBinlog()) {
        try (Statement statement = connection.createStatement()) {
          statement.execute("SET SESSION sql_log_bin = 0");
        } catch (SQLException e) {
          connection.close();
          throw e;
        }
      }
      return connection;
    } catch (SQLException e) {
      throw unavailable("connecting", e);
    }
  }

  /** Drops the store's database (tests and benchmarks that made a store of their own). */
  public void dropDatabase() {
    try (Connection connection = open(store.serverJdbcUrl());
        Statement statement = connection.createStatement()) {
      if (!store.writeBinlog()) {
        statement.execute("SET SESSION sql_log_bin = 0");
      }
      statement.execute("DROP DATABASE IF EXISTS " + store.database());
    } catch (SQLException e) {
      throw unavailable("dropping its database", e);
    }
  }

  /** A pooled connection for a read (never a write); give it back with {@link #release}. */
  public Connection borrow() throws SQLException {
    Connection connection = idle.poll();
    return connection != null ? connection : open(store.jdbcUrl());
  }

  /** Returns a connection to the pool, or closes it if it failed or the pool is full. */
  public void release(Connection connection, boolean failed) {
    if (failed || !idle.offer(connection)) {
      closeQuietly(connection);
    }
  }

  /** An error saying the store failed, naming the store (never its password). */
  public LakeException unavailable(String what, SQLException e) {
    return new LakeException(
        ErrorCode.SERVER_NOT_AVAILABLE,
        "The serving store "
            + store.database()
            + " at "
            + store.host()
            + ":"
            + store.port()
            + " failed "
            + what
            + ": "
            + e.getMessage()
            + " (lake.api.store; `lake serving-sync --once` creates and fills it)",
        e);
  }

  private Connection open(String url) throws SQLException {
    Properties properties = new Properties();
    properties.setProperty("user", store.user());
    properties.setProperty("password", store.password());
    return DriverManager.getConnection(url, properties);
  }

  private static void closeQuietly(Connection connection) {
    try {
      connection.close();
    } catch (SQLException ignored) {
      // Already broken; nothing more to release.
    }
  }

  @Override
  public void close() {
    Connection connection;
    while ((connection = idle.poll()) != null) {
      closeQuietly(connection);
    }
  }
}
