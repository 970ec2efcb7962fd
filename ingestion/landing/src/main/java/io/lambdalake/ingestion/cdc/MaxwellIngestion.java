package io.lambdalake.ingestion.cdc;

import static java.util.Objects.requireNonNull;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.current_timestamp;
import static org.apache.spark.sql.functions.to_date;

import io.lambdalake.common.cdc.ChangeEnvelope.SourceName;
import io.lambdalake.common.cdc.SourcePosition.BinlogPosition;
import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.common.table.LakeTable;
import io.lambdalake.ingestion.cdc.internal.BatchSurvey;
import io.lambdalake.ingestion.cdc.internal.BinlogContinuity;
import io.lambdalake.ingestion.cdc.internal.CdcPositions;
import io.lambdalake.ingestion.cdc.internal.MirrorApplier;
import io.lambdalake.ingestion.cdc.internal.QuarantineRows;
import io.lambdalake.ingestion.landing.LandingBatch;
import io.lambdalake.ingestion.landing.LandingStream;
import io.lambdalake.spark.CatalogNames;
import io.lambdalake.spark.DeltaTables;
import io.lambdalake.spark.TableUpkeep;
import io.lambdalake.spark.cdc.ChangeEffects;
import io.lambdalake.spark.cdc.ParsedChanges;
import io.lambdalake.spark.cdc.SourceSchemas;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Pattern;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.collection.Iterator;

/**
 * Maxwell's topics into the lake, exactly once on the {@link LandingStream} skeleton: every change
 * as received into raw.mysql_changes (an idempotent append keyed by the stream, query and batch
 * id), each source table's current state into its mirror by MERGE (idempotent per batch, and
 * ordered by binlog position so that nothing older overwrites something newer), and what cannot be
 * applied into raw.cdc_quarantine with its reason.
 */
public final class MaxwellIngestion {
  private static final Logger LOG = LoggerFactory.getLogger(MaxwellIngestion.class);
  public static final String QUERY_NAME = "cdc-maxwell";

  private MaxwellIngestion() {}

  /** Kafka's subscribe pattern for the Maxwell topics of the databases the regex matches. */
  public static String topicPattern(LakeConfig config, String databases) {
    return "^"
        + Pattern.quote(config.topics().cdcMaxwellPrefix())
        + "(?:"
        + databases
        + ")\\.[^.]+$";
  }

  /** Reads Kafka's rows into changes (or reasons why not). */
  static Dataset<Row> parse(Dataset<Row> kafkaRows) {
    return kafkaRows.mapPartitions(ParsedChanges.fromKafka(), Encoders.row(ParsedChanges.SCHEMA));
  }

  /** Maxwell's stream on the {@link LandingStream} skeleton. */
  public static LandingStream.Source source(
      LakeConfig config, String databases, long maxRecordsPerBatch) {
    return new Source(config, databases, maxRecordsPerBatch);
  }

  private static final class Source implements LandingStream.Source {
    private final LakeConfig config;
    private final String databases;
    private final long maxRecordsPerBatch;
    // Kept across the micro-batches of one run: positions, source schemas, sessions.
    private final Landing landing;

    Source(LakeConfig config, String databases, long maxRecordsPerBatch) {
      this.config = requireNonNull(config, "config is null");
      this.databases = requireNonNull(databases, "databases is null");
      this.maxRecordsPerBatch = maxRecordsPerBatch;
      this.landing =
          new Landing(
              new CdcPositions.Thresholds(config),
              new BinlogContinuity(),
              new MirrorApplier(config.storage(), new SourceSchemas(config.mariaDb())),
              new TableSessions(),
              new TableUpkeep("cdc", config.cdc().compactEveryBatches()));
    }

    @Override
    public String name() {
      return QUERY_NAME;
    }

    @Override
    public String topicPattern() {
      return MaxwellIngestion.topicPattern(config, databases);
    }

    @Override
    public long maxRecordsPerBatch() {
      return maxRecordsPerBatch;
    }

