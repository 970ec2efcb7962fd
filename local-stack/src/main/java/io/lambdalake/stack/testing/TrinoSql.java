package io.lambdalake.stack.testing;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.config.StorageConfig;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/** Runs SQL in the lake's Trino catalog for tests: statements, queries, table registration. */
public final class TrinoSql {
  private final LakeConfig config;

  public TrinoSql(LakeConfig config) {
    this.config = config;
  }

  public void execute(String sql) {
    try (Connection connection = connection();
        Statement statement = connection.createStatement()) {
      statement.execute(sql);
    } catch (SQLException e) {
      throw new IllegalStateException("Trino failed: " + sql + ": " + e.getMessage(), e);
    }
  }

  /** The rows of a query, each a list of its column values as JDBC returns them. */
  public List<List<Object>> query(String sql) {
    try (Connection connection = connection();
        Statement statement = connection.createStatement();
        ResultSet result = statement.executeQuery(sql)) {
      int columns = result.getMetaData().getColumnCount();
      List<List<Object>> rows = new ArrayList<>();
      while (result.next()) {
        List<Object> row = new ArrayList<>(columns);
        for (int column = 1; column <= columns; column++) {
          row.add(result.getObject(column));
        }
        rows.add(row);
      }
      return rows;
    } catch (SQLException e) {
      throw new IllegalStateException("Trino failed: " + sql + ": " + e.getMessage(), e);
    }
  }

  public Object scalar(String sql) {
    List<List<Object>> rows = query(sql);
    if (rows.size() != 1 || rows.get(0).size() != 1) {
      throw new IllegalStateException("Expected one value from " + sql + " but got " + rows);
    }
    return rows.get(0).get(0);
  }

  /** Creates the schema with its folder under the lake's root, unless it exists. */
  public void createSchema(String schema) {
    execute(
        "CREATE SCHEMA IF NOT EXISTS "
            + schema
            + " WITH (location = '"
            + StorageConfig.trinoLocation(config.storage().zoneLocation(schema))
            + "')");
  }

  /** Registers a Delta table Spark wrote (an s3a:// location) under schema.table. */
  public void register(String schema, String table, String sparkLocation) {
    execute(
        "CALL system.register_table(schema_name => '"
            + schema
            + "', table_name => '"
            + table
            + "', table_location => '"
            + StorageConfig.trinoLocation(sparkLocation)
            + "')");
  }

  public void unregister(String schema, String table) {
    execute(
        "CALL system.unregister_table(schema_name => '"
            + schema
            + "', table_name => '"
            + table
            + "')");
  }

  /** A connection to the lake catalog, for reads that need JDBC types. */
  public Connection connection() throws SQLException {
    Properties properties = new Properties();
    properties.setProperty("user", config.trino().user());
    Connection connection = DriverManager.getConnection(config.trino().url(), properties);
    connection.setCatalog(config.trino().catalog());
    return connection;
  }
}
