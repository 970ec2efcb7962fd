package io.lambdalake.ingestion.cdc.bench;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.from_json;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.config.LakeConfigLoader;
import io.lambdalake.common.kafka.KafkaClientProperties;
import io.lambdalake.ingestion.cdc.CdcJob;
import io.lambdalake.ingestion.cdc.MaxwellIngestion;
import io.lambdalake.spark.LakeSpark;
import java.io.PrintStream;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * {@code scripts/bench cdc}: (1) CHANGES Maxwell-format changes (inserts, updates, deletes over 10
 * tables, keys skewed: a few keys take most changes) on Kafka, applied by {@code lake cdc
 * --available-now} to the mirrors; (2) the baseline, a plain Spark read of the same records, JSON
 * parse and Delta append; (3) lag: a steady load of real MariaDB transactions through Maxwell while
 * {@code lake cdc} runs, each row timed from its commit to its visibility in the mirror. Prints
 * {@code cdc: changes_per_s=N append_rows_per_s=M ratio=N/M lag_p95_s=L} last. Arguments: CHANGES
 * LAG_SECONDS RATE BATCH (the catch-up's records per micro-batch, default 250,000).
 */
public final class CdcBenchmark {
  private static final int TABLES = 10;
  private static final long KEYS = 200_000;

  /** Records per micro-batch: the catch-up's unless given, and always the lag phase's. */
  private static final long BATCH_RECORDS = 250_000;

  private CdcBenchmark() {}

  public static void main(String[] arguments) throws Exception {
    long changes = arguments.length > 0 ? Long.parseLong(arguments[0]) : 1_000_000;
    int lagSeconds = arguments.length > 1 ? Integer.parseInt(arguments[1]) : 60;
    int rate = arguments.length > 2 ? Integer.parseInt(arguments[2]) : 20;
    // lake cdc --max-records-per-batch for the catch-up: fewer, larger batches pay each table's
    // fixed cost (a MERGE and a state rebuild per mirror) fewer times.
    long batchRecords = arguments.length > 3 ? Long.parseLong(arguments[3]) : BATCH_RECORDS;
    LakeConfig config = LakeConfigLoader.load();
    String database = "bench_cdc_" + System.currentTimeMillis();
    PrintStream out = System.out;
    createTables(config, database);
    String binlogFile = syntheticBinlogFile(config);
    out.printf(
        "bench cdc: %d changes over %d tables of %s (binlog file %s), at most %d per batch%n",
        changes, TABLES, database, binlogFile, batchRecords);
    produce(config, database, changes, binlogFile);
    SparkSession spark = LakeSpark.session(config, "lambda-lake-bench-cdc");
    JobProfile profile = new JobProfile();
    spark.sparkContext().addSparkListener(profile);

    long started = System.nanoTime();
    CdcJob.run(
        spark,
        config,
        new CdcJob.Options(
            CdcJob.Sources.MAXWELL,
            CdcJob.Mode.AVAILABLE_NOW,
            Duration.ofSeconds(1),
            batchRecords,
            database,
            Duration.ofSeconds(30)),
        out);
    double projectSeconds = (System.nanoTime() - started) / 1e9;
    out.printf("project: %d changes applied in %.1f s%n", changes, projectSeconds);
    profile.printAndReset("project", out);

    started = System.nanoTime();
    long appended = baseline(spark, config, database);
    double baselineSeconds = (System.nanoTime() - started) / 1e9;
    out.printf("baseline: %d rows appended in %.1f s%n", appended, baselineSeconds);
    profile.printAndReset("baseline", out);

    double lagP95 = lag(spark, config, database, lagSeconds, rate, out);
    profile.printAndReset("lag (job and mirror polls)", out);
    double project = changes / projectSeconds;
    double baseline = appended / baselineSeconds;
    out.printf(
        "cdc: changes_per_s=%.0f append_rows_per_s=%.0f ratio=%.2f lag_p95_s=%.1f%n",
        project, baseline, project / baseline, lagP95);
    spark.stop();
  }

  private static Connection connect(LakeConfig config) throws SQLException {
    return DriverManager.getConnection(
        config.mariaDb().jdbcUrl(""), config.mariaDb().user(), config.mariaDb().password());
  }

  private static void createTables(LakeConfig config, String database) throws SQLException {
    try (Connection connection = connect(config);
        Statement statement = connection.createStatement()) {
      statement.execute("CREATE DATABASE " + database);
      for (int table = 0; table < TABLES; table++) {
        statement.execute(
            "CREATE TABLE "
                + database
                + ".t"
                + table
                + " (id BIGINT PRIMARY KEY, v INT,"
                + " name VARCHAR(40), amount DECIMAL(12,2), updated DATETIME(6))");
      }
    }
  }

  /**
   * The binlog file the generated changes claim to come from: one that sorts before the source's
   * real binlog, so that the lag phase's real changes (through Maxwell) are newer than every
   * generated one. With the real file's name the generated positions could pass the real ones, and
   * the job would rightly skip the real changes as older than what it already applied.
   */
  private static String syntheticBinlogFile(LakeConfig config) throws SQLException {
    try (Connection connection = connect(config);
        Statement statement = connection.createStatement();
        ResultSet status = statement.executeQuery("SHOW MASTER STATUS")) {
      String real = status.next() ? status.getString(1) : null;
      if (real == null || real.lastIndexOf('.') < 1) {
        return "mariadb-bin.000000";
      }
      String base = real.substring(0, real.lastIndexOf('.'));
      return base + "." + "0".repeat(real.length() - base.length() - 1);
    }
  }

  /** Maxwell's JSON as it writes it, positions increasing, keys skewed (u^3 over the key space). */
  private static void produce(LakeConfig config, String database, long changes, String binlogFile) {
    Random random = new Random(7);
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(KafkaClientProperties.producer(config.kafka(), "bench-cdc"))) {
      for (long sequence = 0; sequence < changes; sequence++) {
        int table = random.nextInt(TABLES);
        long key = (long) (KEYS * Math.pow(random.nextDouble(), 3));
        int dice = random.nextInt(10);
        String type = dice < 6 ? "insert" : dice < 9 ? "update" : "delete";
        String data =
            "{\"id\":"
                + key
                + ",\"v\":"
                + random.nextInt(1000)
                + ",\"name\":\"n"
                + sequence
                + "\",\"amount\":"
                + random.nextInt(100000) / 100.0
                + ",\"updated\":\"2026-11-22 "
                + "10:00:00."
                + String.format("%06d", sequence % 1_000_000)
                + "\"}";
        String json =
            "{\"database\":\""
                + database
                + "\",\"table\":\"t"
                + table
                + "\",\"type\":\""
                + type
                + "\",\"ts\":1795300000,\"xid\":"
                + sequence
                + ",\"commit\":true,\"position\":"
                + "\""
                + binlogFile
                + ":"
                + (4 + sequence * 10)
                + "\",\"server_id\":101,\"data\":"
                + data
                + (type.equals("update") ? ",\"old\":{\"v\":0}" : "")
                + "}";
        producer.send(
            new ProducerRecord<>(
                config.topics().maxwellTopic(database, "t" + table),
                database.getBytes(UTF_8),
                json.getBytes(UTF_8)));
      }
      producer.flush();
    }
  }

  private static long baseline(SparkSession spark, LakeConfig config, String database) {
    String target = config.storage().tableLocation("bench", database + "_plain_append");
    StructType data =
        new StructType()
            .add("id", DataTypes.LongType)
            .add("v", DataTypes.IntegerType)
            .add("name", DataTypes.StringType)
            .add("amount", DataTypes.createDecimalType(12, 2))
            .add("updated", DataTypes.StringType);
    StructType wire =
        new StructType()
            .add("database", DataTypes.StringType)
            .add("table", DataTypes.StringType)
            .add("type", DataTypes.StringType)
            .add("position", DataTypes.StringType)
            .add("data", data);
    spark
        .read()
        .format("kafka")
        .options(KafkaClientProperties.sparkOptions(config.kafka()))
        .option("subscribePattern", MaxwellIngestion.topicPattern(config, database))
        .option("startingOffsets", "earliest")
        .load()
        .select(from_json(col("value").cast("string"), wire).as("change"))
        .select(
            "change.database", "change.table", "change.type", "change.position", "change.data.*")
        .write()
        .format("delta")
        .mode(SaveMode.Overwrite)
        .save(target);
    return spark.read().format("delta").load(target).count();
  }

  /** The newest commit version in a Delta table's log, or -1 when it has none yet. */
  private static long latestVersion(SparkSession spark, String location) throws Exception {
    Path log = new Path(location, "_delta_log");
    FileSystem fileSystem = log.getFileSystem(spark.sessionState().newHadoopConf());
    if (!fileSystem.exists(log)) {
      return -1;
    }
    long newest = -1;
    for (FileStatus file : fileSystem.listStatus(log)) {
      String name = file.getPath().getName();
      if (name.matches("[0-9]{20}\\.json")) {
        newest = Math.max(newest, Long.parseLong(name.substring(0, 20)));
      }
    }
    return newest;
  }

  /** Source commit to mirror visibility under a steady load, p95 in seconds. */
  private static double lag(
      SparkSession spark,
      LakeConfig config,
      String database,
      int seconds,
      int rate,
      PrintStream out)
      throws Exception {
    String mirror = config.storage().tableLocation("mirror", database + "__t0");
    Map<Long, Long> committed = new ConcurrentHashMap<>();
    AtomicBoolean loading = new AtomicBoolean(true);
    Thread job =
        new Thread(
            () ->
                CdcJob.run(
                    spark,
                    config,
                    new CdcJob.Options(
                        CdcJob.Sources.MAXWELL,
                        CdcJob.Mode.CONTINUOUS,
                        Duration.ofSeconds(1),
                        BATCH_RECORDS,
                        database,
                        Duration.ofSeconds(30)),
                    out),
            "bench-cdc-job");
    job.start();
    Thread loader =
        new Thread(
            () -> {
              try (Connection connection = connect(config);
                  PreparedStatement insert =
                      connection.prepareStatement(
                          "INSERT INTO "
                              + database
                              + ".t0 (id, v, name, amount, updated)"
                              + " VALUES (?, 1, 'lag', 1.00, NOW(6))")) {
                long sequence = 0;
                long end = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
                long interval = 1_000_000_000L / rate;
                long next = System.nanoTime();
                while (System.nanoTime() < end) {
                  insert.setLong(1, 1_000_000_000L + sequence);
                  insert.executeUpdate();
                  committed.put(1_000_000_000L + sequence, System.currentTimeMillis());
                  sequence++;
                  next += interval;
                  long wait = next - System.nanoTime();
                  if (wait > 0) {
                    LockSupport.parkNanos(wait);
                  }
                }
              } catch (SQLException e) {
                throw new IllegalStateException(e);
              } finally {
                loading.set(false);
              }
            },
            "bench-cdc-loader");
    loader.start();
    Map<Long, Long> visible = new HashMap<>();
    long deadline = System.currentTimeMillis() + (seconds + 180) * 1000L;
    long seenVersion = -1;
    while (System.currentTimeMillis() < deadline) {
      // A LIST of the mirror's log each poll; a Spark read only when it has a new commit, so that
      // the polls do not compete with the job for the 2 cores.
      long version = latestVersion(spark, mirror);
      if (version > seenVersion) {
        seenVersion = version;
        long now = System.currentTimeMillis();
        for (Row row :
            spark
                .read()
                .format("delta")
                .load(mirror)
                .filter(col("id").geq(1_000_000_000L))
                .select("id")
                .collectAsList()) {
          visible.putIfAbsent(row.getLong(0), now);
        }
      }
      if (!loading.get() && visible.size() >= committed.size()) {
        break;
      }
      LockSupport.parkNanos(Duration.ofMillis(500).toNanos());
    }
    for (StreamingQuery query : spark.streams().active()) {
      query.stop();
    }
    job.join(Duration.ofMinutes(2).toMillis());
    // A row never seen counts with the time it waited until the end of the window: a lower bound.
    long end = System.currentTimeMillis();
    List<Double> lags = new ArrayList<>();
    committed.forEach((id, at) -> lags.add((visible.getOrDefault(id, end) - at) / 1000.0));
    Collections.sort(lags);
    out.printf(
        "lag: %d rows at %d/s for %d s, %d visible in the window (the others count as lower"
            + " bounds), p50 %.1f s%n",
        committed.size(), rate, seconds, visible.size(), lags.get(lags.size() / 2));
    return lags.get((int) Math.ceil(lags.size() * 0.95) - 1);
  }
}
