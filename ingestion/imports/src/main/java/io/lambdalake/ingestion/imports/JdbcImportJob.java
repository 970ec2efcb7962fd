package io.lambdalake.ingestion.imports;

import static java.util.Objects.requireNonNull;
import static org.apache.spark.sql.functions.current_timestamp;
import static org.apache.spark.sql.functions.lit;

import io.delta.tables.DeltaTable;
import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.common.jdbc.JdbcDrivers;
import io.lambdalake.common.launch.Launcher;
import io.lambdalake.ingestion.imports.internal.JdbcSource;
import io.lambdalake.ingestion.imports.internal.JdbcSource.BinlogPosition;
import io.lambdalake.ingestion.imports.internal.MariaDbDialect;
import io.lambdalake.ingestion.imports.internal.SplitPlanner;
import io.lambdalake.spark.CatalogNames;
import io.lambdalake.spark.DeltaTables;
import io.lambdalake.spark.LakeSpark;
import io.lambdalake.spark.cdc.CdcLease;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Properties;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.collection.Map;

/**
 * {@code lake import-jdbc}: Sqoop's import on Spark's JDBC reader. Reads a table or a free-form
 * query in parallel ranges of the split-by column and writes a Delta table; incremental imports
 * continue from {@code state.import_progress}; an import into a mirror records the binlog position
 * it started from in {@code state.snapshot_positions}, for CDC to continue from.
 */
public final class JdbcImportJob {
  private static final Logger LOG = LoggerFactory.getLogger(JdbcImportJob.class);

  /** Sqoop's placeholder for the split predicate in a free-form query. */
  public static final String CONDITIONS = "$CONDITIONS";

  /** Test hook: halt the JVM between the target commit and the state commit, as a crash would. */
  static final String HALT_AFTER_TARGET_COMMIT = "lake.testing.halt-after-target-commit";

  private static final Pattern URL_DATABASE =
      Pattern.compile("^jdbc:[a-z0-9]+://[^/?;]*/([^/?;]+).*$", Pattern.CASE_INSENSITIVE);

  private JdbcImportJob() {}

  /** Sqoop's incremental modes. */
  public enum Incremental {
    /** New rows: check column greater than the last value, up to the current MAX. */
    APPEND,
    /** Changed rows: check column at or after the last value and before the database's now. */
    LASTMODIFIED
  }

