package io.lambdalake.common.spark;

import static java.util.Objects.requireNonNull;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.config.S3Config;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The Spark settings every lambda-lake job and test runs with: Delta Lake, S3A pointed at the
 * lake's S3 service, UTC, and local folders under the stack's directory instead of /tmp. The module
 * that builds the session applies them; this class stays free of Spark itself.
 */
public final class SparkSettings {
  /**
   * The Delta log store that commits with a conditional create, for {@code s3a://} and {@code
   * s3://} tables when {@code lake.delta.conditional-commits} is on (module spark-common).
   */
  public static final String CONDITIONAL_LOG_STORE =
      "io.lambdalake.spark.delta.ConditionalCreateLogStore";

  private SparkSettings() {}

  /** Settings for a job; spark-submit's own --master wins over {@code lake.spark.master}. */
  public static Map<String, String> forJob(LakeConfig config) {
    Map<String, String> settings = new LinkedHashMap<>();
    settings.put("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension");
    settings.put(
        "spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog");
    settings.put("spark.sql.session.timeZone", "UTC");
    settings.put(
        "spark.sql.shuffle.partitions", Integer.toString(config.spark().shufflePartitions()));
    // Delta rebuilds a table's state from its log with 50 tasks by default, after every commit
    // and for every table a job reads: on a machine of few cores that is most of a small job's
    // time. As many tasks as a shuffle, and never more than Delta's default.
    settings.put(
        "spark.databricks.delta.snapshotPartitions",
        Integer.toString(Math.min(50, config.spark().shufflePartitions())));
    // Delta's full VACUUM lists a table's directory in this many tasks (10,000 by default, even for
    // a table of one directory): 23-30 s for a CDC table of ten files on 2 cores, 1.7-2.8 s with 4
    // tasks (MirrorUpkeepIT). Spark's own listing of many paths takes it only as a cap.
    settings.put(
        "spark.sql.sources.parallelPartitionDiscovery.parallelism",
        Integer.toString(config.spark().shufflePartitions()));
    // The unique-user sketches are typed aggregations: Spark hashes them into an object map of at
    // most this many keys per task and otherwise falls back to sorting its input (the default is
    // 128, so every day's views sorted). A sketch is a few KiB at most, so 32,768 keys stay in the
    // low hundreds of MiB per task.
    settings.put("spark.sql.objectHashAggregate.sortBased.fallbackThreshold", "32768");
    // Spark keeps at most 100 compiled query classes (the default) for the whole JVM. A CDC batch
    // of ten tables needs more, so every batch compiled them all again (Janino was 13% of the CPU
    // samples of a 300,000-change run; with 5,000 entries the run took 17% less time,
    // docs/benchmarks.md).
    settings.put("spark.sql.codegen.cache.maxEntries", "2000");
    // Trino cannot DELETE/UPDATE/MERGE partitioned tables whose Parquet files repeat the partition
    // columns (Trino 476); write them the classic way.
    settings.put(
        "spark.databricks.delta.properties.defaults.writePartitionColumnsToParquet", "false");
    // Streaming state (deduplication, hourly aggregations) in RocksDB, checkpointed as changelogs:
    // each micro-batch uploads only what changed, not a snapshot per partition.
    settings.put(
        "spark.sql.streaming.stateStore.providerClass",
        "org.apache.spark.sql.execution.streaming.state.RocksDBStateStoreProvider");
    settings.put("spark.sql.streaming.stateStore.rocksdb.changelogCheckpointing.enabled", "true");
    settings.putAll(s3a(config.s3()));
    if (config.catalog().isShared()) {
      // Table names from the Hive Metastore that Trino reads too (lake.catalog.type = thrift),
      // through the Hive 2.3 client Spark bundles; Delta's catalog over it (above).
      settings.put("spark.sql.catalogImplementation", "hive");
      settings.put("spark.hadoop.hive.metastore.uris", config.catalog().metastoreUri());
      // Trino names the tables it registers by s3:// locations, which Spark then reads too.
      settings.put("spark.hadoop.fs.s3.impl", "org.apache.hadoop.fs.s3a.S3AFileSystem");
    }
    if (config.delta().conditionalCommits()) {
      // Delta picks a log store by the scheme of the table's path; read when the SparkContext
      // starts, so a session of a running context keeps the store it started with.
      settings.put("spark.delta.logStore.s3a.impl", CONDITIONAL_LOG_STORE);
      settings.put("spark.delta.logStore.s3.impl", CONDITIONAL_LOG_STORE);
    }
    return Map.copyOf(settings);
  }

  /**
   * Settings for a session whose driver is this JVM (tests, the CLI): also master, UI, folders. A
   * local master's driver is bound to 127.0.0.1; a cluster's ({@code lake.spark.master} {@code
   * spark://...}, {@code yarn}, ...) binds where Spark picks, so its executors can reach it.
   */
  public static Map<String, String> forLocalSession(LakeConfig config) {
    requireNonNull(config, "config is null");
    Map<String, String> settings = new LinkedHashMap<>(forJob(config));
    String localDirectory = config.localDirectory().resolve("spark").toString();
    settings.put("spark.master", config.spark().master());
    settings.put("spark.ui.enabled", "false");
    if (isLocalMaster(config.spark().master())) {
      settings.put("spark.driver.host", "127.0.0.1");
      settings.put("spark.driver.bindAddress", "127.0.0.1");
    }
    settings.put("spark.local.dir", localDirectory + "/local");
    settings.put("spark.sql.warehouse.dir", localDirectory + "/warehouse");
    settings.put("spark.hadoop.hadoop.tmp.dir", localDirectory + "/hadoop");
    settings.put("spark.hadoop.fs.s3a.buffer.dir", localDirectory + "/s3a-buffer");
    return Map.copyOf(settings);
  }

  /**
   * Whether this Spark master runs the executors inside this machine: {@code local}, {@code
   * local[N]}, {@code local[N,F]}, {@code local[*]}, {@code local-cluster[...]}.
   */
  public static boolean isLocalMaster(String master) {
    requireNonNull(master, "master is null");
    return master.equals("local")
        || master.startsWith("local[")
        || master.startsWith("local-cluster[");
  }

  private static Map<String, String> s3a(S3Config s3) {
    Map<String, String> settings = new LinkedHashMap<>();
    String prefix = "spark.hadoop.fs.s3a.";
    settings.put(prefix + "impl", "org.apache.hadoop.fs.s3a.S3AFileSystem");
    s3.endpoint()
        .ifPresent(
            endpoint -> {
              settings.put(prefix + "endpoint", endpoint);
              settings.put(
                  prefix + "connection.ssl.enabled",
                  Boolean.toString(endpoint.startsWith("https")));
            });
    settings.put(prefix + "endpoint.region", s3.region());
    settings.put(prefix + "path.style.access", Boolean.toString(s3.pathStyleAccess()));
    if (s3.accessKey().isPresent() && s3.secretKey().isPresent()) {
      settings.put(prefix + "access.key", s3.accessKey().get());
      settings.put(prefix + "secret.key", s3.secretKey().get());
      settings.put(
          prefix + "aws.credentials.provider",
          "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider");
    }
    // s3proxy and most S3-compatible stores do not implement the newer checksum headers.
    settings.put(prefix + "checksum.validation", "false");
    return settings;
  }
}
