package io.lambdalake.ingestion.imports.reconcile;

import static java.util.Objects.requireNonNull;

import io.lambdalake.spark.cdc.SourceSchemas.SourceColumn;
import java.util.List;
import java.util.Optional;
import org.apache.spark.sql.types.BinaryType;
import org.apache.spark.sql.types.BooleanType;
import org.apache.spark.sql.types.ByteType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DateType;
import org.apache.spark.sql.types.DecimalType;
import org.apache.spark.sql.types.IntegerType;
import org.apache.spark.sql.types.LongType;
import org.apache.spark.sql.types.ShortType;
import org.apache.spark.sql.types.StringType;
import org.apache.spark.sql.types.TimestampNTZType;
import org.apache.spark.sql.types.TimestampType;

/**
 * One text per value that MariaDB SQL and Spark SQL both write identically, so that a row's CRC32
 * agrees on the source and in its mirror. Each column gives a pair of expressions, one per engine:
 *
 * <ul>
 *   <li>integers (also BIGINT UNSIGNED as DECIMAL(20,0), YEAR) and DECIMAL(p,s): the decimal text,
 *       with the scale's digits ({@code 10.50});
 *   <li>BIT(1) or TINYINT kept as a boolean: {@code 1} or {@code 0};
 *   <li>strings, ENUM, SET: the text itself, as UTF-8;
 *   <li>DATE {@code yyyy-MM-dd}; DATETIME and TIMESTAMP {@code yyyy-MM-dd HH:mm:ss.ffffff} (six
 *       digits always; TIMESTAMP in UTC: the source connection's and the Spark session's zone);
 *   <li>binary: upper-case hex.
 * </ul>
 *
 * <p>A value becomes {@code <characters>:<text>} and NULL becomes {@code ~}, joined with {@code |}:
 * no two rows give the same line (a length prefix cannot be forged by a {@code |} inside a value,
 * and NULL differs from the empty string). FLOAT and DOUBLE (each engine prints a double its own
 * way), TIME (text in CDC mirrors, a timestamp in imported ones), spatial types and a mirror column
 * whose type does not match the source's have no common form: such a table is skipped with the
 * reason.
 */
public record CanonicalForm(String column, String mariaDb, String spark) {
  static final String NULL = "~";
  static final String SEPARATOR = "|";

  public CanonicalForm {
    requireNonNull(column, "column is null");
    requireNonNull(mariaDb, "mariaDb is null");
    requireNonNull(spark, "spark is null");
  }

  /** The common form of a source column kept with the given type in the mirror, or why none. */
  public static Either of(SourceColumn source, DataType mirrorType) {
    String name = source.name();
    String mariaDbColumn = "`" + name.replace("`", "``") + "`";
    String sparkColumn = "`" + name.replace("`", "``") + "`";
    String type = source.dataType();
    switch (type) {
      case "tinyint", "smallint", "mediumint", "int", "integer", "bigint", "year" -> {
        if (mirrorType instanceof BooleanType) {
          return form(name, flag(mariaDbColumn + " <> 0"), flag(sparkColumn));
        }
        if (isIntegral(mirrorType)) {
          return form(
              name, "CAST(" + mariaDbColumn + " AS CHAR)", "CAST(" + sparkColumn + " AS STRING)");
        }
      }
      case "bit" -> {
        if (mirrorType instanceof BooleanType) {
          return form(name, flag(mariaDbColumn + " <> 0"), flag(sparkColumn));
        }
        if (isIntegral(mirrorType)) {
          return form(
              name,
              "CAST(" + mariaDbColumn + " + 0 AS CHAR)",
              "CAST(" + sparkColumn + " AS STRING)");
        }
      }
      case "decimal", "numeric" -> {
        if (mirrorType instanceof DecimalType decimal && decimal.scale() == source.scale()) {
          return form(
              name, "CAST(" + mariaDbColumn + " AS CHAR)", "CAST(" + sparkColumn + " AS STRING)");
        }
        if (mirrorType instanceof StringType) {
          return form(name, "CAST(" + mariaDbColumn + " AS CHAR)", sparkColumn);
        }
      }
      case "char",
          "varchar",
          "tinytext",
          "text",
          "mediumtext",
          "longtext",
          "enum",
          "set",
          "json" -> {
        if (mirrorType instanceof StringType) {
          return form(name, mariaDbColumn, sparkColumn);
        }
      }
      case "date" -> {
        if (mirrorType instanceof DateType) {
          return form(
              name,
              "DATE_FORMAT(" + mariaDbColumn + ", '%Y-%m-%d')",
              "DATE_FORMAT(" + sparkColumn + ", 'yyyy-MM-dd')");
        }
      }
      case "datetime", "timestamp" -> {
        if (mirrorType instanceof TimestampType || mirrorType instanceof TimestampNTZType) {
          return form(
              name,
              "DATE_FORMAT(" + mariaDbColumn + ", '%Y-%m-%d %H:%i:%s.%f')",
              "DATE_FORMAT(" + sparkColumn + ", 'yyyy-MM-dd HH:mm:ss.SSSSSS')");
        }
      }
      case "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob" -> {
        if (mirrorType instanceof BinaryType) {
          return form(name, "HEX(" + mariaDbColumn + ")", "HEX(" + sparkColumn + ")");
        }
      }
      case "float", "double", "real" -> {
        return none(
            name
                + " is "
                + source.columnType()
                + ": MariaDB and Spark print a floating-point value differently, so no checksum"
                + " agrees on both sides");
      }
      case "time" -> {
        return none(
            name
                + " is time: CDC keeps it as text and an import as a timestamp, so its form depends"
                + " on who wrote the row");
      }
      default -> {
        return none(name + " is " + source.columnType() + ": a type reconcile cannot checksum");
      }
    }
    return none(
        name
            + " is "
            + source.columnType()
            + " in the source but "
            + mirrorType.sql()
            + " in the mirror: no common form to checksum");
  }