  /** The options, by their Sqoop names. */
  public record Options(
      String connect,
      Optional<String> username,
      Optional<String> password,
      Optional<String> table,
      Optional<String> query,
      List<String> columns,
      Optional<String> where,
      Optional<String> splitBy,
      int numMappers,
      int fetchSize,
      Optional<Incremental> incremental,
      Optional<String> checkColumn,
      Optional<String> lastValue,
      ImportTarget target) {
    public Options {
      requireNonNull(connect, "connect is null");
      requireNonNull(username, "username is null");
      requireNonNull(password, "password is null");
      requireNonNull(table, "table is null");
      requireNonNull(query, "query is null");
      columns = List.copyOf(columns);
      requireNonNull(where, "where is null");
      requireNonNull(splitBy, "splitBy is null");
      requireNonNull(incremental, "incremental is null");
      requireNonNull(checkColumn, "checkColumn is null");
      requireNonNull(lastValue, "lastValue is null");
      requireNonNull(target, "target is null");
      if (!connect.startsWith("jdbc:")) {
        throw invalid("--connect must be a JDBC URL, e.g. jdbc:mariadb://host:3306/shop");
      }
      if (connect.toLowerCase(Locale.ROOT).matches(".*[?&;]password=.*")) {
        throw invalid(
            "--connect must not carry a password: put it in a file readable only by you and"
                + " pass --password-file");
      }
      if (table.isPresent() == query.isPresent()) {
        throw invalid("give exactly one of --table and --query");
      }
      if (query.isPresent() && !query.get().contains(CONDITIONS)) {
        throw invalid(
            "--query must contain $CONDITIONS where each parallel read puts its range, e.g."
                + " SELECT ... FROM orders o WHERE $CONDITIONS");
      }
      if (query.isPresent() && (!columns.isEmpty() || where.isPresent())) {
        throw invalid("--columns and --where go with --table; write them into the --query");
      }
      if (numMappers < 1) {
        throw invalid("--num-mappers must be at least 1: " + numMappers);
      }
      if (fetchSize < 1) {
        throw invalid("--fetch-size must be at least 1: " + fetchSize);
      }
      if (incremental.isPresent() && checkColumn.isEmpty()) {
        throw invalid("--incremental needs --check-column, the column it compares");
      }
      if (incremental.isEmpty() && (checkColumn.isPresent() || lastValue.isPresent())) {
        throw invalid("--check-column and --last-value go with --incremental append|lastmodified");
      }
      if (target.isMirror() && (incremental.isPresent() || query.isPresent())) {
        throw invalid(
            "an import into "
                + target
                + " is a full snapshot of --table: CDC keeps the mirror current after it, so"
                + " --incremental and --query do not apply");
      }
    }

    /** Never shows the password. */
    @Override
    public String toString() {
      return "Options[connect=%s, username=%s, password=%s, table=%s, query=%s, columns=%s, where=%s,"
              .formatted(
                  connect, username, password.map(value -> "****"), table, query, columns, where)
          + " splitBy=%s, numMappers=%d, fetchSize=%d, incremental=%s, checkColumn=%s, lastValue=%s, target=%s]"
              .formatted(
                  splitBy, numMappers, fetchSize, incremental, checkColumn, lastValue, target);
    }

    /** Where the rows come from, for people: the table or query, on which database. */
    String source() {
      return stripParameters(connect) + " " + table.map(name -> "table " + name).orElse("query");
    }

    /**
     * What identifies an import for its state: the target and the source (the query by its hash).
     */
    String importKey() {
      String sourceName = table.orElseGet(() -> "query-" + sha256(query.orElseThrow()));
      return target.qualifiedName() + " <- " + stripParameters(connect) + "/" + sourceName;
    }
  }

  /** What a run did. */
  public record Result(
      long rows,
      Optional<String> lastValue,
      String snapshotId,
      Optional<BinlogPosition> position,
      boolean recoveredPreviousRun) {
    public Result {
      requireNonNull(lastValue, "lastValue is null");
      requireNonNull(snapshotId, "snapshotId is null");
      requireNonNull(position, "position is null");
    }
  }

  public static void main(String[] arguments) {
    System.exit(Launcher.run(new JdbcImportCommand(), arguments));
  }

  static Result runWithOwnSession(LakeConfig config, Options options, Consumer<String> progress) {
    return LakeSpark.runInOwnSession(
        config, "lambda-lake import-jdbc", spark -> run(spark, config, options, progress));
  }

  public static Result run(
      SparkSession spark, LakeConfig config, Options options, Consumer<String> progress) {
    MariaDbDialect.register();
    Properties properties = new Properties();
    options.username().ifPresent(user -> properties.setProperty("user", user));
    options.password().ifPresent(password -> properties.setProperty("password", password));
    JdbcSource source = new JdbcSource(options.connect(), properties);
    String snapshotId = UUID.randomUUID().toString();
    if (options.target().isMirror()) {
      return snapshotIntoMirror(spark, config, options, source, properties, snapshotId, progress);
    }
    return importIntoTable(spark, config, options, source, properties, snapshotId, progress);
  }

