package io.lambdalake.ingestion.landing;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.config.LakeConfigLoader;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.common.event.CollectedEvent;
import io.lambdalake.common.kafka.KafkaClientProperties;
import io.lambdalake.common.table.LakeTable;
import io.lambdalake.ingestion.cdc.CdcJob;
import io.lambdalake.ingestion.cdc.MaxwellIngestion;
import io.lambdalake.spark.Checkpoints;
import io.lambdalake.spark.DeltaTables;
import io.lambdalake.spark.StreamingRun;
import io.lambdalake.spark.TableUpkeep;
import io.lambdalake.stack.testing.MariaDbSql;
import io.lambdalake.stack.testing.SharedStack;
import io.lambdalake.stack.testing.TestSpark;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.apache.spark.sql.streaming.Trigger;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A landing stream whose checkpoint is deleted mid-stream, or discarded by an operator's reset,
 * lands every record exactly once: 0 lost, 0 duplicated (issue 23: before, batch ids restarted at 0
 * under the same Delta idempotence key and Delta skipped every batch up to the last one).
 */
@Tag("fault")
class LandingResumeIT {
  private static final int PARTITIONS = 2;

  /** One test's own topics, tables and checkpoints. */
  private record Run(String name, LakeConfig config) {
    static Run create() {
      String name = "lr" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
      Map<String, String> overrides =
          SharedStack.ownLakeAndEventTopics(
              name,
              "lake.topics.cdc-maxwell-prefix",
              name + ".cdc.maxwell.",
              "lake.topics.cdc-mongo-prefix",
              name + ".cdc.mongo.");
      return new Run(name, LakeConfigLoader.load(System.getenv(), overrides));
    }

    String pageViews() {
      return config.topics().eventsPrefix() + "page_view";
    }

    Dataset<Row> table(SparkSession spark, LakeTable table) {
      return spark.read().format("delta").load(table.location(config.storage()));
    }
  }

  @Test
  void eventsLandExactlyOnceAcrossADeletedCheckpoint() throws Exception {
    Run run = Run.create();
    SparkSession spark = TestSpark.session();
    createTopics(run, run.pageViews(), run.config.topics().eventsOther());
    send(run, run.pageViews(), events(run, 0, 300));
    send(run, run.config.topics().eventsOther(), List.of("{not json"));

    land(spark, run, Optional.empty());
    assertThat(run.table(spark, LakeTable.RAW_EVENTS).count()).isEqualTo(300);

    Checkpoints.delete(spark, run.config.storage().checkpointLocation(EventLanding.QUERY_NAME));
    send(run, run.pageViews(), events(run, 300, 200));
    send(run, run.config.topics().eventsOther(), List.of("[1, 2]"));
    land(spark, run, Optional.empty());

    assertExactlyEvents(spark, run, 500);
    assertThat(payloads(spark, run)).containsExactlyInAnyOrder("{not json", "[1, 2]");
  }

  @Test
  void aTableOneBatchAheadOfAnotherGetsNothingTwice() throws Exception {
    Run run = Run.create();
    SparkSession spark = TestSpark.session();
    createTopics(run, run.pageViews());
    List<String> records = new ArrayList<>();
    List<String> events = events(run, 0, 300);
    for (int i = 0; i < events.size(); i++) {
      records.add(events.get(i));
      if (i % 15 == 0) {
        records.add("{bad " + i);
      }
    }
    send(run, run.pageViews(), records);

    // The landing dies between its two commits of a batch: raw.events has it, raw.quarantine not.
    CrashingBetweenCommits crashing = new CrashingBetweenCommits(run.config, 1);
    assertThatThrownBy(() -> land(spark, run, crashing, Optional.empty()))
        .isInstanceOf(LakeException.class)
        .hasMessageContaining("crashed between the commits");
    assertThat(crashing.crashedIn).isPositive();
    Checkpoints.delete(spark, run.config.storage().checkpointLocation(EventLanding.QUERY_NAME));
    land(spark, run, Optional.empty());

    assertExactlyEvents(spark, run, 300);
    assertThat(payloads(spark, run))
        .containsExactlyInAnyOrderElementsOf(
            IntStream.range(0, 300).filter(i -> i % 15 == 0).mapToObj(i -> "{bad " + i).toList());
  }

