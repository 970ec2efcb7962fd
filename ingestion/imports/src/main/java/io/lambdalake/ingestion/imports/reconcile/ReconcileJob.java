package io.lambdalake.ingestion.imports.reconcile;

import static java.util.Objects.requireNonNull;
import static org.apache.spark.sql.functions.call_function;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.expr;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import io.delta.tables.DeltaTable;
import io.lambdalake.common.cdc.ChangeEnvelope.SourceName;
import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.common.jdbc.JdbcDrivers;
import io.lambdalake.ingestion.imports.internal.JdbcSource;
import io.lambdalake.ingestion.imports.internal.JdbcSource.BinlogPosition;
import io.lambdalake.ingestion.imports.internal.MariaDbDialect;
import io.lambdalake.spark.DeltaTables;
import io.lambdalake.spark.cdc.CdcLease;
import io.lambdalake.spark.cdc.ChangeEffects;
import io.lambdalake.spark.cdc.SourceSchemas;
import io.lambdalake.spark.cdc.SourceSchemas.SourceColumn;
import io.lambdalake.spark.cdc.SourceSchemas.TableSchema;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.sql.ResultSet;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DecimalType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import scala.jdk.javaapi.CollectionConverters;

/**
 * {@code lake cdc reconcile}: compares each MariaDB mirror with its source table, range by range of
 * the primary key ({@code COUNT(*)}, {@code SUM} and {@code BIT_XOR} of each row's CRC32 over a
 * canonical text, {@link CanonicalForm}: one aggregate query on the source, the same in Spark on
 * the mirror), and resyncs only the ranges that differ with a MERGE of the source's rows of those
 * ranges, stamped with the binlog position read before they were read (xoffset -1, like a snapshot
 * import), so that CDC still applies every later change.
 */
public final class ReconcileJob {
  static final String MIRROR_ZONE = "mirror";
  static final String RECONCILE_SOURCE = "reconcile";

  /** The mirror property of a retired mirror (MirrorApplier.DROPPED_AT, in the landing module). */
  static final String DROPPED_AT = "lake.source.dropped-at";

  private static final Pattern MIRROR_NAME = Pattern.compile("([a-z0-9_]+?)__([a-z0-9_]+)");
  private static final String ACTION = "_reconcile_action";
  private static final String SOURCE_CHECKSUM = "_reconcile_source_crc";
  private static final String MIRROR_CHECKSUM = "_reconcile_mirror_crc";
  private static final String RANGE = "_reconcile_range";

  private ReconcileJob() {}

  /** The options of {@code lake cdc reconcile}. */
  public record Options(Pattern databases, List<String> tables, boolean dryRun, int ranges) {
    public Options {
      requireNonNull(databases, "databases is null");
      tables = List.copyOf(tables);
      if (ranges < 1 || ranges > 100_000) {
        throw new LakeException(
            ErrorCode.INVALID_ARGUMENT, "--ranges must be from 1 to 100000: " + ranges);
      }
      for (String table : tables) {
        if (!table.matches("[^.]+\\.[^.]+")) {
          throw new LakeException(
              ErrorCode.INVALID_ARGUMENT, "--tables takes <database>.<table> names, not " + table);
        }
      }
    }
  }

  /** What a run found and fixed (or, with --dry-run, would fix). */
  public record Report(
      int tablesChecked,
      List<String> skipped,
      long rangesChecked,
      long rangesDiffering,
      long rowsInserted,
      long rowsUpdated,
      long rowsDeleted) {
    public Report {
      skipped = List.copyOf(skipped);
    }

    public boolean inSync() {
      return rangesDiffering == 0;
    }

    /** The counts of the run record. */
    public Map<String, Long> counts() {
      Map<String, Long> counts = new LinkedHashMap<>();
      counts.put("tables_checked", (long) tablesChecked);
      counts.put("tables_skipped", (long) skipped.size());
      counts.put("ranges_checked", rangesChecked);
      counts.put("ranges_differing", rangesDiffering);
      counts.put("rows_inserted", rowsInserted);
      counts.put("rows_updated", rowsUpdated);
      counts.put("rows_deleted", rowsDeleted);
      return counts;
    }

    @Override
    public String toString() {
      return "tables checked "
          + tablesChecked
          + ", skipped "
          + skipped.size()
          + "; ranges checked "
          + rangesChecked
          + ", differing "
          + rangesDiffering
          + "; rows inserted "
          + rowsInserted
          + ", updated "
          + rowsUpdated
          + ", deleted "
          + rowsDeleted;
    }
  }