    @Override
    public List<String> appendOnlyTables() {
      return List.of(
          LakeTable.RAW_MYSQL_CHANGES.location(config.storage()),
          LakeTable.RAW_CDC_QUARANTINE.location(config.storage()));
    }

    @Override
    public TableUpkeep upkeep() {
      return landing.upkeep();
    }

    @Override
    public void write(Dataset<Row> batch, LandingBatch batchLanding) {
      long started = System.nanoTime();
      SparkSession spark = batch.sparkSession();
      Dataset<Row> parsed = parse(batch).persist(StorageLevel.MEMORY_AND_DISK());
      try {
        apply(spark, config, parsed, batchLanding, landing);
        LOG.info(
            "CDC batch {} in {} ms",
            batchLanding.version(),
            (System.nanoTime() - started) / 1_000_000);
      } finally {
        parsed.unpersist();
      }
    }
  }

  /**
   * What lands a batch and lives longer than one: positions, source schemas, sessions, and which
   * tables were written since their last compaction.
   */
  private record Landing(
      CdcPositions.Thresholds thresholds,
      BinlogContinuity continuity,
      MirrorApplier applier,
      TableSessions sessions,
      TableUpkeep upkeep) {}

  /**
   * Sessions for the tables' MERGEs, which run in parallel: Delta reads a MERGE's idempotence key
   * from the session's SQL configuration, so each concurrent MERGE needs a session of its own. They
   * share the SparkContext and its cache with the batch's session and take its settings.
   */
  private static final class TableSessions {
    private final ConcurrentLinkedQueue<SparkSession> idle = new ConcurrentLinkedQueue<>();

    SparkSession take(SparkSession parent) {
      SparkSession session = idle.poll();
      if (session == null) {
        session = parent.newSession();
      }
      Iterator<scala.Tuple2<String, String>> settings = parent.conf().getAll().iterator();
      while (settings.hasNext()) {
        scala.Tuple2<String, String> setting = settings.next();
        if (parent.conf().isModifiable(setting._1())) {
          session.conf().set(setting._1(), setting._2());
        }
      }
      return session;
    }

    void give(SparkSession session) {
      idle.add(session);
    }
  }

  /** At most this many tables are merged at once (and never more than the cores, but two). */
  private static final int MAX_PARALLEL_TABLES = 4;

