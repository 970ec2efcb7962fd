package io.lambdalake.serving;

import static java.util.Objects.requireNonNull;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.config.StorageConfig;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.common.table.LakeTable;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;

/** The lake's catalog in Trino: schemas per zone, and the Delta tables the pipeline wrote. */
public final class TrinoCatalog {
  private final LakeConfig config;

  public TrinoCatalog(LakeConfig config) {
    this.config = requireNonNull(config, "config is null");
  }

  /** What {@link #register} found. */
  public enum Registration {
    REGISTERED,
    ALREADY_REGISTERED,
    NOT_WRITTEN_YET
  }

  /**
   * Creates the zone's schema ({@code lake.trino.schema-prefix} and the zone) with its folder under
   * the lake's root, unless it exists.
   */
  public void createSchema(String zone) {
    execute(
        "CREATE SCHEMA IF NOT EXISTS "
            + config.trino().schema(zone)
            + " WITH (location = '"
            + StorageConfig.trinoLocation(config.storage().zoneLocation(zone))
            + "')");
  }

  /** Registers a table Spark wrote, unless Trino knows it already or it does not exist yet. */
  public Registration register(LakeTable table) {
    return register(table.zone(), table.table(), table.location(config.storage()));
  }

  /**
   * Registers a Delta table Spark wrote at a location (as Spark addresses it), e.g. a mirror,
   * unless Trino knows it already or it does not exist yet.
   */
  public Registration register(String zone, String table, String location) {
    createSchema(zone);
    if (isRegistered(zone, table)) {
      return Registration.ALREADY_REGISTERED;
    }
    // CALL takes no bound parameters; the values come from configuration, quoted as literals.
    try (Connection connection = connection();
        Statement call = connection.createStatement()) {
      call.execute(
          "CALL system.register_table(schema_name => "
              + literal(config.trino().schema(zone))
              + ", table_name => "
              + literal(table)
              + ", table_location => "
              + literal(StorageConfig.trinoLocation(location))
              + ")");
      return Registration.REGISTERED;
    } catch (SQLException e) {
      String message = String.valueOf(e.getMessage());
      if (message.contains("No transaction log found")
          || message.contains("does not exist")
          || message.contains("not a Delta Lake table")) {
        return Registration.NOT_WRITTEN_YET;
      }
      throw failure("registering " + zone + "." + table, e);
    }
  }

  /** Creates the view in the serving schema, or replaces its definition. */
  public void createView(ServingView view) {
    createSchema(ServingView.ZONE);
    execute(view.createStatement(config.trino()));
  }

  /** The table's name in Trino, e.g. {@code lake.raw.events}. */
  public String displayName(LakeTable table) {
    return config.trino().catalog()
        + "."
        + config.trino().schema(table.zone())
        + "."
        + table.table();
  }

  private static String literal(String value) {
    return "'" + value.replace("'", "''") + "'";
  }

  private boolean isRegistered(String zone, String table) {
    try (Connection connection = connection();
        PreparedStatement query =
            connection.prepareStatement(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?")) {
      query.setString(1, config.trino().schema(zone));
      query.setString(2, table);
      try (ResultSet result = query.executeQuery()) {
        result.next();
        return result.getLong(1) > 0;
      }
    } catch (SQLException e) {
      throw failure("looking up " + zone + "." + table, e);
    }
  }

  public void execute(String sql) {
    try (Connection connection = connection();
        Statement statement = connection.createStatement()) {
      statement.execute(sql);
    } catch (SQLException e) {
      throw failure("running " + sql.lines().findFirst().orElse(sql).strip(), e);
    }
  }

  public Connection connection() throws SQLException {
    Properties properties = new Properties();
    properties.setProperty("user", config.trino().user());
    Connection connection = DriverManager.getConnection(config.trino().url(), properties);
    connection.setCatalog(config.trino().catalog());
    return connection;
  }

  private LakeException failure(String what, SQLException e) {
    return new LakeException(
        ErrorCode.SERVER_NOT_AVAILABLE,
        "Trino at " + config.trino().url() + " failed " + what + ": " + e.getMessage(),
        e);
  }
}
