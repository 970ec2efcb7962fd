package io.lambdalake.batch.bench;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.element_at;
import static org.apache.spark.sql.functions.expr;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.when;

import io.lambdalake.batch.BatchJob;
import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.config.LakeConfigLoader;
import io.lambdalake.common.table.LakeTable;
import io.lambdalake.spark.DeltaTables;
import io.lambdalake.spark.LakeSpark;
import io.lambdalake.spark.views.HourlyViews;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Date;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.LocalDate;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;

/**
 * {@code scripts/bench batch}: one day of generated events in {@code raw.events}, the batch job's
 * recompute of all its views for that day, and in the same run the same aggregates by DuckDB over
 * the same Parquet files (copied out of S3 first, untimed), as the single-machine reference.
 *
 * <p>Arguments: the events of the day, then optionally more sizes (e.g. {@code 10000000 20000000
 * 40000000}) to see how the time grows; each size is its own day. The last line summarises the
 * first size: {@code batch: events=N seconds=S duckdb_seconds=D ratio=S/D events_per_s=E}.
 */
public final class BatchBenchmark {
  private static final LocalDate FIRST_DAY = LocalDate.parse("2026-10-01");
  private static final int MERCHANTS = 2_000;
  private static final int EVENTS_PER_SESSION = 5;

  private BatchBenchmark() {}

  public static void main(String[] arguments) throws Exception {
    List<Long> sizes = Stream.of(arguments).map(Long::parseLong).toList();
    if (sizes.isEmpty()) {
      sizes = List.of(10_000_000L);
    }
    LakeConfig config = LakeConfigLoader.load();
    SparkSession spark = LakeSpark.session(config, "lambda-lake-bench-batch");
    PrintStream progress = System.err;
    String first = null;
    for (int index = 0; index < sizes.size(); index++) {
      long events = sizes.get(index);
      LocalDate day = FIRST_DAY.plusDays(index);
      progress.printf(
          "bench batch: generating %,d events for %s into raw.events ...%n", events, day);
      generate(spark, config, day, events);

      progress.printf("bench batch: the batch job recomputes %s ...%n", day);
      long started = System.nanoTime();
      BatchJob.run(
          spark,
          config,
          new BatchJob.Options(day, day, "bench", HourlyViews.BotPolicy.EXCLUDE_BOTS),
          progress,
          Clock.systemUTC());
      double seconds = (System.nanoTime() - started) / 1e9;

      Path parquet = copyDay(spark, config, day);
      progress.printf("bench batch: DuckDB computes the same aggregates over %s ...%n", parquet);
      double duckdbSeconds = duckdb(parquet);
      deleteRecursively(parquet);

      String line =
          String.format(
              "batch: events=%d seconds=%.1f duckdb_seconds=%.1f ratio=%.2f events_per_s=%.0f",
              events, seconds, duckdbSeconds, seconds / duckdbSeconds, events / seconds);
      System.out.println("size " + (index + 1) + ": " + line);
      System.out.flush();
      if (first == null) {
        first = line;
      }
    }
    spark.stop();
    System.out.println(first);
  }

