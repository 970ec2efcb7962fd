package io.lambdalake.ingestion.imports;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.common.launch.Endpoint;
import io.lambdalake.common.launch.Endpoint.Address;
import io.lambdalake.common.launch.Job;
import io.lambdalake.common.launch.JobContext;
import io.lambdalake.common.launch.Server;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
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
public final class JdbcImportCommand implements Job {
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
  public void validate(LakeConfig config) {
    options();
  }

  /** The lake's S3 and the source database, when its JDBC URL names a host. */
  @Override
  public List<Endpoint> servers(LakeConfig config) {
    List<Endpoint> servers = new ArrayList<>(Server.endpoints(config, Server.S3));
    sourceAddress()
        .ifPresent(
            address ->
                servers.add(
                    new Endpoint(
                        "The source database",
                        List.of(address),
                        "check the host and port of --connect")));
    return servers;
  }

  private Optional<Address> sourceAddress() {
    String scheme = connect.toLowerCase(Locale.ROOT);
    int defaultPort =
        scheme.startsWith("jdbc:postgresql:")
            ? 5432
            : scheme.startsWith("jdbc:mariadb:") || scheme.startsWith("jdbc:mysql:") ? 3306 : 0;
    if (defaultPort == 0 || !connect.contains("//")) {
      return Optional.empty();
    }
    try {
      return Optional.of(Address.ofUrl(connect, defaultPort));
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  @Override
  public void run(JobContext context) {
    JdbcImportJob.Options options = options();
    JdbcImportJob.Result result =
        JdbcImportJob.runWithOwnSession(
            context.config(), options, line -> System.err.println(line));
    context.count("rows", result.rows());
    System.out.println(
        "import-jdbc: target="
            + options.target()
            + " rows="
            + result.rows()
            + result.lastValue().map(value -> " last_value=" + value).orElse("")
            + result.position().map(position -> " binlog_position=" + position).orElse("")
            + " snapshot_id="
            + result.snapshotId());
  }

  static final class IncrementalConverter
      implements CommandLine.ITypeConverter<JdbcImportJob.Incremental> {
    @Override
    public JdbcImportJob.Incremental convert(String value) {
      try {
        return JdbcImportJob.Incremental.valueOf(value.toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException(
            "'" + value + "' is not an incremental mode: use append or lastmodified");
      }
    }
  }
}
