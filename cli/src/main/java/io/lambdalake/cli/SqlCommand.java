package io.lambdalake.cli;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.common.launch.Endpoint;
import io.lambdalake.common.launch.Job;
import io.lambdalake.common.launch.JobContext;
import io.lambdalake.common.launch.Server;
import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code lake sql "SELECT ..."}: runs one statement through Trino and prints a table. */
@Command(
    name = "sql",
    description = "Run one SQL statement through Trino (the lake's catalog) and print the result.")
final class SqlCommand implements Job {
  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "SQL", description = "The statement.")
  String sql;

  /** How a result is printed. */
  enum Format {
    /** Aligned columns under a header, and the row count. */
    TABLE,
    /** Values only, tab-separated, one line per row: for scripts. */
    TSV
  }

  @Option(
      names = "--format",
      defaultValue = "TABLE",
      description =
          "TABLE (aligned, with a header) or TSV (values only, for scripts); default: ${DEFAULT-VALUE}.")
  Format format;

  @Override
  public List<Endpoint> servers(LakeConfig config) {
    return Server.endpoints(config, Server.TRINO);
  }

  @Override
  public void run(JobContext context) {
    LakeConfig config = context.config();
    Properties properties = new Properties();
    properties.setProperty("user", config.trino().user());
    String url =
        config.trino().url()
            + (config.trino().url().contains("?") ? "&" : "?")
            + "catalog="
            + config.trino().catalog();
    try (Connection connection = DriverManager.getConnection(url, properties);
        Statement statement = connection.createStatement()) {
      if (statement.execute(sql)) {
        try (ResultSet result = statement.getResultSet()) {
          switch (format) {
            case TABLE -> print(result, spec.commandLine().getOut());
            case TSV -> printValues(result, spec.commandLine().getOut());
          }
        }
      } else {
        spec.commandLine().getOut().println("OK, " + statement.getUpdateCount() + " rows");
      }
    } catch (SQLException e) {
      throw new LakeException(
          ErrorCode.SERVER_NOT_AVAILABLE,
          "Trino at " + config.trino().url() + " failed the statement: " + e.getMessage(),
          e);
    }
  }

  static void print(ResultSet result, PrintWriter out) throws SQLException {
    ResultSetMetaData metaData = result.getMetaData();
    int columns = metaData.getColumnCount();
    List<String[]> rows = new ArrayList<>();
    String[] header = new String[columns];
    int[] widths = new int[columns];
    for (int column = 0; column < columns; column++) {
      header[column] = metaData.getColumnLabel(column + 1);
      widths[column] = header[column].length();
    }
    while (result.next()) {
      String[] row = new String[columns];
      for (int column = 0; column < columns; column++) {
        Object value = result.getObject(column + 1);
        row[column] = value == null ? "NULL" : value.toString();
        widths[column] = Math.max(widths[column], row[column].length());
      }
      rows.add(row);
    }
    printRow(header, widths, out);
    StringBuilder rule = new StringBuilder();
    for (int width : widths) {
      rule.append("-".repeat(width)).append("-+-");
    }
    out.println(rule.substring(0, Math.max(0, rule.length() - 3)));
    for (String[] row : rows) {
      printRow(row, widths, out);
    }
    out.println("(" + rows.size() + (rows.size() == 1 ? " row)" : " rows)"));
    out.flush();
  }

  static void printValues(ResultSet result, PrintWriter out) throws SQLException {
    int columns = result.getMetaData().getColumnCount();
    while (result.next()) {
      StringBuilder line = new StringBuilder();
      for (int column = 1; column <= columns; column++) {
        if (column > 1) {
          line.append('\t');
        }
        Object value = result.getObject(column);
        line.append(value == null ? "NULL" : value.toString());
      }
      out.println(line);
    }
    out.flush();
  }

  private static void printRow(String[] cells, int[] widths, PrintWriter out) {
    StringBuilder line = new StringBuilder();
    for (int column = 0; column < cells.length; column++) {
      if (column > 0) {
        line.append(" | ");
      }
      line.append(String.format("%-" + widths[column] + "s", cells[column]));
    }
    out.println(line.toString().stripTrailing());
  }
}
