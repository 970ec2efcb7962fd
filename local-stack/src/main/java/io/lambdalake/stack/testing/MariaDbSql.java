package io.lambdalake.stack.testing;

import io.lambdalake.common.config.LakeConfig;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;

/** Statements on the shared stack's MariaDB, as the lake's account, in UTC session time. */
public final class MariaDbSql {
  private MariaDbSql() {}

  /** A connection with no database selected and the session's time zone at UTC. */
  public static Connection connect() throws SQLException {
    LakeConfig config = SharedStack.config();
    Connection connection =
        DriverManager.getConnection(
            config.mariaDb().jdbcUrl(""), config.mariaDb().user(), config.mariaDb().password());
    try (Statement statement = connection.createStatement()) {
      statement.execute("SET time_zone = '+00:00'");
    }
    return connection;
  }

  /** Runs the statements in order on the connection. */
  public static void execute(Connection connection, String... statements) throws SQLException {
    try (Statement statement = connection.createStatement()) {
      for (String sql : statements) {
        statement.execute(sql);
      }
    }
  }
}