  @Test
  void aCrashBetweenTheFirstCommitsOfTheTablesLosesNothingOnAReset() throws Exception {
    Run run = Run.create();
    SparkSession spark = TestSpark.session();
    createTopics(run, run.pageViews());
    List<String> records = new ArrayList<>(events(run, 0, 30));
    records.add("{bad first");
    send(run, run.pageViews(), records);

    // Batch 0 dies after raw.events committed it: raw.quarantine has no batch of this stream yet.
    CrashingBetweenCommits crashing = new CrashingBetweenCommits(run.config, 0);
    assertThatThrownBy(() -> land(spark, run, crashing, Optional.empty()))
        .isInstanceOf(LakeException.class)
        .hasMessageContaining("crashed between the commits");
    assertThat(crashing.crashedIn).isZero();
    send(run, run.pageViews(), events(run, 30, 10));
    land(spark, run, Optional.of(LandingStream.ResetFrom.TABLE));

    assertExactlyEvents(spark, run, 40);
    assertThat(payloads(spark, run)).containsExactly("{bad first");
  }

  @Test
  void aCrashInTheBatchThatFirstReadsATopicLosesNothingOnAReset() throws Exception {
    Run run = Run.create();
    SparkSession spark = TestSpark.session();
    createTopics(run, run.pageViews());
    send(run, run.pageViews(), events(run, 0, 30));
    land(spark, run, Optional.empty());

    // A topic new to the stream; the batch that first reads it dies between the two commits, so
    // raw.events records the topic's offsets and raw.quarantine does not know the topic.
    createTopics(run, run.config.topics().eventsOther());
    send(run, run.config.topics().eventsOther(), List.of("{bad in a new topic", "[3]"));
    CrashingBetweenCommits crashing = new CrashingBetweenCommits(run.config, 1);
    assertThatThrownBy(() -> land(spark, run, crashing, Optional.empty()))
        .isInstanceOf(LakeException.class)
        .hasMessageContaining("crashed between the commits");
    land(spark, run, Optional.of(LandingStream.ResetFrom.TABLE));

    assertExactlyEvents(spark, run, 30);
    assertThat(payloads(spark, run)).containsExactlyInAnyOrder("{bad in a new topic", "[3]");
  }

  /**
   * The events landing, except that the first batch from {@code firstCrashing} on whose input has a
   * quarantine row dies after its events commit.
   */
  private static final class CrashingBetweenCommits implements LandingStream.Source {
    private final LandingStream.Source landing;
    private final String eventsLocation;
    private final long firstCrashing;
    private volatile long crashedIn = -1;

    CrashingBetweenCommits(LakeConfig config, long firstCrashing) {
      this.landing = EventLanding.source(config, 40, Duration.ofHours(1));
      this.eventsLocation = LakeTable.RAW_EVENTS.location(config.storage());
      this.firstCrashing = firstCrashing;
    }

    @Override
    public String name() {
      return landing.name();
    }

    @Override
    public String topicPattern() {
      return landing.topicPattern();
    }

    @Override
    public long maxRecordsPerBatch() {
      return landing.maxRecordsPerBatch();
    }

    @Override
    public List<String> appendOnlyTables() {
      return landing.appendOnlyTables();
    }

    @Override
    public TableUpkeep upkeep() {
      return landing.upkeep();
    }

    @Override
    public Dataset<Row> prepare(Dataset<Row> kafkaRecords) {
      return landing.prepare(kafkaRecords);
    }

    @Override
    public void write(Dataset<Row> batch, LandingBatch batchLanding) {
      if (batchLanding.version() >= firstCrashing && !EventLanding.quarantine(batch).isEmpty()) {
        batchLanding.append(EventLanding.events(EventLanding.enrich(batch)), eventsLocation);
        crashedIn = batchLanding.version();
        throw new IllegalStateException("crashed between the commits of batch " + crashedIn);
      }
      landing.write(batch, batchLanding);
    }
  }