  /** A column's form, or why it has none. */
  public record Either(Optional<CanonicalForm> form, Optional<String> unsupported) {
    public Either {
      requireNonNull(form, "form is null");
      requireNonNull(unsupported, "unsupported is null");
      if (form.isPresent() == unsupported.isPresent()) {
        throw new IllegalArgumentException("exactly one of form and unsupported");
      }
    }
  }

  /** The expression of one value's text in the row line: {@code <length>:<text>} or {@code ~}. */
  String mariaDbField() {
    return "CONVERT(COALESCE(CONCAT(CHAR_LENGTH(CONVERT("
        + mariaDb
        + " USING utf8mb4)), ':', CONVERT("
        + mariaDb
        + " USING utf8mb4)), '"
        + NULL
        + "') USING utf8mb4)";
  }

  String sparkField() {
    return "COALESCE(CONCAT(CAST(CHAR_LENGTH("
        + spark
        + ") AS STRING), ':', "
        + spark
        + "), '"
        + NULL
        + "')";
  }

  /** MariaDB: the row's line of these columns. */
  static String mariaDbLine(List<CanonicalForm> forms) {
    return "CONCAT_WS('"
        + SEPARATOR
        + "', "
        + String.join(", ", forms.stream().map(CanonicalForm::mariaDbField).toList())
        + ")";
  }

  /** Spark: the row's line of these columns. */
  static String sparkLine(List<CanonicalForm> forms) {
    return "CONCAT_WS('"
        + SEPARATOR
        + "', "
        + String.join(", ", forms.stream().map(CanonicalForm::sparkField).toList())
        + ")";
  }

  /** MariaDB: the CRC32 of the row's line in UTF-8, a number from 0 to 2^32 - 1. */
  static String mariaDbChecksum(List<CanonicalForm> forms) {
    return "CRC32(" + mariaDbLine(forms) + ")";
  }

  /** Spark: the CRC32 of the row's line in UTF-8. */
  static String sparkChecksum(List<CanonicalForm> forms) {
    return "CRC32(CAST(" + sparkLine(forms) + " AS BINARY))";
  }

  /** {@code 1} when the condition holds, {@code 0} when not, NULL when the value is NULL. */
  private static String flag(String condition) {
    return "CASE WHEN (" + condition + ") THEN '1' WHEN NOT (" + condition + ") THEN '0' END";
  }

  private static boolean isIntegral(DataType type) {
    return type instanceof ByteType
        || type instanceof ShortType
        || type instanceof IntegerType
        || type instanceof LongType
        || (type instanceof DecimalType decimal && decimal.scale() == 0);
  }

  private static Either form(String column, String mariaDb, String spark) {
    return new Either(Optional.of(new CanonicalForm(column, mariaDb, spark)), Optional.empty());
  }

  private static Either none(String reason) {
    return new Either(Optional.empty(), Optional.of(reason));
  }
}