  /** One table's outcome. */
  private record TableOutcome(
      long ranges, List<String> differing, long inserted, long updated, long deleted) {
    TableOutcome {
      differing = List.copyOf(differing);
    }
  }

  /** One range's figures on one side. */
  private record Summary(long rows, long checksumSum, long checksumXor) {}

  public static Report run(
      SparkSession spark, LakeConfig config, Options options, Consumer<String> progress) {
    MariaDbDialect.register();
    List<SourceName> mirrors = mirrors(spark, config, options);
    progress.accept(
        "reconcile: "
            + mirrors.size()
            + " mirror(s) to check"
            + (options.dryRun() ? " (dry run: nothing is changed)" : ""));
    Optional<CdcLease> lease = Optional.empty();
    if (!options.dryRun() && !mirrors.isEmpty()) {
      lease = Optional.of(holdLease(spark, config, mirrors));
    }
    try {
      SourceSchemas schemas = new SourceSchemas(config.mariaDb());
      int checked = 0;
      List<String> skipped = new ArrayList<>();
      long ranges = 0;
      long differing = 0;
      long inserted = 0;
      long updated = 0;
      long deleted = 0;
      for (SourceName mirror : mirrors) {
        String location = config.storage().tableLocation(MIRROR_ZONE, mirror.mirrorTableName());
        Either<Plan> plan = plan(spark, schemas, mirror, location);
        if (plan.reason().isPresent()) {
          skipped.add(mirror.qualifiedName() + ": " + plan.reason().get());
          progress.accept(
              "reconcile " + mirror.qualifiedName() + ": skipped, " + plan.reason().get());
          continue;
        }
        TableOutcome outcome = reconcile(spark, config, options, plan.value().orElseThrow());
        checked++;
        ranges += outcome.ranges();
        differing += outcome.differing().size();
        inserted += outcome.inserted();
        updated += outcome.updated();
        deleted += outcome.deleted();
        progress.accept(
            "reconcile "
                + mirror.qualifiedName()
                + ": "
                + outcome.ranges()
                + " range(s), "
                + outcome.differing().size()
                + " differing"
                + (outcome.differing().isEmpty()
                    ? ""
                    : " ("
                        + String.join(", ", outcome.differing())
                        + "); rows "
                        + (options.dryRun() ? "a resync would insert " : "inserted ")
                        + outcome.inserted()
                        + ", updated "
                        + outcome.updated()
                        + ", deleted "
                        + outcome.deleted()));
      }
      return new Report(checked, skipped, ranges, differing, inserted, updated, deleted);
    } finally {
      lease.ifPresent(CdcLease::close);
    }
  }

  /** What to compare: the table, its key, each column's form, the mirror's schema. */
  private record Plan(
      SourceName table,
      String location,
      List<String> primaryKey,
      List<CanonicalForm> forms,
      List<CanonicalForm> keyForms,
      StructType mirrorSchema,
      List<SourceColumn> sourceColumns) {}

  /** A value or the reason there is none. */
  private record Either<T>(Optional<T> value, Optional<String> reason) {
    static <T> Either<T> of(T value) {
      return new Either<>(Optional.of(value), Optional.empty());
    }

    static <T> Either<T> skip(String reason) {
      return new Either<>(Optional.empty(), Optional.of(reason));
    }
  }

