package io.lambdalake.ingestion.imports.internal;

import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The files of an import (local paths, s3a:// or hdfs:// URIs, folders, globs), read one file per
 * Spark task so that every record keeps its file and line number.
 */
public final class InputFiles {
  /** The records of the files: file, line (1-based, where the record starts) and text. */
  public static final StructType RECORDS =
      new StructType()
          .add("file", DataTypes.StringType, false)
          .add("line", DataTypes.LongType, false)
          .add("text", DataTypes.StringType, false);

  private InputFiles() {}

  /** How a file's text is cut into records. */
  public enum Records {
    /** One record per line ('\n'; a '\r' before it is dropped). */
    LINES,
    /** A JSON array's elements when the file starts with '[', else one record per line. */
    JSON_LINES_OR_ARRAY
  }

  /**
   * The files, sorted, with folders expanded and Hadoop's marker files (_SUCCESS, .crc) left out.
   */
  public static List<FileStatus> list(SparkSession spark, List<String> paths) {
    Configuration conf = spark.sessionState().newHadoopConf();
    List<FileStatus> files = new ArrayList<>();
    for (String pathName : paths) {
      // s3:// as people write it is s3a:// for Hadoop.
      Path path = new Path(pathName.replaceFirst("^s3://", "s3a://"));
      try {
        FileSystem fileSystem = path.getFileSystem(conf);
        FileStatus[] matches = fileSystem.globStatus(path);
        if (matches == null || matches.length == 0) {
          throw new LakeException(ErrorCode.INVALID_ARGUMENT, "No file at " + pathName);
        }
        for (FileStatus match : matches) {
          if (match.isDirectory()) {
            for (FileStatus child : fileSystem.listStatus(match.getPath())) {
              if (child.isFile() && visible(child.getPath())) {
                files.add(child);
              }
            }
          } else {
            files.add(match);
          }
        }
      } catch (IOException e) {
        throw new LakeException(
            ErrorCode.SERVER_NOT_AVAILABLE, "Cannot list " + pathName + ": " + e.getMessage(), e);
      }
    }
    files.sort((left, right) -> left.getPath().toString().compareTo(right.getPath().toString()));
    if (files.isEmpty()) {
      throw new LakeException(ErrorCode.INVALID_ARGUMENT, "No files to import in " + paths);
    }
    return files;
  }

  /** Names the set of files by path, size and modification time: same files, same name. */
  public static String fingerprint(List<FileStatus> files) {
    try {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      for (FileStatus file : files) {
        digest.update(
            (file.getPath() + "|" + file.getLen() + "|" + file.getModificationTime() + "\n")
                .getBytes(StandardCharsets.UTF_8));
      }
      return HexFormat.of().formatHex(digest.digest(), 0, 12);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The files' records, one Spark partition per file. */
  public static Dataset<Row> records(SparkSession spark, List<FileStatus> files, Records records) {
    List<String> names = files.stream().map(file -> file.getPath().toString()).toList();
    HadoopSettings settings = HadoopSettings.of(spark);
    return spark
        .createDataset(names, Encoders.STRING())
        .repartition(names.size())
        .flatMap(new ReadRecords(settings, records), Encoders.row(RECORDS));
  }

  /** The Hadoop settings of the session, to open files inside tasks (S3A keys, endpoint). */
  public record HadoopSettings(HashMap<String, String> values) implements Serializable {
    static HadoopSettings of(SparkSession spark) {
      HashMap<String, String> values = new HashMap<>();
      for (Map.Entry<String, String> entry : spark.sessionState().newHadoopConf()) {
        values.put(entry.getKey(), entry.getValue());
      }
      return new HadoopSettings(values);
    }

    public Configuration configuration() {
      Configuration configuration = new Configuration(false);
      values.forEach(configuration::set);
      return configuration;
    }
  }

  private record ReadRecords(HadoopSettings settings, Records records)
      implements FlatMapFunction<String, Row> {
    @Override
    public Iterator<Row> call(String file) throws IOException {
      Path path = new Path(file);
      FileSystem fileSystem = path.getFileSystem(settings.configuration());
      BufferedReader reader =
          new BufferedReader(
              new InputStreamReader(fileSystem.open(path), StandardCharsets.UTF_8), 1 << 16);
      if (records == Records.JSON_LINES_OR_ARRAY && startsWithBracket(reader)) {
        // An array is one document of the file: read whole, then cut into its elements.
        List<Row> rows = new ArrayList<>();
        try (reader) {
          StringBuilder text = new StringBuilder();
          char[] buffer = new char[1 << 16];
          for (int read = reader.read(buffer); read >= 0; read = reader.read(buffer)) {
            text.append(buffer, 0, read);
          }
          for (JsonArraySplitter.Element element : JsonArraySplitter.split(text.toString())) {
            rows.add(RowFactory.create(file, element.line(), element.text()));
          }
        }
        return rows.iterator();
      }
      return new LineIterator(file, reader);
    }

    private static boolean startsWithBracket(BufferedReader reader) throws IOException {
      reader.mark(1 << 16);
      int character;
      do {
        character = reader.read();
      } while (character >= 0 && Character.isWhitespace(character));
      reader.reset();
      return character == '[';
    }

    private static String withoutCarriageReturn(StringBuilder text) {
      int length = text.length();
      return length > 0 && text.charAt(length - 1) == '\r'
          ? text.substring(0, length - 1)
          : text.toString();
    }
  }

  /** The lines of one file, read as the task consumes them; closes the file at the end. */
  private static final class LineIterator implements Iterator<Row> {
    private final String file;
    private final BufferedReader reader;
    private final StringBuilder current = new StringBuilder();
    private long line;
    private Row next;
    private boolean done;

    LineIterator(String file, BufferedReader reader) {
      this.file = file;
      this.reader = reader;
    }

    @Override
    public boolean hasNext() {
      if (next == null && !done) {
        next = readLine();
      }
      return next != null;
    }

    @Override
    public Row next() {
      if (!hasNext()) {
        throw new NoSuchElementException();
      }
      Row row = next;
      next = null;
      return row;
    }

    private Row readLine() {
      try {
        current.setLength(0);
        int character;
        while ((character = reader.read()) >= 0) {
          if (character == '\n') {
            line++;
            return RowFactory.create(file, line, ReadRecords.withoutCarriageReturn(current));
          }
          current.append((char) character);
        }
        done = true;
        reader.close();
        if (!current.isEmpty()) {
          line++;
          return RowFactory.create(file, line, ReadRecords.withoutCarriageReturn(current));
        }
        return null;
      } catch (IOException e) {
        throw new UncheckedIOException("Cannot read " + file + " at line " + (line + 1), e);
      }
    }
  }

  private static boolean visible(Path path) {
    String name = path.getName();
    return !name.startsWith("_") && !name.startsWith(".") && !name.endsWith(".crc");
  }
}