  private static Result importIntoTable(
      SparkSession spark,
      LakeConfig config,
      Options options,
      JdbcSource source,
      Properties properties,
      String snapshotId,
      Consumer<String> progress) {
    String key = options.importKey();
    String mode = options.incremental().map(Enum::name).orElse("FULL").toLowerCase(Locale.ROOT);
    String targetLocation = options.target().location(config.storage());
    Optional<ImportProgress.Run> latest = ImportProgress.latest(spark, config, key);
    long previousVersion = latest.map(ImportProgress.Run::version).orElse(0L);
    Optional<ImportProgress.Run> unrecorded =
        ImportProgress.committedToTarget(
            spark,
            targetLocation,
            key,
            options.target().qualifiedName(),
            options.source(),
            previousVersion + 1);
    boolean recovered = unrecorded.isPresent();
    if (recovered) {
      ImportProgress.Run run = unrecorded.get();
      progress.accept(
          "import-jdbc: run "
              + run.version()
              + " had written "
              + run.rows()
              + " rows to "
              + options.target()
              + " but died before its state; recording it now");
      ImportProgress.record(spark, config, run);
      latest = Optional.of(run);
      if (options.incremental().isEmpty()) {
        return new Result(run.rows(), run.lastValue(), run.snapshotId(), Optional.empty(), true);
      }
    }
    long version = latest.map(ImportProgress.Run::version).orElse(0L) + 1;

    String from = fromClause(options, "1 = 1");
    List<String> conditions = new ArrayList<>();
    options.where().ifPresent(where -> conditions.add("(" + where + ")"));
    Optional<String> upper = Optional.empty();
    if (options.incremental().isPresent()) {
      String checkColumn = options.checkColumn().orElseThrow();
      Optional<String> lower = latest.flatMap(ImportProgress.Run::lastValue);
      if (latest.isPresent() && options.lastValue().isPresent()) {
        LOG.warn(
            "Ignoring --last-value {}: the state of this import says {} (state.import_progress)",
            options.lastValue().get(),
            lower.orElse("(none)"));
      } else if (latest.isEmpty()) {
        lower = options.lastValue();
      }
      String checkOuter = outerName(options, checkColumn);
      boolean quoted = JdbcSource.needsQuotes(source.columnType(from, checkOuter));
      Optional<String> lowerLiteral = lower.map(value -> literal(value, quoted));
      switch (options.incremental().get()) {
        case APPEND -> {
          String maxWhere = and(conditions, lowerLiteral.map(value -> checkColumn + " > " + value));
          boolean query = options.query().isPresent();
          upper =
              source.scalarText(
                  "SELECT MAX("
                      + checkOuter
                      + ") FROM "
                      + (query ? fromClause(options, maxWhere) : from)
                      + " WHERE "
                      + (query ? "1 = 1" : maxWhere));
          if (upper.isEmpty()) {
            progress.accept(
                "import-jdbc: no rows after "
                    + checkColumn
                    + " = "
                    + lower.orElse("(start)")
                    + "; nothing to import");
            return new Result(0, lower, snapshotId, Optional.empty(), recovered);
          }
          lowerLiteral.ifPresent(value -> conditions.add(checkColumn + " > " + value));
          conditions.add(checkColumn + " <= " + literal(upper.get(), quoted));
        }
        case LASTMODIFIED -> {
          // Microseconds: rows changed in the same second as the run are not left for the next.
          upper = source.scalarText("SELECT CURRENT_TIMESTAMP(6)");
          lowerLiteral.ifPresent(value -> conditions.add(checkColumn + " >= " + value));
          conditions.add(checkColumn + " < " + literal(upper.orElseThrow(), true));
        }
      }
    }
    String condition = and(conditions, Optional.empty());
    List<String> predicates = splitPredicates(options, source, from, condition);
    progress.accept(
        "import-jdbc: reading "
            + options.source()
            + " in "
            + predicates.size()
            + " parallel read(s)"
            + (upper.isPresent()
                ? " up to " + options.checkColumn().get() + " = " + upper.get()
                : ""));

    long started = System.nanoTime();
    Dataset<Row> rows =
        read(spark, options, properties, condition, predicates)
            .withColumn("_import_snapshot_id", lit(snapshotId))
            .withColumn("_imported_at", current_timestamp());
    ImportProgress.Run run =
        new ImportProgress.Run(
            key,
            options.target().qualifiedName(),
            options.source(),
            mode,
            options.checkColumn(),
            version,
            upper,
            0,
            snapshotId);
    new ImportTransaction(run.applicationId(), version)
        .append(rows, targetLocation, Optional.of(run.commitMetadata()));
    CatalogNames.registerWritten(
        spark, config, options.target().zone(), options.target().table(), targetLocation);
    long written = rowsOfLastCommit(spark, targetLocation, snapshotId);
    haltIfAsked();
    ImportProgress.Run finished =
        new ImportProgress.Run(
            key,
            run.targetTable(),
            run.source(),
            mode,
            run.checkColumn(),
            version,
            upper,
            written,
            snapshotId);
    ImportProgress.record(spark, config, finished);
    progress.accept(
        "import-jdbc: wrote "
            + written
            + " rows to "
            + options.target()
            + " in "
            + seconds(started)
            + " s"
            + upper.map(value -> "; next run continues after " + value).orElse(""));
    return new Result(written, upper, snapshotId, Optional.empty(), recovered);
  }