  private static Either<Plan> plan(
      SparkSession spark, SourceSchemas schemas, SourceName table, String location) {
    if (!DeltaTables.exists(spark, location)) {
      return Either.skip("the mirror at " + location + " is not a Delta table");
    }
    Map<String, String> properties = new HashMap<>();
    for (Row row : spark.sql("SHOW TBLPROPERTIES delta.`" + location + "`").collectAsList()) {
      properties.put(row.getString(0), row.getString(1));
    }
    if (properties.containsKey(DROPPED_AT)) {
      return Either.skip(
          "the mirror is retired: its source table was dropped at " + properties.get(DROPPED_AT));
    }
    Optional<TableSchema> found = schemas.get(table);
    if (found.isEmpty()) {
      return Either.skip(
          "the MariaDB source has no table "
              + table.qualifiedName()
              + " (a MongoDB mirror, or a table dropped while CDC was not running)");
    }
    TableSchema schema = found.get();
    if (schema.primaryKey().isEmpty()) {
      return Either.skip(
          "the source table has no primary key, so rows cannot be matched between the source and"
              + " the mirror; add a primary key to the source table");
    }
    StructType mirror = spark.read().format("delta").load(location).schema();
    List<CanonicalForm> forms = new ArrayList<>();
    List<String> problems = new ArrayList<>();
    for (SourceColumn column : schema.columns()) {
      Optional<StructField> field = field(mirror, column.name());
      if (field.isEmpty()) {
        problems.add(
            column.name() + " is not in the mirror yet (CDC adds it with the first change)");
        continue;
      }
      CanonicalForm.Either form = CanonicalForm.of(column, field.get().dataType());
      form.form().ifPresent(forms::add);
      form.unsupported().ifPresent(problems::add);
    }
    if (!problems.isEmpty()) {
      return Either.skip(String.join("; ", problems));
    }
    List<CanonicalForm> keyForms =
        schema.primaryKey().stream()
            .map(
                key ->
                    forms.stream()
                        .filter(form -> form.column().equalsIgnoreCase(key))
                        .findFirst()
                        .orElseThrow())
            .toList();
    return Either.of(
        new Plan(table, location, schema.primaryKey(), forms, keyForms, mirror, schema.columns()));
  }

  private static TableOutcome reconcile(
      SparkSession spark, LakeConfig config, Options options, Plan plan) {
    JdbcSource source = source(config, plan.table().database());
    Dataset<Row> mirror = spark.read().format("delta").load(plan.location());
    KeyRanges ranges = ranges(source, mirror, plan, options.ranges());
    Map<Long, Summary> sourceSummaries = sourceSummaries(source, plan, ranges);
    Map<Long, Summary> mirrorSummaries = mirrorSummaries(mirror, plan, ranges);
    Set<Long> differing = new TreeSet<>();
    Set<Long> all = new TreeSet<>(sourceSummaries.keySet());
    all.addAll(mirrorSummaries.keySet());
    for (Long range : all) {
      if (!sourceSummaries
          .getOrDefault(range, new Summary(0, 0, 0))
          .equals(mirrorSummaries.getOrDefault(range, new Summary(0, 0, 0)))) {
        differing.add(range);
      }
    }
    if (differing.isEmpty()) {
      return new TableOutcome(ranges.count(), List.of(), 0, 0, 0);
    }
    return resync(spark, config, options, plan, source, ranges, differing);
  }

  /** Integer ranges over both sides' keys when the leading key column is an integer. */
  private static KeyRanges ranges(JdbcSource source, Dataset<Row> mirror, Plan plan, int wanted) {
    String leading = plan.primaryKey().get(0);
    SourceColumn column =
        plan.sourceColumns().stream()
            .filter(c -> c.name().equalsIgnoreCase(leading))
            .findFirst()
            .orElseThrow();
    DataType mirrorType = field(plan.mirrorSchema(), leading).orElseThrow().dataType();
    boolean integral =
        List.of("tinyint", "smallint", "mediumint", "int", "integer", "bigint")
                .contains(column.dataType())
            && (mirrorType.typeName().matches("byte|short|integer|long")
                || (mirrorType instanceof DecimalType decimal && decimal.scale() == 0));
    if (!integral) {
      return new KeyRanges.HashBuckets(plan.keyForms(), wanted);
    }
    String quoted = "`" + leading + "`";
    List<BigInteger> bounds = new ArrayList<>();
    source.withConnection(
        "the key range of " + plan.table().qualifiedName(),
        connection -> {
          try (Statement statement = connection.createStatement();
              ResultSet result =
                  statement.executeQuery(
                      "SELECT MIN(" + quoted + "), MAX(" + quoted + ") FROM " + from(plan))) {
            result.next();
            for (int index = 1; index <= 2; index++) {
              BigDecimal value = result.getBigDecimal(index);
              if (value != null) {
                bounds.add(value.toBigIntegerExact());
              }
            }
          }
          return null;
        });
    Row mirrorBounds = mirror.agg(min(quoted), max(quoted)).first();
    for (int index = 0; index < 2; index++) {
      if (!mirrorBounds.isNullAt(index)) {
        bounds.add(new BigDecimal(mirrorBounds.get(index).toString()).toBigIntegerExact());
      }
    }
    BigInteger low = bounds.stream().min(BigInteger::compareTo).orElse(BigInteger.ZERO);
    BigInteger high = bounds.stream().max(BigInteger::compareTo).orElse(BigInteger.ZERO);
    return KeyRanges.IntegerRanges.covering(leading, low, high, wanted);
  }

