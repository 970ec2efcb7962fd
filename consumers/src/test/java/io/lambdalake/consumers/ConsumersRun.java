package io.lambdalake.consumers;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.config.LakeConfigLoader;
import io.lambdalake.consumers.sample.SampleDatabase;
import io.lambdalake.ingestion.cdc.CdcJob;
import io.lambdalake.ingestion.cdc.MaxwellIngestion;
import io.lambdalake.spark.DeltaTables;
import io.lambdalake.stack.testing.SharedStack;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.streaming.StreamingQuery;

/**
 * One test run's own sample database, storage root, checkpoints and flags topic, so that runs never
 * collide with each other or with other work on the shared stack; and the CDC job that brings the
 * database's changes into its mirrors.
 */
public record ConsumersRun(String name, LakeConfig config, Map<String, String> overrides) {
  public static ConsumersRun create(String prefix) {
    String name = prefix + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    Map<String, String> overrides =
        SharedStack.ownLake(
            name,
            "lake.consumers.sample-database",
            name,
            "lake.consumers.spam.topic",
            name + ".spam-flags");
    return new ConsumersRun(name, LakeConfigLoader.load(System.getenv(), overrides), overrides);
  }

  public SampleDatabase sample() {
    return new SampleDatabase(config.mariaDb(), name);
  }

  public SampleMirrors mirrors() {
    return SampleMirrors.of(config);
  }

  public Connection connect() throws SQLException {
    return sample().connect(name);
  }

  public void execute(String... statements) throws SQLException {
    try (Connection connection = connect();
        Statement statement = connection.createStatement()) {
      for (String sql : statements) {
        statement.execute(sql);
      }
    }
  }

  public long sourceCount(String table) throws SQLException {
    try (Connection connection = connect();
        Statement statement = connection.createStatement();
        var result = statement.executeQuery("SELECT count(*) FROM " + table)) {
      result.next();
      return result.getLong(1);
    }
  }

  public long mirrorCount(SparkSession spark, String table) {
    String location = mirrors().location(table);
    return DeltaTables.exists(spark, location)
        ? spark.read().format("delta").load(location).count()
        : -1;
  }

  /** The CDC job over what Kafka holds now, for this run's database only. */
  public void cdcAvailableNow(SparkSession spark) {
    CdcJob.run(spark, config, cdcOptions(CdcJob.Mode.AVAILABLE_NOW), quietly());
  }

  /** The CDC job as a continuous query in a background thread; stop it with {@link #stopCdc}. */
  public Thread startCdc(SparkSession spark) {
    Thread thread =
        new Thread(
            () -> CdcJob.run(spark, config, cdcOptions(CdcJob.Mode.CONTINUOUS), quietly()),
            "cdc-" + name);
    thread.setDaemon(true);
    thread.start();
    return thread;
  }

  public static void stopCdc(SparkSession spark, Thread cdc) throws Exception {
    for (StreamingQuery query : spark.streams().active()) {
      if (MaxwellIngestion.QUERY_NAME.equals(query.name())) {
        query.stop();
      }
    }
    cdc.join(Duration.ofMinutes(1).toMillis());
  }

  private CdcJob.Options cdcOptions(CdcJob.Mode mode) {
    return new CdcJob.Options(
        CdcJob.Sources.MAXWELL, mode, Duration.ofSeconds(1), 50_000, name, Duration.ofSeconds(1));
  }

  public static PrintStream quietly() {
    return new PrintStream(new ByteArrayOutputStream(), true, UTF_8);
  }
}
