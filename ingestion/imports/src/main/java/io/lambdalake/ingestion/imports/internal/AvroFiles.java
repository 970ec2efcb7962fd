package io.lambdalake.ingestion.imports.internal;

import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.sql.Date;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.LocalDate;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.avro.LogicalType;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import org.apache.avro.file.DataFileStream;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.DecimalType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Avro data files as Sqoop writes them ({@code --as-avrodatafile}): a record schema of nullable
 * unions, read with Avro's own reader one file per task. The columns come from the first file's
 * schema; a record of a later file that does not fit them is rejected with its record number.
 */
public final class AvroFiles {
  private AvroFiles() {}

  /** The records with the import's bookkeeping columns (see FilesImportJob). */
  public static Dataset<Row> read(SparkSession spark, List<FileStatus> files) {
    InputFiles.HadoopSettings settings = InputFiles.HadoopSettings.of(spark);
    Schema avroSchema = schemaOf(settings, files.get(0).getPath().toString());
    StructType columns = sparkSchema(avroSchema);
    StructType schema =
        columns
            .add("_source_file", DataTypes.StringType, false)
            .add("_source_line", DataTypes.LongType, false)
            .add("file", DataTypes.StringType, false)
            .add("line", DataTypes.LongType, false)
            .add("text", DataTypes.StringType, true)
            .add("reason", DataTypes.StringType, true)
            .add("field", DataTypes.StringType, true)
            .add("message", DataTypes.StringType, true);
    List<String> names = files.stream().map(file -> file.getPath().toString()).toList();
    return spark
        .createDataset(names, Encoders.STRING())
        .repartition(names.size())
        .flatMap(new ReadFile(settings, columns), Encoders.row(schema));
  }

  private static Schema schemaOf(InputFiles.HadoopSettings settings, String file) {
    try (InputStream input = open(settings, file);
        DataFileStream<GenericRecord> stream =
            new DataFileStream<>(input, new GenericDatumReader<>())) {
      Schema schema = stream.getSchema();
      if (schema.getType() != Schema.Type.RECORD) {
        throw new LakeException(
            ErrorCode.INVALID_ARGUMENT,
            file + " holds Avro " + schema.getType() + " values, not records as Sqoop writes them");
      }
      return schema;
    } catch (IOException e) {
      throw new LakeException(
          ErrorCode.INVALID_ARGUMENT, file + " is not an Avro data file: " + e.getMessage(), e);
    }
  }

  /** Avro types as Spark columns: logical types kept (decimal, date, timestamps). */
  static StructType sparkSchema(Schema record) {
    StructType columns = new StructType();
    for (Schema.Field field : record.getFields()) {
      Schema type = nonNull(field.schema());
      columns = columns.add(field.name(), sparkType(type), true);
    }
    return columns;
  }

  private static DataType sparkType(Schema schema) {
    LogicalType logical = schema.getLogicalType();
    if (logical instanceof LogicalTypes.Decimal decimal) {
      return DataTypes.createDecimalType(decimal.getPrecision(), decimal.getScale());
    }
    if (logical instanceof LogicalTypes.Date) {
      return DataTypes.DateType;
    }
    if (logical instanceof LogicalTypes.TimestampMillis
        || logical instanceof LogicalTypes.TimestampMicros) {
      return DataTypes.TimestampType;
    }
    return switch (schema.getType()) {
      case BOOLEAN -> DataTypes.BooleanType;
      case INT -> DataTypes.IntegerType;
      case LONG -> DataTypes.LongType;
      case FLOAT -> DataTypes.FloatType;
      case DOUBLE -> DataTypes.DoubleType;
      case BYTES, FIXED -> DataTypes.BinaryType;
      default -> DataTypes.StringType;
    };
  }

  private static Schema nonNull(Schema schema) {
    if (schema.getType() != Schema.Type.UNION) {
      return schema;
    }
    List<Schema> types =
        schema.getTypes().stream().filter(type -> type.getType() != Schema.Type.NULL).toList();
    return types.size() == 1 ? types.get(0) : Schema.create(Schema.Type.STRING);
  }

  private static InputStream open(InputFiles.HadoopSettings settings, String file)
      throws IOException {
    Path path = new Path(file);
    return path.getFileSystem(settings.configuration()).open(path);
  }