  /**
   * One day of events, written straight into raw.events: merchants skewed (a few carry most of the
   * traffic), visitors coming back in several sessions, page paths with a popular head, purchases,
   * some crawler sessions. Deterministic: the same size gives the same rows.
   */
  static void generate(SparkSession spark, LakeConfig config, LocalDate day, long events) {
    long sessions = Math.max(1, events / EVENTS_PER_SESSION);
    Column session = col("id").divide(EVENTS_PER_SESSION).cast("long");
    Column step = col("id").mod(EVENTS_PER_SESSION);
    // Uniform numbers in [0, 1) derived from the session or the event, by hashing.
    Column sessionRandom = expr("pmod(xxhash64(session, 'r'), 1000003) / 1000003.0");
    Column sessionRandom2 = expr("pmod(xxhash64(session, 's'), 1000003) / 1000003.0");
    Column eventRandom = expr("pmod(xxhash64(id, 'e'), 1000003) / 1000003.0");
    Dataset<Row> rows =
        spark
            .range(events)
            .withColumn("session", session)
            .withColumn("step", step)
            .withColumn(
                "merchant",
                expr(
                    "cast(pow(pmod(xxhash64(session, 'm'), 1000003) / 1000003.0, 4) * "
                        + MERCHANTS
                        + " as int)"))
            .withColumn(
                "visitor", expr("pmod(xxhash64(session, 'v'), " + Math.max(1, sessions / 2) + ")"))
            .withColumn("session_random", sessionRandom)
            .withColumn("session_random2", sessionRandom2)
            .withColumn("event_random", eventRandom)
            .withColumn(
                "event_time",
                expr(
                    "timestamp_seconds("
                        + day.toEpochDay() * 86_400
                        + " + cast(session_random * 84000 as long) + step * 90 + cast(event_random * 60 as long))"))
            .withColumn(
                "event_name",
                when(step.lt(EVENTS_PER_SESSION - 1), lit("page_view"))
                    .when(col("event_random").lt(0.06), lit("purchase"))
                    .when(col("event_random").lt(0.5), lit("add_to_cart"))
                    .otherwise(lit("scroll")));
    Column trackingId = expr("concat('LL-', lpad(cast(merchant as string), 5, '0'))");
    Column page =
        concat(
            lit("https://shop"),
            col("merchant").cast("string"),
            lit(".example/p/"),
            expr("cast(cast(pow(event_random, 3) * 400 as int) as string)"),
            when(col("event_random").lt(0.2), lit("?ref=mail")).otherwise(lit("")));
    Column bot = col("session_random2").lt(0.02);
    Dataset<Row> raw =
        rows.select(
            expr("concat('bench-', cast(id as string))").as("event_id"),
            trackingId.as("tracking_id"),
            col("event_name"),
            col("event_time"),
            expr("event_time + interval 1 second").as("received_at"),
            expr("concat('c-', cast(visitor as string))").as("client_id"),
            when(col("session_random2").lt(0.3), expr("concat('u-', cast(visitor as string))"))
                .as("user_id"),
            expr("concat('s-', cast(session as string))").as("session_id"),
            when(col("event_name").equalTo("page_view"), page).as("page_url"),
            when(step.equalTo(0), lit("https://www.google.com/")).as("referrer"),
            lit("Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0 Safari/537.36").as("user_agent"),
            lit("203.0.113.7").as("client_ip"),
            expr("map('step', cast(step as string))").as("params"),
            when(
                    col("event_name").equalTo("purchase"),
                    expr("cast(5 + event_random * 200 as decimal(18,4))"))
                .as("value"),
            when(
                    col("event_name").equalTo("purchase"),
                    when(col("merchant").mod(3).equalTo(0), lit("USD")).otherwise(lit("EUR")))
                .as("currency"),
            element_at(
                    expr("array('Chrome', 'Safari', 'Firefox', 'Edge')"),
                    expr("cast(session_random2 * 4 as int) + 1"))
                .as("browser"),
            lit("130").as("browser_version"),
            element_at(
                    expr("array('Windows', 'macOS', 'Android', 'iOS')"),
                    expr("cast(session_random * 4 as int) + 1"))
                .as("os"),
            when(bot, lit("Robot"))
                .when(col("session_random").lt(0.55), lit("Phone"))
                .otherwise(lit("Desktop"))
                .as("device_class"),
            bot.as("is_bot"),
            element_at(
                    expr("array('google', '(direct)', 'newsletter', 'facebook', 'bing')"),
                    expr("cast(session_random2 * 5 as int) + 1"))
                .as("traffic_source"),
            element_at(
                    expr("array('organic', '(none)', 'email', 'social', 'cpc')"),
                    expr("cast(session_random2 * 5 as int) + 1"))
                .as("traffic_medium"),
            when(col("session_random").lt(0.1), lit("black-friday")).as("traffic_campaign"),
            lit("bench.events").as("source_topic"),
            expr("cast(pmod(session, 8) as int)").as("source_partition"),
            col("id").as("source_offset"),
            expr("event_time + interval 2 seconds").as("landed_at"),
            lit(Date.valueOf(day)).as("event_date"));
    StructType schema = StructType.fromDDL(LakeTable.RAW_EVENTS.columns());
    String location = DeltaTables.ensure(spark, config, LakeTable.RAW_EVENTS);
    spark
        .createDataFrame(raw.rdd(), schema)
        .write()
        .format("delta")
        // raw.events is append-only; each run of the benchmark has a lake of its own.
        .mode("append")
        .save(location);
  }

  /** The day's Parquet files of raw.events, copied from S3 to a local folder for DuckDB. */
  static Path copyDay(SparkSession spark, LakeConfig config, LocalDate day) throws IOException {
    String location = LakeTable.RAW_EVENTS.location(config.storage());
    String[] files =
        spark
            .read()
            .format("delta")
            .load(location)
            .filter(col("event_date").equalTo(day.toString()))
            .inputFiles();
    Path target = Files.createTempDirectory("bench-batch-");
    FileSystem fileSystem =
        FileSystem.get(URI.create(location), spark.sparkContext().hadoopConfiguration());
    // The partition value lives in the folder name, as in the table: event_date=.../part.parquet.
    Path partition = Files.createDirectories(target.resolve("event_date=" + day));
    int index = 0;
    for (String file : files) {
      fileSystem.copyToLocalFile(
          new org.apache.hadoop.fs.Path(file),
          new org.apache.hadoop.fs.Path(
              partition.resolve("part-" + index++ + ".parquet").toString()));
    }
    return target;
  }

  /** The batch views' aggregates in DuckDB, each written to Parquet; returns the seconds taken. */
  static double duckdb(Path input) throws SQLException, IOException {
    Path output = Files.createTempDirectory("bench-batch-duckdb-");
    String source = input.resolve("*").resolve("*.parquet").toString();
    String sql =
        new String(
                BatchBenchmark.class.getResourceAsStream("duckdb-views.sql").readAllBytes(),
                StandardCharsets.UTF_8)
            .replace("${input}", source)
            .replace("${output}", output.toString());
    long started = System.nanoTime();
    try (Connection connection = DriverManager.getConnection("jdbc:duckdb:");
        Statement statement = connection.createStatement()) {
      statement.execute("SET threads = " + Runtime.getRuntime().availableProcessors());
      // DuckDB takes 80% of the machine's memory by default, beside this JVM's heap: bound it and
      // let it spill, as Spark does.
      statement.execute(
          "SET memory_limit = '" + System.getProperty("bench.duckdb-memory", "4GB") + "'");
      statement.execute("SET temp_directory = '" + output.resolve("spill") + "'");
      for (String query : sql.split(";\\s*\\n")) {
        if (!query.isBlank()) {
          statement.execute(query);
        }
      }
    }
    double seconds = (System.nanoTime() - started) / 1e9;
    deleteRecursively(output);
    return seconds;
  }

  private static void deleteRecursively(Path folder) throws IOException {
    try (Stream<Path> paths = Files.walk(folder)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(path);
      }
    }
  }
}