  private static Result snapshotIntoMirror(
      SparkSession spark,
      LakeConfig config,
      Options options,
      JdbcSource source,
      Properties properties,
      String snapshotId,
      Consumer<String> progress) {
    ImportTarget target = options.target();
    String sourceTable = target.mirroredTable().orElseThrow();
    checkMirrorMatchesSource(options, sourceTable);
    refuseWhileCdcWrites(spark, config, target, sourceTable);
    // The position first, the rows after: every row read is at least as new as the position, and
    // CDC re-applies what changed after it, so the mirror converges on the source.
    BinlogPosition position = source.binlogPosition();
    Instant positionReadAt = Instant.now();
    progress.accept(
        "import-jdbc: binlog position before the snapshot of " + sourceTable + ": " + position);

    String from = fromClause(options, "1 = 1");
    String condition = and(new ArrayList<>(), Optional.empty());
    List<String> predicates = splitPredicates(options, source, from, condition);
    progress.accept(
        "import-jdbc: reading "
            + options.source()
            + " in "
            + predicates.size()
            + " parallel read(s) into "
            + target);
    long started = System.nanoTime();
    Dataset<Row> rows =
        read(spark, options, properties, condition, predicates)
            .withColumn("_cdc_binlog_file", lit(position.file()))
            .withColumn("_cdc_binlog_position", lit(position.position()))
            .withColumn("_cdc_xoffset", lit(-1L))
            .withColumn("_cdc_changed_at", lit(Timestamp.from(positionReadAt)))
            .withColumn("_cdc_source", lit("import"));
    String location = target.location(config.storage());
    ensureMirror(spark, location, rows);
    rows.write()
        .format("delta")
        .mode(SaveMode.Overwrite)
        .option("userMetadata", "{\"snapshot_id\":\"" + snapshotId + "\"}")
        .save(location);
    CatalogNames.registerWritten(spark, config, target.zone(), target.table(), location);
    long written = rowsOfLastCommit(spark, location, snapshotId);
    haltIfAsked();
    SnapshotPositions.record(
        spark, config, sourceTable, position, target, snapshotId, positionReadAt);
    progress.accept(
        "import-jdbc: wrote "
            + written
            + " rows to "
            + target
            + " in "
            + seconds(started)
            + " s; CDC continues after "
            + position);
    return new Result(written, Optional.empty(), snapshotId, Optional.of(position), false);
  }