  /**
   * Lands parsed changes: raw log, mirrors, quarantine, positions. One survey job finds the tables,
   * their added columns and whether they have anything newer than their positions; the raw append
   * and the tables' MERGEs then run in parallel. Every write is keyed by the transaction
   * (applicationId, version), so running it again with the same key changes nothing.
   */
  static void apply(
      SparkSession spark,
      LakeConfig config,
      Dataset<Row> parsed,
      LandingBatch batchLanding,
      Landing landing) {
    MirrorApplier.Transaction transaction =
        new MirrorApplier.Transaction(batchLanding.applicationId(), batchLanding.version());
    long batch = transaction.version();
    describe(spark, batch, "survey");
    BatchSurvey survey = BatchSurvey.of(parsed);
    if (survey.records() == 0) {
      return;
    }
    Map<String, BinlogPosition> thresholds = landing.thresholds().current(spark);
    Dataset<Row> changes = parsed.filter(col("reason").isNull().and(col("op").isNotNull()));
    List<Callable<Optional<TableResult>>> tasks = new ArrayList<>();
    // Every batch commits to the raw log and the quarantine, so both record its offsets.
    String rawLocation = DeltaTables.ensure(spark, config, LakeTable.RAW_MYSQL_CHANGES);
    tasks.add(
        () -> {
          describe(spark, batch, "raw log append");
          batchLanding.append(raw(parsed), rawLocation);
          return Optional.empty();
        });
    // Before anything is written: changes of another server or binlog stop the whole batch.
    for (BatchSurvey.TableSurvey table : survey.tables()) {
      landing
          .continuity()
          .check(
              table.table(),
              Optional.ofNullable(thresholds.get(table.table().qualifiedName())),
              table.basenames(),
              table.serverIds());
    }
    List<Dataset<Row>> quarantined = new ArrayList<>();
    Map<String, BinlogPosition> newest = new HashMap<>();
    Map<SourceName, BinlogPosition> renamedAt =
        applyRenames(
            spark, survey, parsed, changes, thresholds, transaction, landing, quarantined, newest);
    for (BatchSurvey.TableSurvey table : survey.tables()) {
      Optional<BinlogPosition> threshold =
          Optional.ofNullable(thresholds.get(table.table().qualifiedName()));
      if (!table.hasChangesAfter(threshold)) {
        continue;
      }
      // A renamed table's changes up to the rename were applied before it, above.
      Dataset<Row> tableChanges =
          Optional.ofNullable(renamedAt.get(table.table()))
              .map(at -> tableChanges(changes, table).filter(ChangeEffects.newerThan(at)))
              .orElseGet(() -> tableChanges(changes, table));
      tasks.add(
          () -> {
            SparkSession session = landing.sessions().take(spark);
            try {
              SparkSession.setActiveSession(session);
              describe(spark, batch, "mirror " + table.table().qualifiedName());
              Optional<BinlogPosition> newestTableChange = Optional.empty();
              if (table.tableChanges() > 0) {
                newestTableChange =
                    landing
                        .applier()
                        .applyTableChanges(session, table.table(), tableChanges)
                        .newest();
              }
              MirrorApplier.Outcome rowOutcome =
                  landing
                      .applier()
                      .apply(
                          session,
                          table.table(),
                          tableChanges,
                          threshold,
                          table.columns(),
                          transaction);
              MirrorApplier.Outcome outcome =
                  new MirrorApplier.Outcome(
                      rowOutcome.quarantined(), later(rowOutcome.newest(), newestTableChange));
              landing.upkeep().wrote(landing.applier().mirrorLocation(table.table()));
              return Optional.of(new TableResult(table.table(), outcome));
            } finally {
              landing.sessions().give(session);
            }
          });
    }
    quarantined.add(QuarantineRows.of(parsed.filter(col("reason").isNotNull())));
    for (Optional<TableResult> result : runAll(spark, tasks)) {
      if (result.isPresent()) {
        SourceName written = result.get().table();
        CatalogNames.registerWritten(
            spark,
            config,
            MirrorApplier.MIRROR_ZONE,
            written.mirrorTableName(),
            landing.applier().mirrorLocation(written));
        result.get().outcome().quarantined().ifPresent(quarantined::add);
        result
            .get()
            .outcome()
            .newest()
            .ifPresent(position -> advance(newest, result.get().table(), position));
      }
    }
    describe(spark, batch, "quarantine append");
    batchLanding.append(
        quarantined.stream().reduce(Dataset::unionByName).orElseThrow(),
        DeltaTables.ensure(spark, config, LakeTable.RAW_CDC_QUARANTINE));
    // Last: a table's position moves only after its mirror has the changes up to it.
    describe(spark, batch, "positions");
    landing.thresholds().advance(spark, newest, transaction);
    spark.sparkContext().setJobDescription(null);
  }

  private record TableResult(SourceName table, MirrorApplier.Outcome outcome) {}

