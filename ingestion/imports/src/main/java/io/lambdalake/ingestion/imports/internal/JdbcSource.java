package io.lambdalake.ingestion.imports.internal;

import static java.util.Objects.requireNonNull;

import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.common.jdbc.JdbcDrivers;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.JDBCType;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;

/**
 * The source database of a JDBC import, asked directly (not through Spark) for what plans the
 * import: bounds, the binlog position, primary keys, column types. Every SQL failure becomes a
 * {@link LakeException} that names the statement.
 */
public final class JdbcSource {
  private final String url;
  private final Properties properties;

  public JdbcSource(String url, Properties properties) {
    this.url = requireNonNull(url, "url is null");
    this.properties = (Properties) requireNonNull(properties, "properties is null").clone();
  }

  /** A binlog position of a MariaDB/MySQL server. */
  public record BinlogPosition(String file, long position) {
    public BinlogPosition {
      requireNonNull(file, "file is null");
      if (position < 0) {
        throw new IllegalArgumentException("position is negative: " + position);
      }
    }

    @Override
    public String toString() {
      return file + ":" + position;
    }
  }

  /** {@code SHOW MASTER STATUS}: where the binlog is now. */
  public BinlogPosition binlogPosition() {
    return withConnection(
        "SHOW MASTER STATUS",
        connection -> {
          try (Statement statement = connection.createStatement();
              ResultSet result = statement.executeQuery("SHOW MASTER STATUS")) {
            if (!result.next()) {
              throw new LakeException(
                  ErrorCode.INVALID_CONFIGURATION,
                  "The source database at "
                      + url
                      + " has no binary log (SHOW MASTER STATUS is empty): a mirror import needs"
                      + " log_bin and binlog_format=ROW so that CDC can continue after it");
            }
            return new BinlogPosition(result.getString(1), result.getLong(2));
          }
        });
  }

  /** The single-column primary key of a table, Sqoop's default split-by column. */
  public Optional<String> singleColumnPrimaryKey(String table) {
    return withConnection(
        "primary key of " + table,
        connection -> {
          DatabaseMetaData metaData = connection.getMetaData();
          String catalog = connection.getCatalog();
          String name = table;
          int dot = table.lastIndexOf('.');
          if (dot > 0) {
            catalog = table.substring(0, dot);
            name = table.substring(dot + 1);
          }
          List<String> columns = new ArrayList<>();
          try (ResultSet keys = metaData.getPrimaryKeys(catalog, null, name)) {
            while (keys.next()) {
              columns.add(keys.getString("COLUMN_NAME"));
            }
          }
          return columns.size() == 1 ? Optional.of(columns.get(0)) : Optional.empty();
        });
  }

  /** The JDBC type of each column of a query's result, without reading a row. */
  public int columnType(String fromClause, String column) {
    String sql = "SELECT " + column + " FROM " + fromClause + " WHERE 1 = 0";
    return withConnection(
        sql,
        connection -> {
          try (Statement statement = connection.createStatement();
              ResultSet result = statement.executeQuery(sql)) {
            ResultSetMetaData metaData = result.getMetaData();
            return metaData.getColumnType(1);
          }
        });
  }

  /** MIN and MAX of a column as the split planner wants them. */
  public SplitPlanner.Bounds bounds(String fromClause, String column, String condition) {
    int type = columnType(fromClause, column);
    SplitPlanner.Kind kind = splitKind(type, column);
    String sql =
        "SELECT MIN("
            + column
            + "), MAX("
            + column
            + ") FROM "
            + fromClause
            + " WHERE "
            + condition;
    return withConnection(
        sql,
        connection -> {
          try (Statement statement = connection.createStatement();
              ResultSet result = statement.executeQuery(sql)) {
            result.next();
            Optional<Object> min = Optional.ofNullable(read(result, 1, kind));
            Optional<Object> max = Optional.ofNullable(read(result, 2, kind));
            return new SplitPlanner.Bounds(kind, min, max);
          }
        });
  }

  /** One value as the database writes it as text, e.g. the current MAX of a check column. */
  public Optional<String> scalarText(String sql) {
    return withConnection(
        sql,
        connection -> {
          try (Statement statement = connection.createStatement();
              ResultSet result = statement.executeQuery(sql)) {
            return result.next() ? Optional.ofNullable(result.getString(1)) : Optional.empty();
          }
        });
  }

  /** Whether values of this JDBC type are written as quoted literals in SQL. */
  public static boolean needsQuotes(int type) {
    return switch (type) {
      case Types.TINYINT,
          Types.SMALLINT,
          Types.INTEGER,
          Types.BIGINT,
          Types.DECIMAL,
          Types.NUMERIC,
          Types.FLOAT,
          Types.REAL,
          Types.DOUBLE,
          Types.BIT,
          Types.BOOLEAN ->
          false;
      default -> true;
    };
  }

  private static SplitPlanner.Kind splitKind(int type, String column) {
    return switch (type) {
      case Types.TINYINT, Types.SMALLINT, Types.INTEGER, Types.BIGINT -> SplitPlanner.Kind.INTEGER;
      case Types.DECIMAL, Types.NUMERIC, Types.FLOAT, Types.REAL, Types.DOUBLE ->
          SplitPlanner.Kind.DECIMAL;
      case Types.DATE -> SplitPlanner.Kind.DATE;
      case Types.TIMESTAMP -> SplitPlanner.Kind.TIMESTAMP;
      default ->
          throw new LakeException(
              ErrorCode.INVALID_ARGUMENT,
              "--split-by "
                  + column
                  + " has JDBC type "
                  + jdbcTypeName(type)
                  + ", which cannot be split into ranges: choose an integer, decimal, date or"
                  + " timestamp column (or use --num-mappers 1)");
    };
  }

  private static Object read(ResultSet result, int column, SplitPlanner.Kind kind)
      throws SQLException {
    return switch (kind) {
      case INTEGER, DECIMAL -> result.getBigDecimal(column);
      case DATE -> result.getObject(column, LocalDate.class);
      case TIMESTAMP -> result.getObject(column, LocalDateTime.class);
    };
  }

  private static String jdbcTypeName(int type) {
    try {
      return JDBCType.valueOf(type).getName();
    } catch (IllegalArgumentException e) {
      return Integer.toString(type);
    }
  }

  /** Work on one connection. */
  public interface ConnectionWork<T> {
    T apply(Connection connection) throws SQLException;
  }

  public <T> T withConnection(String what, ConnectionWork<T> work) {
    try (Connection connection = JdbcDrivers.connect(url, properties)) {
      return work.apply(connection);
    } catch (SQLException e) {
      throw new LakeException(
          ErrorCode.SERVER_NOT_AVAILABLE,
          "The source database at " + url + " failed on " + what + ": " + e.getMessage(),
          e);
    }
  }
}