  private record ReadFile(InputFiles.HadoopSettings settings, StructType columns)
      implements FlatMapFunction<String, Row> {
    @Override
    public Iterator<Row> call(String file) throws IOException {
      List<Row> rows = new ArrayList<>();
      long number = 0;
      try (InputStream input = open(settings, file);
          DataFileStream<GenericRecord> stream =
              new DataFileStream<>(input, new GenericDatumReader<>())) {
        while (stream.hasNext()) {
          GenericRecord record = stream.next();
          number++;
          rows.add(convert(file, number, record));
        }
      } catch (IOException | RuntimeException e) {
        // A damaged file: what was read stays, the rest is one quarantine row with the reason.
        rows.add(rejected(file, number + 1, null, "unreadable_file", null, e.toString()));
      }
      return rows.iterator();
    }

    private Row convert(String file, long number, GenericRecord record) {
      Object[] values = new Object[columns.fields().length + 8];
      for (int index = 0; index < columns.fields().length; index++) {
        StructField column = columns.fields()[index];
        Schema.Field field = record.getSchema().getField(column.name());
        if (field == null) {
          continue;
        }
        Object value = record.get(field.pos());
        try {
          values[index] = value == null ? null : toSpark(value, nonNull(field.schema()), column);
        } catch (RuntimeException e) {
          return rejected(
              file,
              number,
              record.toString(),
              "invalid_value",
              column.name(),
              "field " + column.name() + ": " + e.getMessage());
        }
      }
      int base = columns.fields().length;
      values[base] = file;
      values[base + 1] = number;
      values[base + 2] = file;
      values[base + 3] = number;
      return RowFactory.create(values);
    }

    private Row rejected(
        String file, long number, String text, String reason, String field, String message) {
      Object[] values = new Object[columns.fields().length + 8];
      int base = columns.fields().length;
      values[base] = file;
      values[base + 1] = number;
      values[base + 2] = file;
      values[base + 3] = number;
      values[base + 4] = text == null ? "" : text;
      values[base + 5] = reason;
      values[base + 6] = field;
      values[base + 7] = message;
      return RowFactory.create(values);
    }

    private static Object toSpark(Object value, Schema schema, StructField column) {
      DataType type = column.dataType();
      LogicalType logical = schema.getLogicalType();
      if (type instanceof DecimalType decimal) {
        if (!(logical instanceof LogicalTypes.Decimal avroDecimal)) {
          throw new IllegalArgumentException("not a decimal: " + value);
        }
        byte[] bytes =
            value instanceof ByteBuffer buffer
                ? bytes(buffer)
                : ((GenericData.Fixed) value).bytes();
        BigDecimal result = new BigDecimal(new BigInteger(bytes), avroDecimal.getScale());
        if (result.precision() > decimal.precision()) {
          throw new IllegalArgumentException(result + " exceeds " + decimal.sql());
        }
        return result;
      }
      if (type.equals(DataTypes.DateType)) {
        return Date.valueOf(LocalDate.ofEpochDay(((Number) value).longValue()));
      }
      if (type.equals(DataTypes.TimestampType)) {
        long amount = ((Number) value).longValue();
        Instant instant =
            logical instanceof LogicalTypes.TimestampMicros
                ? Instant.EPOCH.plus(amount, ChronoUnit.MICROS)
                : Instant.ofEpochMilli(amount);
        return Timestamp.from(instant);
      }
      if (type.equals(DataTypes.IntegerType)) {
        return ((Number) value).intValue();
      }
      if (type.equals(DataTypes.LongType)) {
        return ((Number) value).longValue();
      }
      if (type.equals(DataTypes.FloatType)) {
        return ((Number) value).floatValue();
      }
      if (type.equals(DataTypes.DoubleType)) {
        return ((Number) value).doubleValue();
      }
      if (type.equals(DataTypes.BooleanType)) {
        if (!(value instanceof Boolean)) {
          throw new IllegalArgumentException("not a boolean: " + value);
        }
        return value;
      }
      if (type.equals(DataTypes.BinaryType)) {
        return value instanceof ByteBuffer buffer
            ? bytes(buffer)
            : ((GenericData.Fixed) value).bytes();
      }
      return value.toString();
    }

    private static byte[] bytes(ByteBuffer buffer) {
      ByteBuffer copy = buffer.duplicate();
      byte[] bytes = new byte[copy.remaining()];
      copy.get(bytes);
      return bytes;
    }
  }
}