  /**
   * Refuses a snapshot into a mirror that a running {@code lake cdc} writes: the copy overwrites
   * the mirror with rows read over minutes, and the changes CDC applies meanwhile are lost under it
   * (one writer per table). A running CDC stream holds a {@link CdcLease} on the databases it
   * follows.
   */
  private static void refuseWhileCdcWrites(
      SparkSession spark, LakeConfig config, ImportTarget target, String sourceTable) {
    String database = sourceTable.substring(0, sourceTable.indexOf('.'));
    List<CdcLease.Holder> writers =
        CdcLease.holders(
            spark.sessionState().newHadoopConf(), config.storage(), database, Instant.now());
    if (!writers.isEmpty()) {
      throw new LakeException(
          ErrorCode.ORCHESTRATION_CONFLICT,
          "import-jdbc into "
              + target.qualifiedName()
              + " refused: "
              + writers.get(0)
              + " follows "
              + sourceTable
              + " and writes its mirror, and a snapshot written beside it would lose the changes"
              + " CDC applies during the copy. Stop lake cdc, run the import, then start lake cdc"
              + " again: it goes on from the binlog position the snapshot records. (A lease whose"
              + " heartbeat is older than "
              + CdcLease.EXPIRY.toSeconds()
              + " s is ignored: a CDC that was killed blocks imports no longer than that.)");
    }
  }

  /** Creates the mirror with the change data feed on, or turns the feed on where it is off. */
  private static void ensureMirror(SparkSession spark, String location, Dataset<Row> rows) {
    if (!DeltaTables.exists(spark, location)) {
      DeltaTable.createIfNotExists(spark)
          .location(location)
          .addColumns(rows.schema())
          .property("delta.enableChangeDataFeed", "true")
          .execute();
      return;
    }
    String feed =
        DeltaTable.forPath(spark, location)
            .detail()
            .select("properties")
            .first()
            .<Map<String, String>>getAs(0)
            .getOrElse("delta.enableChangeDataFeed", () -> "false");
    if (!"true".equals(feed)) {
      spark.sql(
          "ALTER TABLE delta.`"
              + location
              + "` SET TBLPROPERTIES ('delta.enableChangeDataFeed' = 'true')");
    }
  }

  private static void checkMirrorMatchesSource(Options options, String sourceTable) {
    String database = sourceTable.substring(0, sourceTable.indexOf('.'));
    String table = sourceTable.substring(sourceTable.indexOf('.') + 1);
    String given = options.table().orElseThrow();
    String givenTable = given.substring(given.lastIndexOf('.') + 1);
    Optional<String> givenDatabase =
        given.contains(".")
            ? Optional.of(given.substring(0, given.lastIndexOf('.')))
            : databaseOf(options.connect());
    if (!givenTable.equalsIgnoreCase(table)
        || givenDatabase.filter(name -> name.equalsIgnoreCase(database)).isEmpty()) {
      throw invalid(
          "--target "
              + options.target()
              + " mirrors "
              + sourceTable
              + ", but the import reads "
              + givenDatabase.map(name -> name + ".").orElse("")
              + givenTable
              + ": name the mirror after its source table (database in --connect or --table)");
    }
  }

  private static Optional<String> databaseOf(String url) {
    Matcher matcher = URL_DATABASE.matcher(url);
    return matcher.matches() ? Optional.of(matcher.group(1)) : Optional.empty();
  }

  /** The parallel reads' predicates: the split-by column's ranges, or one read of everything. */
  private static List<String> splitPredicates(
      Options options, JdbcSource source, String from, String condition) {
    if (options.numMappers() == 1) {
      return List.of("1 = 1");
    }
    String splitBy =
        options
            .splitBy()
            .or(() -> options.table().flatMap(source::singleColumnPrimaryKey))
            .orElseThrow(
                () ->
                    invalid(
                        options.table().isPresent()
                            ? "--split-by is needed with --num-mappers "
                                + options.numMappers()
                                + ": table "
                                + options.table().get()
                                + " has no single-column primary key to split the reads on;"
                                + " name a column with --split-by or import with --num-mappers 1"
                            : "--split-by is needed with --num-mappers "
                                + options.numMappers()
                                + " and --query: name the column whose range the parallel"
                                + " reads split, or import with --num-mappers 1"));
    // A --query's bounds come from its result, with the conditions where $CONDITIONS is, and its
    // columns there have no table qualifier (o.id -> id); the ranges go inside the query as given.
    boolean query = options.query().isPresent();
    SplitPlanner.Bounds bounds =
        source.bounds(
            query ? fromClause(options, condition) : from,
            outerName(options, splitBy),
            query ? "1 = 1" : condition);
    return SplitPlanner.predicates(splitBy, bounds, options.numMappers());
  }