  @Test
  void aResetFromTheEarliestLandsNothingTwice() throws Exception {
    Run run = Run.create();
    SparkSession spark = TestSpark.session();
    createTopics(run, run.pageViews(), run.config.topics().eventsOther());
    send(run, run.pageViews(), events(run, 0, 200));
    send(run, run.config.topics().eventsOther(), List.of("{not json"));
    land(spark, run, Optional.empty());

    send(run, run.pageViews(), events(run, 200, 100));
    land(spark, run, Optional.of(LandingStream.ResetFrom.EARLIEST));
    // And a reset from the tables' offsets, with nothing new: nothing moves.
    land(spark, run, Optional.of(LandingStream.ResetFrom.TABLE));

    assertExactlyEvents(spark, run, 300);
    assertThat(payloads(spark, run)).containsExactly("{not json");

    // Rows landed before commits recorded their offsets: nothing to resume from, so no start.
    Run older = Run.create();
    run.table(spark, LakeTable.RAW_EVENTS)
        .write()
        .format("delta")
        .mode(SaveMode.Append)
        .save(DeltaTables.ensure(spark, older.config, LakeTable.RAW_EVENTS));
    assertThatThrownBy(
            () ->
                LandingStream.start(
                    spark,
                    older.config,
                    EventLanding.source(older.config, 40, Duration.ofHours(1)),
                    Trigger.AvailableNow(),
                    Optional.empty()))
        .isInstanceOf(LakeException.class)
        .hasMessageContaining("has rows but no commit that records which Kafka offsets it landed")
        .hasMessageContaining("--reset-from earliest");
  }

  @Test
  void maxwellChangesLandExactlyOnceAcrossADeletedCheckpoint() throws Exception {
    Run run = Run.create();
    SparkSession spark = TestSpark.session();
    String database = run.name;
    try (Connection source = MariaDbSql.connect()) {
      MariaDbSql.execute(
          source,
          "CREATE DATABASE " + database,
          "CREATE TABLE " + database + ".items (id INT PRIMARY KEY, name VARCHAR(40))");
    }
    String topic = run.config.topics().maxwellTopic(database, "items");
    createTopics(run, topic);
    Map<Integer, String> expected = new TreeMap<>();
    List<String> first = new ArrayList<>();
    for (int id = 1; id <= 200; id++) {
      first.add(maxwell(database, "insert", id, "item " + id, id));
      expected.put(id, "item " + id);
    }
    first.add("{garbage");
    // Maxwell keeps one source table in one partition (its order is the binlog's).
    sendToOnePartition(run, topic, first);
    CdcJob.Options options =
        new CdcJob.Options(
            CdcJob.Sources.MAXWELL,
            CdcJob.Mode.AVAILABLE_NOW,
            Duration.ofSeconds(1),
            40,
            database,
            Duration.ofSeconds(1));
    CdcJob.run(spark, run.config, options, quietly());
    assertThat(run.table(spark, LakeTable.RAW_MYSQL_CHANGES).count()).isEqualTo(200);

    Checkpoints.delete(spark, run.config.storage().checkpointLocation(MaxwellIngestion.QUERY_NAME));
    List<String> second = new ArrayList<>();
    for (int id = 1; id <= 100; id++) {
      second.add(maxwell(database, "update", id, "item " + id + " v2", 1000 + id));
      expected.put(id, "item " + id + " v2");
    }
    for (int id = 201; id <= 250; id++) {
      second.add(maxwell(database, "insert", id, "item " + id, 1000 + id));
      expected.put(id, "item " + id);
    }
    second.add("[1,2]");
    sendToOnePartition(run, topic, second);
    CdcJob.run(spark, run.config, options, quietly());

    Dataset<Row> raw = run.table(spark, LakeTable.RAW_MYSQL_CHANGES);
    assertThat(raw.count()).isEqualTo(350);
    assertThat(raw.select("source_topic", "source_partition", "source_offset").distinct().count())
        .isEqualTo(350);
    assertThat(
            run
                .table(spark, LakeTable.RAW_CDC_QUARANTINE)
                .select("payload")
                .collectAsList()
                .stream()
                .map(row -> row.getString(0))
                .toList())
        .containsExactlyInAnyOrder("{garbage", "[1,2]");
    Map<Integer, String> mirror =
        spark
            .read()
            .format("delta")
            .load(run.config.storage().tableLocation("mirror", database + "__items"))
            .select("id", "name")
            .collectAsList()
            .stream()
            .collect(Collectors.toMap(row -> row.getInt(0), row -> row.getString(1)));
    assertThat(mirror).isEqualTo(expected);
  }

