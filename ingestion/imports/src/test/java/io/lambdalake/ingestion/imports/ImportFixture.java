package io.lambdalake.ingestion.imports;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.config.LakeConfigLoader;
import io.lambdalake.stack.testing.SharedStack;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * One test's own lake root and MariaDB database, so that tests never see each other's data (nor
 * another helper's on the same servers).
 */
record ImportFixture(
    String name, LakeConfig config, Map<String, String> overrides, String database) {

  static ImportFixture create() {
    String name = "imp" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    Map<String, String> overrides = SharedStack.ownLake(name);
    LakeConfig config = LakeConfigLoader.load(System.getenv(), overrides);
    ImportFixture fixture = new ImportFixture(name, config, overrides, name);
    fixture.executeAsAdmin("CREATE DATABASE " + name);
    return fixture;
  }

  String url() {
    return config.mariaDb().jdbcUrl(database);
  }

  Connection connect() throws SQLException {
    return DriverManager.getConnection(url(), config.mariaDb().user(), config.mariaDb().password());
  }

  void execute(String... statements) {
    try (Connection connection = connect();
        Statement statement = connection.createStatement()) {
      for (String sql : statements) {
        statement.execute(sql);
      }
    } catch (SQLException e) {
      throw new IllegalStateException("MariaDB failed: " + e.getMessage(), e);
    }
  }

  private void executeAsAdmin(String sql) {
    try (Connection connection =
            DriverManager.getConnection(
                config.mariaDb().jdbcUrl(""),
                config.mariaDb().user(),
                config.mariaDb().password());
        Statement statement = connection.createStatement()) {
      statement.execute(sql);
    } catch (SQLException e) {
      throw new IllegalStateException("MariaDB failed: " + e.getMessage(), e);
    }
  }

  /** Rows of a query, each value as JDBC's getObject gives it. */
  List<List<Object>> query(String sql) {
    try (Connection connection = connect();
        Statement statement = connection.createStatement();
        ResultSet result = statement.executeQuery(sql)) {
      int columns = result.getMetaData().getColumnCount();
      List<List<Object>> rows = new ArrayList<>();
      while (result.next()) {
        List<Object> row = new ArrayList<>();
        for (int column = 1; column <= columns; column++) {
          row.add(result.getObject(column));
        }
        rows.add(row);
      }
      return rows;
    } catch (SQLException e) {
      throw new IllegalStateException("MariaDB failed: " + e.getMessage(), e);
    }
  }

  /** A password file as Sqoop users write them: one line, readable by the owner only. */
  Path passwordFile() throws IOException {
    Path file = Files.createTempFile(name, ".password");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    Files.writeString(file, config.mariaDb().password() + "\n");
    file.toFile().deleteOnExit();
    return file;
  }
}
