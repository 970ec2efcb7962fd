package io.lambdalake.spark.cdc;

import io.lambdalake.spark.cdc.SourceSchemas.SourceColumn;
import java.util.Optional;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.DecimalType;

/**
 * How a MySQL/MariaDB column is kept in a mirror table, and how Maxwell writes its values. The
 * mapping keeps every value exact: DECIMAL(p,s) as DECIMAL(p,s), DATETIME with its fraction as
 * TIMESTAMP_NTZ, TIMESTAMP (UTC) as TIMESTAMP, TIME as its text, BLOB/BINARY as bytes, SET as its
 * comma-separated text (as SELECT shows it), BIGINT UNSIGNED as DECIMAL(20,0).
 */
public final class MirrorTypes {
  private MirrorTypes() {}

  /** The mirror column type of a source column. */
  public static DataType mirrorType(SourceColumn column) {
    return switch (column.dataType()) {
      case "tinyint", "smallint", "mediumint" -> DataTypes.IntegerType;
      case "int", "integer" -> column.unsigned() ? DataTypes.LongType : DataTypes.IntegerType;
      case "bigint" -> column.unsigned() ? DataTypes.createDecimalType(20, 0) : DataTypes.LongType;
      case "decimal", "numeric" ->
          column.precision() <= 38
              ? DataTypes.createDecimalType((int) column.precision(), (int) column.scale())
              : DataTypes.StringType;
      case "float" -> DataTypes.FloatType;
      case "double", "real" -> DataTypes.DoubleType;
      case "bit" -> column.precision() == 1 ? DataTypes.BooleanType : DataTypes.LongType;
      case "year" -> DataTypes.IntegerType;
      case "date" -> DataTypes.DateType;
      case "datetime" -> DataTypes.TimestampNTZType;
      case "timestamp" -> DataTypes.TimestampType;
      case "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob" ->
          DataTypes.BinaryType;
      default -> DataTypes.StringType;
    };
  }

  /**
   * Whether a mirror column of type {@code from} can take the type {@code to} keeping every value
   * it holds, by Delta's type widening: a wider integer, FLOAT to DOUBLE, an integer or DECIMAL to
   * a DECIMAL with at least as many digits before and after the point, DATE to TIMESTAMP_NTZ.
   */
  public static boolean widens(DataType from, DataType to) {
    if (from.equals(to)) {
      return false;
    }
    if (to instanceof DecimalType wider) {
      int integerDigits =
          from instanceof DecimalType decimal
              ? decimal.precision() - decimal.scale()
              : from.equals(DataTypes.IntegerType) ? 10 : from.equals(DataTypes.LongType) ? 20 : -1;
      int scale = from instanceof DecimalType decimal ? decimal.scale() : 0;
      return integerDigits >= 0
          && wider.precision() - wider.scale() >= integerDigits
          && wider.scale() >= scale;
    }
    return (from.equals(DataTypes.IntegerType) && to.equals(DataTypes.LongType))
        || (from.equals(DataTypes.FloatType) && to.equals(DataTypes.DoubleType))
        || (from.equals(DataTypes.DateType) && to.equals(DataTypes.TimestampNTZType));
  }

  /**
   * The type to read a value of Maxwell's JSON with, for a mirror column of the given type: mostly
   * the mirror's own; a SET comes as a JSON array and a BIT(1) as a number.
   */
  public static DataType wireType(DataType mirrorType, Optional<SourceColumn> source) {
    if (source.isPresent() && source.get().dataType().equals("set")) {
      return DataTypes.createArrayType(DataTypes.StringType);
    }
    if (mirrorType.equals(DataTypes.BooleanType)) {
      return DataTypes.LongType;
    }
    return mirrorType;
  }
}
