package io.lambdalake.ingestion.cdc;

import static java.util.Objects.requireNonNull;
import static org.apache.spark.sql.functions.col;

import io.delta.tables.DeltaTable;
import io.lambdalake.common.cdc.ChangeEnvelope.SourceName;
import io.lambdalake.common.config.Durations;
import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.common.launch.Launcher;
import io.lambdalake.common.table.LakeTable;
import io.lambdalake.ingestion.cdc.internal.CdcPositions;
import io.lambdalake.ingestion.cdc.internal.MirrorApplier;
import io.lambdalake.ingestion.landing.LandingStream;
import io.lambdalake.ingestion.landing.internal.KafkaEnds;
import io.lambdalake.ingestion.landing.internal.LandedBatch;
import io.lambdalake.spark.DeltaTables;
import io.lambdalake.spark.KafkaCheckpoints;
import io.lambdalake.spark.LakeSpark;
import io.lambdalake.spark.StreamingRun;
import io.lambdalake.spark.cdc.CdcLease;
import io.lambdalake.spark.cdc.ParsedChanges;
import io.lambdalake.spark.cdc.SourceSchemas;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import java.util.stream.Collectors;
import org.apache.kafka.common.TopicPartition;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.apache.spark.sql.streaming.Trigger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code lake cdc}: MySQL/MariaDB changes from Maxwell's topics into raw.mysql_changes and the
 * mirror tables, exactly once; and {@link #resync}, which rebuilds one mirror from the change log.
 */
public final class CdcJob {
  private static final Logger LOG = LoggerFactory.getLogger(CdcJob.class);

  private CdcJob() {}

  public enum Mode {
    CONTINUOUS,
    AVAILABLE_NOW
  }

  /** Which sources the job follows: Maxwell's topics, the MongoDB connector's, or both. */
  public enum Sources {
    ALL,
    MAXWELL,
    MONGO
  }

  /**
   * @param databases a regular expression of the source databases to follow
   * @param resetFrom discard the streams' checkpoints and start from the tables' recorded offsets
   *     or from Kafka's earliest (see {@link LandingStream.ResetFrom})
   */
  public record Options(
      Sources sources,
      Mode mode,
      Duration triggerInterval,
      long maxRecordsPerBatch,
      String databases,
      Duration progressInterval,
      Optional<LandingStream.ResetFrom> resetFrom) {
    public Options {
      requireNonNull(sources, "sources is null");
      requireNonNull(mode, "mode is null");
      Durations.requirePositive(triggerInterval, "triggerInterval");
      if (maxRecordsPerBatch < 1) {
        throw new LakeException(
            ErrorCode.INVALID_ARGUMENT,
            "maxRecordsPerBatch must be positive, but is " + maxRecordsPerBatch);
      }
      requireNonNull(databases, "databases is null");
      try {
        Pattern.compile(databases);
      } catch (PatternSyntaxException e) {
        throw new LakeException(
            ErrorCode.INVALID_ARGUMENT,
            "--databases is not a regular expression: " + e.getDescription(),
            e);
      }
      Durations.requirePositive(progressInterval, "progressInterval");
      requireNonNull(resetFrom, "resetFrom is null");
    }

    /** Options that keep the checkpoints. */
    public Options(
        Sources sources,
        Mode mode,
        Duration triggerInterval,
        long maxRecordsPerBatch,
        String databases,
        Duration progressInterval) {
      this(
          sources,
          mode,
          triggerInterval,
          maxRecordsPerBatch,
          databases,
          progressInterval,
          Optional.empty());
    }

    public static Options defaults() {
      return new Options(
          Sources.ALL,
          Mode.CONTINUOUS,
          Duration.ofSeconds(2),
          200_000,
          "[^.]+",
          Duration.ofSeconds(10));
    }

    /** These options with a reset of the checkpoints. */
    public Options withResetFrom(LandingStream.ResetFrom reset) {
      return new Options(
          sources,
          mode,
          triggerInterval,
          maxRecordsPerBatch,
          databases,
          progressInterval,
          Optional.of(reset));
    }
  }

  /** For spark-submit: the same arguments as {@code lake cdc}. */
  public static void main(String[] arguments) {
    System.exit(Launcher.run(new CdcCommand(), arguments));
  }

  static void runWithOwnSession(LakeConfig config, Options options) {
    run(LakeSpark.session(config, "lambda-lake-cdc"), config, options, System.out);
  }

  /** Runs the streams: until stopped, or in AVAILABLE_NOW over what Kafka holds now. */
  public static void run(
      SparkSession spark, LakeConfig config, Options options, PrintStream progress) {
    requireNonNull(spark, "spark is null");
    requireNonNull(config, "config is null");
    requireNonNull(options, "options is null");
    List<LandingStream.Source> sources = new ArrayList<>();
    if (options.sources() != Sources.MONGO) {
      sources.add(
          MaxwellIngestion.source(config, options.databases(), options.maxRecordsPerBatch()));
    }
    if (options.sources() != Sources.MAXWELL) {
      sources.add(MongoIngestion.source(config, options.databases(), options.maxRecordsPerBatch()));
    }
    Trigger trigger =
        options.mode() == Mode.AVAILABLE_NOW
            ? Trigger.AvailableNow()
            : Trigger.ProcessingTime(options.triggerInterval().toMillis());
    List<StreamingQuery> queries = new ArrayList<>();
    // Held while the streams run: a snapshot import into a mirror they write is refused.
    List<CdcLease> leases = new ArrayList<>();
    try {
      for (LandingStream.Source source : sources) {
        leases.add(
            CdcLease.hold(
                spark.sessionState().newHadoopConf(),
                config.storage(),
                source.name(),
                options.databases()));
      }
      for (LandingStream.Source source : sources) {
        Optional<LandingStream.ResetFrom> resetFrom = options.resetFrom();
        if (resetFrom.isEmpty() && followedTopicsChanged(spark, config, source, progress)) {
          resetFrom = Optional.of(LandingStream.ResetFrom.TABLE);
        }
        queries.add(LandingStream.start(spark, config, source, trigger, resetFrom));
      }
      new StreamingRun(queries, options.progressInterval(), progress).awaitAll();
    } catch (TimeoutException e) {
      throw new LakeException(
          ErrorCode.STREAMING_QUERY_FAILED, "A CDC query did not start: " + e.getMessage(), e);
    } finally {
      StreamingRun.stopAll(queries);
      leases.forEach(CdcLease::close);
    }
  }

  /**
   * Whether the topics the stream follows changed since its checkpoint (`--databases` widened or
   * narrowed). Either way the checkpoint is discarded and the stream resumes from the offsets its
   * tables recorded, for the topics it follows now: a topic followed before, dropped, and followed
   * again goes on from the offsets the tables last recorded for it rather than from its beginning.
   */
  static boolean followedTopicsChanged(
      SparkSession spark, LakeConfig config, LandingStream.Source source, PrintStream progress) {
    if (!noLongerFollowed(spark, config, source, progress).isEmpty()) {
      return true;
    }
    String checkpoint = config.storage().checkpointLocation(source.name());
    Set<String> read =
        KafkaCheckpoints.lastOffsets(spark.sessionState().newHadoopConf(), checkpoint)
            .keySet()
            .stream()
            .map(TopicPartition::topic)
            .collect(Collectors.toSet());
    if (read.isEmpty()) {
      return false;
    }
    Set<TopicPartition> unread =
        KafkaEnds.of(config.kafka(), source.topicPattern()).keySet().stream()
            .filter(partition -> !read.contains(partition.topic()))
            .collect(Collectors.toSet());
    // A topic the tables never recorded (a table created since, or a database never followed)
    // needs no reset: Spark reads a partition new to the checkpoint from its beginning. Only a
    // topic followed before, dropped and followed again would be read twice that way.
    Set<String> added =
        LandedBatch.recorded(
                spark.sessionState().newHadoopConf(),
                source.appendOnlyTables().get(0),
                source.name(),
                unread)
            .keySet()
            .stream()
            .map(TopicPartition::topic)
            .collect(Collectors.toCollection(TreeSet::new));
    if (added.isEmpty()) {
      return false;
    }
    String message =
        "cdc "
            + source.name()
            + ": follows again "
            + String.join(", ", added)
            + "; each goes on from the offsets the tables last recorded for it";
    LOG.warn("{}", message);
    progress.println(message);
    progress.flush();
    return true;
  }

  /**
   * The topics the stream's checkpoint has read that its topic pattern no longer matches: `lake cdc
   * --databases` was narrowed. Spark would take them for deleted topics and stop ("Some data may
   * have been lost"), so such a checkpoint is discarded and the stream resumes from the offsets its
   * tables recorded ({@link LandingStream.ResetFrom#TABLE}), of the followed topics only: the
   * tables hold every change read before, and the dropped topics are no longer read. Says so on the
   * progress stream and in the log.
   */
  static Set<String> noLongerFollowed(
      SparkSession spark, LakeConfig config, LandingStream.Source source, PrintStream progress) {
    String checkpoint = config.storage().checkpointLocation(source.name());
    Pattern followed = Pattern.compile(source.topicPattern());
    Set<String> dropped =
        KafkaCheckpoints.lastOffsets(spark.sessionState().newHadoopConf(), checkpoint)
            .keySet()
            .stream()
            .map(TopicPartition::topic)
            .filter(topic -> !followed.matcher(topic).matches())
            .collect(Collectors.toCollection(TreeSet::new));
    if (!dropped.isEmpty()) {
      String message =
          "cdc "
              + source.name()
              + ": no longer follows "
              + String.join(", ", dropped)
              + " (not matched by --databases any more); their mirrors keep what was applied and"
              + " stop changing. Resuming the followed topics from the offsets the tables"
              + " recorded, with a new checkpoint";
      LOG.warn("{}", message);
      progress.println(message);
      progress.flush();
    }
    return dropped;
  }

  /**
   * Rebuilds the mirror of one source table from raw.mysql_changes: empties it, then applies the
   * whole change log in binlog order. Run it while {@code lake cdc} is stopped (one writer per
   * table). Returns the number of rows the mirror has afterwards.
   */
  public static long resync(
      SparkSession spark, LakeConfig config, SourceName table, PrintStream progress) {
    String log = LakeTable.RAW_MYSQL_CHANGES.location(config.storage());
    if (!DeltaTables.exists(spark, log)) {
      throw new LakeException(
          ErrorCode.INVALID_ARGUMENT,
          "There is no change log at " + log + " yet: run lake cdc first");
    }
    Dataset<Row> raw =
        spark
            .read()
            .format("delta")
            .load(log)
            .filter(
                col("source_database")
                    .equalTo(table.database())
                    .and(col("source_table").equalTo(table.table())));
    Dataset<Row> parsed =
        raw.mapPartitions(ParsedChanges.fromRawLog(), Encoders.row(ParsedChanges.SCHEMA))
            .filter(col("reason").isNull().and(col("op").isNotNull()))
            .cache();
    try {
      long changes = parsed.count();
      if (changes == 0) {
        throw new LakeException(
            ErrorCode.INVALID_ARGUMENT,
            "The change log has no changes of "
                + table.qualifiedName()
                + ": check the name (<database>.<table>)");
      }
      MirrorApplier applier =
          new MirrorApplier(config.storage(), new SourceSchemas(config.mariaDb()));
      String location = applier.mirrorLocation(table);
      if (DeltaTables.exists(spark, location)) {
        DeltaTable.forPath(spark, location).delete();
      }
      if (CdcPositions.snapshots(spark, config).containsKey(table.qualifiedName())) {
        progress.printf(
            "warning: %s was loaded by a snapshot import; rows only the import carried are not in"
                + " the change log, so run the import again after this resync%n",
            table.qualifiedName());
      }
      progress.printf(
          "resync %s: applying %d changes from %s%n", table.qualifiedName(), changes, log);
      MirrorApplier.Outcome outcome =
          applier.apply(
              spark,
              table,
              parsed,
              Optional.empty(),
              new MirrorApplier.Transaction("lambda-lake-cdc-resync:" + UUID.randomUUID(), 0));
      long quarantined = outcome.quarantined().map(Dataset::count).orElse(0L);
      long rows = spark.read().format("delta").load(location).count();
      progress.printf(
          "resync %s: mirror has %d rows (%d changes could not be applied; lake cdc quarantined"
              + " them when they arrived)%n",
          table.qualifiedName(), rows, quarantined);
      progress.flush();
      return rows;
    } finally {
      parsed.unpersist();
    }
  }
}