  /**
   * Applies the batch's renames (DDL relay records) in binlog order, one at a time, before the
   * tables' changes: first the changes up to its rename of each table a rename involves (a former
   * name's are part of what the rename carries over; a new name's belong to the table that had the
   * name before, and a drop among them retires it), then the renames. Returns for each such table
   * the position up to which its changes were applied; the rest are applied with the other tables.
   * With one rename per name and batch (the cut-over renames each name once), this is binlog order
   * across the tables.
   *
   * <p>Renames that waited (see {@link MirrorApplier#WAITING_RENAME}) on the mirror of a name this
   * batch renames away or drops are applied with them.
   */
  private static Map<SourceName, BinlogPosition> applyRenames(
      SparkSession spark,
      BatchSurvey survey,
      Dataset<Row> parsed,
      Dataset<Row> changes,
      Map<String, BinlogPosition> thresholds,
      MirrorApplier.Transaction transaction,
      Landing landing,
      List<Dataset<Row>> quarantined,
      Map<String, BinlogPosition> newest) {
    List<MirrorApplier.Rename> read =
        survey.renames() == 0 ? List.of() : MirrorApplier.renames(parsed);
    // Names whose mirror may hold renames waiting for them to go: renamed away or dropped here.
    Set<SourceName> leaving = new HashSet<>();
    read.forEach(rename -> leaving.add(rename.from()));
    survey.tables().stream()
        .filter(table -> table.tableChanges() > 0)
        .forEach(table -> leaving.add(table.table()));
    if (leaving.isEmpty()) {
      return Map.of();
    }
    MirrorApplier applier = landing.applier();
    List<MirrorApplier.Rename> renames = applier.withWaiting(spark, read, leaving);
    if (renames.isEmpty()) {
      return Map.of();
    }
    describe(spark, transaction.version(), "renames");
    applier.expect(renames);
    Map<SourceName, BinlogPosition> renamedAt = new LinkedHashMap<>();
    Set<SourceName> renamedAway = new HashSet<>();
    for (MirrorApplier.Rename rename : renames) {
      renamedAt.putIfAbsent(rename.from(), rename.at());
      renamedAt.putIfAbsent(rename.to(), rename.at());
      renamedAway.add(rename.from());
    }
    Map<SourceName, BatchSurvey.TableSurvey> surveyed = new HashMap<>();
    survey.tables().forEach(table -> surveyed.put(table.table(), table));
    // Its own MERGE key: the table's changes after the rename are merged again in this batch.
    MirrorApplier.Transaction beforeRename =
        new MirrorApplier.Transaction(
            transaction.applicationId() + ":before-rename", transaction.version());
    MirrorApplier.Transaction replayBeforeRename =
        new MirrorApplier.Transaction(
            transaction.applicationId() + ":replay-before-rename", transaction.version());
    for (Map.Entry<SourceName, BinlogPosition> renamed : renamedAt.entrySet()) {
      SourceName name = renamed.getKey();
      BinlogPosition at = renamed.getValue();
      Optional<BinlogPosition> threshold =
          Optional.ofNullable(thresholds.get(name.qualifiedName()));
      boolean pending =
          renamedAway.contains(name)
              && renames.stream()
                  .filter(rename -> rename.from().equals(name))
                  .anyMatch(rename -> !applier.isApplied(spark, rename));
      if (pending) {
        // Rows of the former name that an earlier batch read before this rename, once the name was
        // gone from the source: quarantined as source_table_unknown, they belong to it.
        MirrorApplier.Outcome replayed =
            applier.replayQuarantined(
                spark,
                name,
                Set.of(MirrorApplier.SOURCE_TABLE_UNKNOWN),
                ChangeEffects.newerThan(at).unary_$bang(),
                replayBeforeRename);
        replayed.quarantined().ifPresent(quarantined::add);
        replayed.newest().ifPresent(position -> advance(newest, name, position));
      }
      BatchSurvey.TableSurvey table = surveyed.get(name);
      if (table == null) {
        continue;
      }
      Dataset<Row> before =
          tableChanges(changes, table).filter(ChangeEffects.newerThan(at).unary_$bang());
      Optional<BinlogPosition> newestTableChange = Optional.empty();
      if (table.tableChanges() > 0) {
        newestTableChange = applier.applyTableChanges(spark, name, before).newest();
      }
      MirrorApplier.Outcome outcome =
          applier.apply(spark, name, before, threshold, table.columns(), beforeRename);
      outcome.quarantined().ifPresent(quarantined::add);
      later(outcome.newest(), newestTableChange)
          .ifPresent(position -> advance(newest, name, position));
    }
    for (MirrorApplier.Rename rename : renames) {
      MirrorApplier.RenameOutcome outcome = applier.applyRename(spark, rename);
      if (outcome.wrote()) {
        landing.upkeep().wrote(applier.mirrorLocation(rename.to()));
      }
      outcome.replayed().quarantined().ifPresent(quarantined::add);
      outcome.replayed().newest().ifPresent(position -> advance(newest, rename.to(), position));
    }
    return renamedAt;
  }

