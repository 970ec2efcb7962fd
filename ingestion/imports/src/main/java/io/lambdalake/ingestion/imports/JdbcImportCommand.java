package io.lambdalake.ingestion.imports;

import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code lake import-jdbc}: Sqoop's import, with Sqoop's option names, into a Delta table. */
@Command(
    name = "import-jdbc",
    mixinStandardHelpOptions = true,
    description = {
      "Import a table or query from a JDBC database (MariaDB/MySQL; PostgreSQL with its driver on"
          + " the class path) into a Delta table, in parallel ranges of --split-by, like Sqoop.",
      "Incremental imports continue from state.import_progress. An import into"
          + " mirror.<db>__<table> records the binlog position it started from, for CDC."
    })
public final class JdbcImportCommand implements Callable<Integer> {
  @Option(names = "--connect", required = true, description = "JDBC URL of the source database.")
  String connect;

  @Option(names = "--username", description = "Database user.")
  String username;

  @Option(
      names = "--password-file",
      description = "File holding the password (chmod 600); a password is never given inline.")
  Path passwordFile;

  // Present only to refuse it with a clear reason: a password in argv is visible to every user.
  @Option(names = "--password", hidden = true, arity = "0..1")
  String password;

  @Option(names = "--table", description = "Table to import.")
  String table;

  @Option(
      names = "--query",
      description = "Free-form query with $CONDITIONS where each parallel read puts its range.")
  String query;

  @Option(names = "--columns", split = ",", description = "Columns of --table to import.")
  List<String> columns = List.of();

  @Option(names = "--where", description = "Condition on --table's rows.")
  String where;

  @Option(names = "--split-by", description = "Column whose range is split between the reads.")
  String splitBy;

  @Option(
      names = {"--num-mappers", "-m"},
      defaultValue = "4",
      description = "Parallel reads (default: ${DEFAULT-VALUE}).")
  int numMappers;

  @Option(
      names = "--fetch-size",
      defaultValue = "10000",
      description = "Rows fetched per round trip (default: ${DEFAULT-VALUE}).")
  int fetchSize;

  @Option(
      names = "--incremental",
      description = "append or lastmodified.",
      converter = IncrementalConverter.class)
  JdbcImportJob.Incremental incremental;

  @Option(names = "--check-column", description = "Column --incremental compares.")
  String checkColumn;

  @Option(
      names = "--last-value",
      description = "Start after this value on the first run; later runs continue from state.")
  String lastValue;

  @Option(
      names = "--target",
      required = true,
      description = "Delta table: zone.table, e.g. raw.mysql_snapshots or mirror.shop__customers.")
  String target;

  /** The options; the password is read from its file here, never taken from the command line. */
  public JdbcImportJob.Options options() {
    if (password != null) {
      throw new LakeException(
          ErrorCode.INVALID_ARGUMENT,
          "--password is not accepted: a password on the command line is visible to every user of"
              + " this machine (ps, shell history); write it to a file only you can read and pass"
              + " --password-file");
    }
    return new JdbcImportJob.Options(
        connect,
        Optional.ofNullable(username),
        Optional.ofNullable(passwordFile).map(PasswordFile::read),
        Optional.ofNullable(table),
        Optional.ofNullable(query),
        columns,
        Optional.ofNullable(where),
        Optional.ofNullable(splitBy),
        numMappers,
        fetchSize,
        Optional.ofNullable(incremental),
        Optional.ofNullable(checkColumn),
        Optional.ofNullable(lastValue),
        ImportTarget.parse(target));
  }

  @Override
  public Integer call() {
    JdbcImportJob.Options options = options();
    JdbcImportJob.Result result =
        JdbcImportJob.runWithOwnSession(options, line -> System.err.println(line));
    System.out.println(
        "import-jdbc: target="
            + options.target()
            + " rows="
            + result.rows()
            + result.lastValue().map(value -> " last_value=" + value).orElse("")
            + result.position().map(position -> " binlog_position=" + position).orElse("")
            + " snapshot_id="
            + result.snapshotId());
    return 0;
  }

  /** Runs the command alone (spark-submit, tests): one line on stderr and exit 2/3 on failure. */
  public static int execute(String... arguments) {
    CommandLine commandLine =
        new CommandLine(new JdbcImportCommand()).setCaseInsensitiveEnumValuesAllowed(true);
    commandLine.setExecutionExceptionHandler(
        (exception, command, parseResult) -> {
          command.getErr().println("lake import-jdbc: " + exception.getMessage());
          return exception instanceof LakeException lake
              ? (lake.errorCode().type() == io.lambdalake.common.error.ErrorType.USER_ERROR ? 2 : 3)
              : 1;
        });
    return commandLine.execute(arguments);
  }

  static final class IncrementalConverter
      implements CommandLine.ITypeConverter<JdbcImportJob.Incremental> {
    @Override
    public JdbcImportJob.Incremental convert(String value) {
      try {
        return JdbcImportJob.Incremental.valueOf(value.toUpperCase(java.util.Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException(
            "'" + value + "' is not an incremental mode: use append or lastmodified");
      }
    }
  }
}