  /** One aggregate query on the source: per range, the rows and their checksums. */
  private static Map<Long, Summary> sourceSummaries(
      JdbcSource source, Plan plan, KeyRanges ranges) {
    String sql =
        "SELECT r, COUNT(*), SUM(c), BIT_XOR(c) FROM (SELECT "
            + ranges.mariaDb()
            + " AS r, "
            + CanonicalForm.mariaDbChecksum(plan.forms())
            + " AS c FROM "
            + from(plan)
            + ") t GROUP BY r";
    return source.withConnection(
        "the checksums of " + plan.table().qualifiedName(),
        connection -> {
          Map<Long, Summary> summaries = new HashMap<>();
          try (Statement statement = connection.createStatement()) {
            // TIMESTAMP values in UTC, as the Spark session reads them.
            statement.execute("SET time_zone = '+00:00'");
            try (ResultSet result = statement.executeQuery(sql)) {
              while (result.next()) {
                summaries.put(
                    result.getLong(1),
                    new Summary(
                        result.getLong(2),
                        result.getBigDecimal(3).longValueExact(),
                        result.getBigDecimal(4).longValueExact()));
              }
            }
          }
          return summaries;
        });
  }

  /** The same aggregate in Spark over the mirror. */
  private static Map<Long, Summary> mirrorSummaries(
      Dataset<Row> mirror, Plan plan, KeyRanges ranges) {
    Map<Long, Summary> summaries = new HashMap<>();
    List<Row> rows =
        mirror
            .select(
                expr(ranges.spark()).as(RANGE),
                expr(CanonicalForm.sparkChecksum(plan.forms())).as(MIRROR_CHECKSUM))
            .groupBy(RANGE)
            .agg(
                count(lit(1)), sum(MIRROR_CHECKSUM), call_function("bit_xor", col(MIRROR_CHECKSUM)))
            .collectAsList();
    for (Row row : rows) {
      summaries.put(row.getLong(0), new Summary(row.getLong(1), row.getLong(2), row.getLong(3)));
    }
    return summaries;
  }