  private static void land(SparkSession spark, Run run, Optional<LandingStream.ResetFrom> reset)
      throws Exception {
    land(spark, run, EventLanding.source(run.config, 40, Duration.ofHours(1)), reset);
  }

  private static void land(
      SparkSession spark,
      Run run,
      LandingStream.Source source,
      Optional<LandingStream.ResetFrom> reset)
      throws Exception {
    StreamingQuery query =
        LandingStream.start(spark, run.config, source, Trigger.AvailableNow(), reset);
    try {
      new StreamingRun(List.of(query), Duration.ofSeconds(1), quietly()).awaitAll();
    } finally {
      StreamingRun.stopAll(List.of(query));
    }
  }

  private static void assertExactlyEvents(SparkSession spark, Run run, int count) {
    Dataset<Row> raw = run.table(spark, LakeTable.RAW_EVENTS);
    assertThat(raw.count()).isEqualTo(count);
    assertThat(raw.select("event_id").distinct().count()).isEqualTo(count);
    List<String> expected = IntStream.range(0, count).mapToObj(i -> run.name + "-" + i).toList();
    assertThat(raw.select("event_id").collectAsList().stream().map(r -> r.getString(0)))
        .containsExactlyInAnyOrderElementsOf(expected);
  }

  private static List<String> payloads(SparkSession spark, Run run) {
    return run.table(spark, LakeTable.RAW_QUARANTINE).select("payload").collectAsList().stream()
        .map(row -> row.getString(0))
        .toList();
  }

  private static List<String> events(Run run, int from, int count) {
    return IntStream.range(from, from + count)
        .mapToObj(
            i ->
                "{\"schema_version\":"
                    + CollectedEvent.SCHEMA_VERSION
                    + ",\"event_id\":\""
                    + run.name
                    + "-"
                    + i
                    + "\",\"tracking_id\":\"LL-RESUME\",\"event_name\":\"page_view\","
                    + "\"event_time\":\"2026-11-20T08:00:00Z\","
                    + "\"received_at\":\"2026-11-20T08:00:01Z\",\"client_id\":\"client-"
                    + (i % 7)
                    + "\",\"page_url\":\"https://shop.example/p/"
                    + i
                    + "\",\"params\":{}}")
        .toList();
  }

  private static String maxwell(String database, String type, int id, String name, long position) {
    return "{\"database\":\""
        + database
        + "\",\"table\":\"items\",\"type\":\""
        + type
        + "\",\"ts\":1764000000,\"xid\":"
        + position
        + ",\"commit\":true,\"position\":\"mariadb-bin.000001:"
        + (1000 + position * 10)
        + "\",\"primary_key\":["
        + id
        + "],\"data\":{\"id\":"
        + id
        + ",\"name\":\""
        + name
        + "\"}"
        + ("update".equals(type) ? ",\"old\":{\"name\":\"before\"}" : "")
        + "}";
  }

  private static void createTopics(Run run, String... topics) throws Exception {
    try (Admin admin =
        Admin.create(KafkaClientProperties.admin(run.config.kafka(), "landing-resume-it"))) {
      admin
          .createTopics(
              List.of(topics).stream().map(t -> new NewTopic(t, PARTITIONS, (short) 1)).toList())
          .all()
          .get(30, TimeUnit.SECONDS);
    }
  }

  private static void send(Run run, String topic, List<String> records) {
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(KafkaClientProperties.producer(run.config.kafka(), "landing-it"))) {
      for (int i = 0; i < records.size(); i++) {
        producer.send(
            new ProducerRecord<>(
                topic, Integer.toString(i).getBytes(UTF_8), records.get(i).getBytes(UTF_8)));
      }
      producer.flush();
    }
  }

  private static void sendToOnePartition(Run run, String topic, List<String> records) {
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(KafkaClientProperties.producer(run.config.kafka(), "landing-it"))) {
      for (String record : records) {
        producer.send(new ProducerRecord<>(topic, 0, null, record.getBytes(UTF_8)));
      }
      producer.flush();
    }
  }

  private static PrintStream quietly() {
    return new PrintStream(new ByteArrayOutputStream(), true, UTF_8);
  }
}