  private static void advance(
      Map<String, BinlogPosition> newest, SourceName table, BinlogPosition position) {
    newest.merge(table.qualifiedName(), position, (one, other) -> later(one, other));
  }

  private static BinlogPosition later(BinlogPosition one, BinlogPosition other) {
    return one.compareTo(other) >= 0 ? one : other;
  }

  private static Dataset<Row> tableChanges(Dataset<Row> changes, BatchSurvey.TableSurvey table) {
    return changes.filter(
        col("source_database")
            .equalTo(table.table().database())
            .and(col("source_table").equalTo(table.table().table())));
  }

  private static Optional<BinlogPosition> later(
      Optional<BinlogPosition> one, Optional<BinlogPosition> other) {
    if (one.isEmpty() || other.isEmpty()) {
      return one.isEmpty() ? other : one;
    }
    return one.get().compareTo(other.get()) >= 0 ? one : other;
  }

  /** Runs the tasks, in parallel where the cores allow; the first failure fails the batch. */
  private static <T> List<T> runAll(SparkSession spark, List<Callable<T>> tasks) {
    int threads =
        Math.min(
            tasks.size(),
            Math.min(MAX_PARALLEL_TABLES, Math.max(2, spark.sparkContext().defaultParallelism())));
    if (threads <= 1) {
      List<T> results = new ArrayList<>();
      for (Callable<T> task : tasks) {
        results.add(call(task));
      }
      return results;
    }
    // Threads of this batch: they inherit the batch's Spark job properties.
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<T>> futures = new ArrayList<>();
      for (Callable<T> task : tasks) {
        futures.add(pool.submit(task));
      }
      List<T> results = new ArrayList<>();
      for (Future<T> future : futures) {
        try {
          results.add(future.get());
        } catch (ExecutionException e) {
          for (Future<T> other : futures) {
            other.cancel(true);
          }
          throw rethrow(e.getCause());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new LakeException(
              ErrorCode.STREAMING_QUERY_FAILED, "Interrupted while landing a CDC batch", e);
        }
      }
      return results;
    } finally {
      pool.shutdownNow();
    }
  }

  private static <T> T call(Callable<T> task) {
    try {
      return task.call();
    } catch (Exception e) {
      throw rethrow(e);
    }
  }

  private static RuntimeException rethrow(Throwable error) {
    if (error instanceof RuntimeException runtime) {
      throw runtime;
    }
    if (error instanceof Error fatal) {
      throw fatal;
    }
    throw new LakeException(
        ErrorCode.STREAMING_QUERY_FAILED, "A CDC batch failed: " + error.getMessage(), error);
  }

  private static void describe(SparkSession spark, long batch, String step) {
    spark.sparkContext().setJobDescription("cdc batch " + batch + ": " + step);
  }

  private static Dataset<Row> raw(Dataset<Row> parsed) {
    return parsed
        .filter(col("source_database").isNotNull())
        .select(
            col("source_database"),
            col("source_table"),
            col("type"),
            col("op"),
            col("binlog_file"),
            col("binlog_position"),
            col("xoffset"),
            col("xid"),
            col("commit"),
            col("server_id"),
            col("committed_at"),
            col("primary_key"),
            col("data"),
            col("old"),
            col("source_topic"),
            col("source_partition"),
            col("source_offset"),
            col("received_at"),
            current_timestamp().as("landed_at"),
            to_date(coalesce(col("committed_at"), col("received_at"), current_timestamp()))
                .as("change_date"));
  }
}
