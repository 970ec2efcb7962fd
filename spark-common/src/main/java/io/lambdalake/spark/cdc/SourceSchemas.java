package io.lambdalake.spark.cdc;

import static java.util.Objects.requireNonNull;

import io.lambdalake.common.cdc.ChangeEnvelope.SourceName;
import io.lambdalake.common.config.MariaDbConfig;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.common.jdbc.JdbcDrivers;
import java.io.Serializable;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Column types and primary keys of the source tables, from the source's information_schema:
 * Maxwell's JSON says neither (a DECIMAL and a DOUBLE look alike, a BLOB is a Base64 string).
 * Cached per table; {@link #refresh} reads a table again after its columns changed.
 */
public final class SourceSchemas {
  private final MariaDbConfig source;
  private final Map<SourceName, Optional<TableSchema>> cache = new ConcurrentHashMap<>();

  public SourceSchemas(MariaDbConfig source) {
    this.source = requireNonNull(source, "source is null");
  }

  /** One column as information_schema.COLUMNS describes it. */
  public record SourceColumn(
      String name,
      String dataType,
      String columnType,
      long precision,
      long scale,
      Optional<String> defaultValue)
      implements Serializable {
    public SourceColumn {
      requireNonNull(name, "name is null");
      dataType = requireNonNull(dataType, "dataType is null").toLowerCase(Locale.ROOT);
      columnType = requireNonNull(columnType, "columnType is null").toLowerCase(Locale.ROOT);
      requireNonNull(defaultValue, "defaultValue is null");
    }

    public boolean unsigned() {
      return columnType.contains("unsigned");
    }
  }

  /** A source table's columns in order and its primary key (empty when it has none). */
  public record TableSchema(SourceName name, List<SourceColumn> columns, List<String> primaryKey)
      implements Serializable {
    public TableSchema {
      requireNonNull(name, "name is null");
      columns = List.copyOf(columns);
      primaryKey = List.copyOf(primaryKey);
    }

    public Optional<SourceColumn> column(String columnName) {
      return columns.stream().filter(c -> c.name().equalsIgnoreCase(columnName)).findFirst();
    }
  }

  /** The table's schema now, when the source still has the table. */
  public Optional<TableSchema> get(SourceName table) {
    return cache.computeIfAbsent(table, this::read);
  }

  /** Reads the table's schema again (its columns changed since it was cached). */
  public Optional<TableSchema> refresh(SourceName table) {
    cache.remove(table);
    return get(table);
  }

  private Optional<TableSchema> read(SourceName table) {
    try (Connection connection =
        JdbcDrivers.connect(source.jdbcUrl(""), source.user(), source.password())) {
      List<SourceColumn> columns = new ArrayList<>();
      try (PreparedStatement query =
          connection.prepareStatement(
              "SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, NUMERIC_PRECISION, NUMERIC_SCALE,"
                  + " COLUMN_DEFAULT FROM information_schema.COLUMNS"
                  + " WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION")) {
        query.setString(1, table.database());
        query.setString(2, table.table());
        try (ResultSet rows = query.executeQuery()) {
          while (rows.next()) {
            columns.add(
                new SourceColumn(
                    rows.getString(1),
                    rows.getString(2),
                    rows.getString(3),
                    rows.getLong(4),
                    rows.getLong(5),
                    Optional.ofNullable(rows.getString(6))));
          }
        }
      }
      if (columns.isEmpty()) {
        return Optional.empty();
      }
      List<String> primaryKey = new ArrayList<>();
      try (PreparedStatement query =
          connection.prepareStatement(
              "SELECT COLUMN_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ?"
                  + " AND TABLE_NAME = ? AND INDEX_NAME = 'PRIMARY' ORDER BY SEQ_IN_INDEX")) {
        query.setString(1, table.database());
        query.setString(2, table.table());
        try (ResultSet rows = query.executeQuery()) {
          while (rows.next()) {
            primaryKey.add(rows.getString(1));
          }
        }
      }
      return Optional.of(new TableSchema(table, columns, primaryKey));
    } catch (SQLException e) {
      throw new LakeException(
          ErrorCode.SERVER_NOT_AVAILABLE,
          "Cannot read the columns of "
              + table.qualifiedName()
              + " from the source at "
              + source.host()
              + ":"
              + source.port()
              + ": "
              + e.getMessage(),
          e);
    }
  }
}