  /**
   * Reads the source's rows of the differing ranges (after the binlog position), compares them with
   * the mirror's row by row, and MERGEs the difference into the mirror (unless --dry-run).
   */
  private static TableOutcome resync(
      SparkSession spark,
      LakeConfig config,
      Options options,
      Plan plan,
      JdbcSource source,
      KeyRanges ranges,
      Set<Long> differing) {
    // The position first, the rows after: every row read is at least as new as the position, and
    // CDC applies what changed after it again (full row images converge), as after a snapshot.
    BinlogPosition position = source.binlogPosition();
    Instant positionReadAt = Instant.now();
    Properties properties = new Properties();
    properties.setProperty("user", config.mariaDb().user());
    properties.setProperty("password", config.mariaDb().password());
    properties.setProperty("fetchsize", "10000");
    properties.setProperty(
        JdbcDrivers.SPARK_DRIVER_OPTION,
        JdbcDrivers.forUrl(config.mariaDb().jdbcUrl(plan.table().database())).getClass().getName());
    String[] predicates = differing.stream().map(ranges::mariaDbRows).toArray(String[]::new);
    Dataset<Row> read =
        spark
            .read()
            .jdbc(
                config.mariaDb().jdbcUrl(plan.table().database()),
                "`" + plan.table().table() + "`",
                predicates,
                properties);
    // The source's columns as the mirror keeps them.
    List<Column> typed = new ArrayList<>();
    List<String> dataColumns = new ArrayList<>();
    for (SourceColumn column : plan.sourceColumns()) {
      StructField field = field(plan.mirrorSchema(), column.name()).orElseThrow();
      typed.add(col("`" + column.name() + "`").cast(field.dataType()).as(field.name()));
      dataColumns.add(field.name());
    }
    List<String> key =
        plan.primaryKey().stream()
            .map(name -> field(plan.mirrorSchema(), name).orElseThrow().name())
            .toList();
    Dataset<Row> sourceRows =
        read.select(typed.toArray(Column[]::new))
            .withColumn(SOURCE_CHECKSUM, expr(CanonicalForm.sparkChecksum(plan.forms())));
    Column inDiffering = expr(ranges.spark()).isin(differing.stream().map(Long::valueOf).toArray());
    Dataset<Row> mirrorRows =
        spark
            .read()
            .format("delta")
            .load(plan.location())
            .filter(inDiffering)
            .select(
                concat(
                    key.stream().map(name -> col("`" + name + "`")).toList(),
                    expr(CanonicalForm.sparkChecksum(plan.forms())).as(MIRROR_CHECKSUM)));
    Dataset<Row> joined =
        sourceRows.join(mirrorRows, CollectionConverters.asScala(key).toSeq(), "full_outer");
    Column action =
        when(col(MIRROR_CHECKSUM).isNull(), lit("insert"))
            .when(col(SOURCE_CHECKSUM).isNull(), lit("delete"))
            .when(col(SOURCE_CHECKSUM).notEqual(col(MIRROR_CHECKSUM)), lit("update"));
    List<Column> fixColumns = new ArrayList<>();
    dataColumns.forEach(name -> fixColumns.add(col("`" + name + "`")));
    fixColumns.add(action.as(ACTION));
    // Read once: the counts and the MERGE see the same rows of the source.
    Dataset<Row> fixes =
        joined
            .select(fixColumns.toArray(Column[]::new))
            .filter(col(ACTION).isNotNull())
            .localCheckpoint(true);
    Map<String, Long> counts = new HashMap<>();
    for (Row row : fixes.groupBy(ACTION).count().collectAsList()) {
      counts.put(row.getString(0), row.getLong(1));
    }
    TableOutcome outcome =
        new TableOutcome(
            ranges.count(),
            differing.stream().map(ranges::describe).toList(),
            counts.getOrDefault("insert", 0L),
            counts.getOrDefault("update", 0L),
            counts.getOrDefault("delete", 0L));
    if (options.dryRun() || counts.isEmpty()) {
      return outcome;
    }
    merge(spark, plan, fixes, dataColumns, key, position, positionReadAt);
    return outcome;
  }

  private static void merge(
      SparkSession spark,
      Plan plan,
      Dataset<Row> fixes,
      List<String> dataColumns,
      List<String> key,
      BinlogPosition position,
      Instant positionReadAt) {
    Set<String> mirrorColumns =
        java.util.Arrays.stream(plan.mirrorSchema().fieldNames()).collect(Collectors.toSet());
    Map<String, Column> metadata = new LinkedHashMap<>();
    metadata.put(ChangeEffects.BINLOG_FILE, lit(position.file()));
    metadata.put(ChangeEffects.BINLOG_POSITION, lit(position.position()));
    metadata.put(ChangeEffects.XOFFSET, lit(-1L));
    metadata.put(ChangeEffects.CHANGED_AT, lit(Timestamp.from(positionReadAt)));
    metadata.put(ChangeEffects.SOURCE, lit(RECONCILE_SOURCE));
    Map<String, String> assignments = new LinkedHashMap<>();
    for (String name : dataColumns) {
      assignments.put("`" + name + "`", "s.`" + name + "`");
    }
    Dataset<Row> stamped = fixes;
    for (Map.Entry<String, Column> entry : metadata.entrySet()) {
      if (mirrorColumns.contains(entry.getKey())) {
        DataType type = plan.mirrorSchema().apply(entry.getKey()).dataType();
        stamped = stamped.withColumn(entry.getKey(), entry.getValue().cast(type));
        assignments.put("`" + entry.getKey() + "`", "s.`" + entry.getKey() + "`");
      }
    }
    String on =
        String.join(" AND ", key.stream().map(k -> "t.`" + k + "` = s.`" + k + "`").toList());
    DeltaTable.forPath(spark, plan.location())
        .as("t")
        .merge(stamped.as("s"), on)
        .whenMatched("s." + ACTION + " = 'delete'")
        .delete()
        .whenMatched("s." + ACTION + " = 'update'")
        .updateExpr(assignments)
        .whenNotMatched("s." + ACTION + " = 'insert'")
        .insertExpr(assignments)
        .execute();
  }