  /** The JDBC reads: one Spark partition per predicate, as many at once as Spark has cores. */
  private static Dataset<Row> read(
      SparkSession spark,
      Options options,
      Properties properties,
      String condition,
      List<String> predicates) {
    Properties readProperties = JdbcDrivers.forSpark(options.connect(), properties);
    readProperties.setProperty("fetchsize", Integer.toString(options.fetchSize()));
    if (options.table().isPresent()) {
      String[] where =
          predicates.stream()
              .map(predicate -> "(" + condition + ") AND (" + predicate + ")")
              .toArray(String[]::new);
      Dataset<Row> rows =
          spark.read().jdbc(options.connect(), options.table().get(), where, readProperties);
      if (!options.columns().isEmpty()) {
        rows = rows.select(options.columns().stream().map(Column::new).toArray(Column[]::new));
      }
      return rows;
    }
    // A free-form query takes each range where it says $CONDITIONS, as Sqoop puts it there.
    Dataset<Row> union = null;
    for (String predicate : predicates) {
      String query =
          options
              .query()
              .orElseThrow()
              .replace(CONDITIONS, "((" + condition + ") AND (" + predicate + "))");
      Dataset<Row> part =
          spark.read().jdbc(options.connect(), "(" + query + ") sqoop_query", readProperties);
      union = union == null ? part : union.unionAll(part);
    }
    return union;
  }

  /** The table, or the query with the condition where it says $CONDITIONS, as a FROM item. */
  private static String fromClause(Options options, String condition) {
    return options
        .table()
        .orElseGet(
            () ->
                "("
                    + options.query().orElseThrow().replace(CONDITIONS, "(" + condition + ")")
                    + ") sqoop_query");
  }

  /** A column as a query over a --query's result names it: without its qualifier. */
  private static String outerName(Options options, String column) {
    return options.query().isPresent() ? column.substring(column.lastIndexOf('.') + 1) : column;
  }

  private static long rowsOfLastCommit(SparkSession spark, String location, String snapshotId) {
    Row last = DeltaTable.forPath(spark, location).history(1).first();
    String metadata = last.getAs("userMetadata");
    if (metadata == null || !metadata.contains(snapshotId)) {
      throw new LakeException(
          ErrorCode.INTERNAL_ERROR,
          "The newest commit of " + location + " is not this import's (" + snapshotId + ")");
    }
    Map<String, String> metrics = last.getAs("operationMetrics");
    return Long.parseLong(metrics.getOrElse("numOutputRows", () -> "0"));
  }

  private static String and(List<String> conditions, Optional<String> extra) {
    List<String> all = new ArrayList<>(conditions);
    extra.ifPresent(all::add);
    return all.isEmpty() ? "1 = 1" : String.join(" AND ", all);
  }

  private static String literal(String value, boolean quoted) {
    return quoted ? "'" + value.replace("'", "''") + "'" : value;
  }

  private static void haltIfAsked() {
    if (Boolean.getBoolean(HALT_AFTER_TARGET_COMMIT)) {
      LOG.warn(
          "Halting between the target commit and the state commit ({})", HALT_AFTER_TARGET_COMMIT);
      Runtime.getRuntime().halt(137);
    }
  }

  private static String seconds(long startedNanos) {
    return String.format(Locale.ROOT, "%.1f", (System.nanoTime() - startedNanos) / 1e9);
  }

  private static String stripParameters(String url) {
    int end = url.length();
    for (char separator : new char[] {'?', ';'}) {
      int index = url.indexOf(separator, "jdbc:".length());
      if (index >= 0) {
        end = Math.min(end, index);
      }
    }
    return url.substring(0, end);
  }

  private static String sha256(String text) {
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest, 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static LakeException invalid(String message) {
    return new LakeException(ErrorCode.INVALID_ARGUMENT, message);
  }
}