  /**
   * Refuses while a {@code lake cdc} stream writes one of the mirrors (one writer per table), then
   * holds a lease of its own on their databases, so that a snapshot import refuses meanwhile.
   */
  private static CdcLease holdLease(
      SparkSession spark, LakeConfig config, List<SourceName> mirrors) {
    Set<String> databases = new TreeSet<>();
    mirrors.forEach(mirror -> databases.add(mirror.database()));
    for (String database : databases) {
      List<CdcLease.Holder> writers =
          CdcLease.holders(
              spark.sessionState().newHadoopConf(), config.storage(), database, Instant.now());
      if (!writers.isEmpty()) {
        throw new LakeException(
            ErrorCode.ORCHESTRATION_CONFLICT,
            "reconcile refused: "
                + writers.get(0)
                + " writes the mirrors of "
                + database
                + ", and a resync beside it could lose the changes it applies meanwhile. Stop lake"
                + " cdc, run lake cdc reconcile, then start lake cdc again (it goes on after the"
                + " resynced rows' binlog position), or run lake cdc reconcile --dry-run, which"
                + " changes nothing, to only compare. (A lease whose heartbeat is older than "
                + CdcLease.EXPIRY.toSeconds()
                + " s is ignored.)");
      }
    }
    return CdcLease.hold(
        spark.sessionState().newHadoopConf(),
        config.storage(),
        "reconcile",
        databases.stream().map(Pattern::quote).collect(Collectors.joining("|")));
  }

  /** The mirrors under the mirror zone whose database and table the options select. */
  private static List<SourceName> mirrors(SparkSession spark, LakeConfig config, Options options) {
    Path zone = new Path(config.storage().zoneLocation(MIRROR_ZONE));
    List<SourceName> mirrors = new ArrayList<>();
    try {
      FileSystem fileSystem = zone.getFileSystem(spark.sessionState().newHadoopConf());
      if (!fileSystem.exists(zone)) {
        return mirrors;
      }
      for (FileStatus status : fileSystem.listStatus(zone)) {
        Matcher matcher = MIRROR_NAME.matcher(status.getPath().getName());
        if (!status.isDirectory() || !matcher.matches()) {
          continue;
        }
        SourceName name = new SourceName(matcher.group(1), matcher.group(2));
        if (options.databases().matcher(name.database()).matches()
            && (options.tables().isEmpty()
                || options.tables().stream()
                    .anyMatch(table -> table.equalsIgnoreCase(name.qualifiedName())))) {
          mirrors.add(name);
        }
      }
    } catch (IOException e) {
      throw new LakeException(
          ErrorCode.SERVER_NOT_AVAILABLE,
          "Cannot list the mirrors at " + zone + ": " + e.getMessage(),
          e);
    }
    mirrors.sort((one, other) -> one.qualifiedName().compareTo(other.qualifiedName()));
    return mirrors;
  }

  private static JdbcSource source(LakeConfig config, String database) {
    Properties properties = new Properties();
    properties.setProperty("user", config.mariaDb().user());
    properties.setProperty("password", config.mariaDb().password());
    return new JdbcSource(config.mariaDb().jdbcUrl(database), properties);
  }

  private static String from(Plan plan) {
    return "`" + plan.table().database() + "`.`" + plan.table().table() + "`";
  }

  private static Optional<StructField> field(StructType schema, String name) {
    for (StructField field : schema.fields()) {
      if (field.name().equalsIgnoreCase(name)) {
        return Optional.of(field);
      }
    }
    return Optional.empty();
  }

  private static Column[] concat(List<Column> columns, Column last) {
    List<Column> all = new ArrayList<>(columns);
    all.add(last);
    return all.toArray(Column[]::new);
  }
}
