package io.lambdalake.ingestion.cdc;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat_ws;
import static org.assertj.core.api.Assertions.assertThat;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.config.LakeConfigLoader;
import io.lambdalake.common.kafka.KafkaClientProperties;
import io.lambdalake.common.table.LakeTable;
import io.lambdalake.stack.testing.SharedStack;
import io.lambdalake.stack.testing.TestSpark;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.bson.BsonDocument;
import org.junit.jupiter.api.Test;

/**
 * Sequences of change events in the MongoDB Kafka source connector's format, produced to the real
 * broker, give the expected final documents: inserts, updates (fullDocument from updateLookup),
 * replaces, deletes, events of one transaction, events out of order and replayed, and garbage; and
 * changes spread over the partitions of a topic, read unevenly.
 */
class MongoCdcIT {
  private static final String OID_A = "6561f0a1b2c3d4e5f6a7b8c9";

  @Test
  void eventSequencesGiveTheExpectedDocuments() {
    String database = "mongoit" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    String collection = database + ".orders";
    Map<String, String> overrides =
        SharedStack.ownLake(
            database,
            "lake.cdc.mongo.promoted-fields.\"" + collection + "\".status",
            "STRING",
            "lake.cdc.mongo.promoted-fields.\"" + collection + "\".total",
            "DECIMAL(18,2)");
    LakeConfig config = LakeConfigLoader.load(System.getenv(), overrides);
    SparkSession spark = TestSpark.session();
    String topic = config.topics().cdcMongoPrefix() + collection;
    CdcJob.Options options =
        new CdcJob.Options(
            CdcJob.Sources.MONGO,
            CdcJob.Mode.AVAILABLE_NOW,
            Duration.ofSeconds(1),
            10_000,
            database,
            Duration.ofSeconds(2));

    String insertA =
        event(
            "01",
            "insert",
            100,
            1,
            "{\"$oid\": \"" + OID_A + "\"}",
            "{\"_id\": {\"$oid\": \""
                + OID_A
                + "\"}, \"status\": \"new\","
                + " \"total\": {\"$numberDecimal\": \"10.50\"},"
                + " \"created\": {\"$date\": {\"$numberLong\": \"1763800000000\"}},"
                + " \"items\": [{\"sku\": \"x\", \"qty\": {\"$numberLong\": \"2\"}}]}",
            null);
    send(
        topic,
        insertA,
        event(
            "02",
            "insert",
            100,
            2,
            "\"sku-2\"",
            "{\"_id\": \"sku-2\", \"status\": \"new\", \"total\": 3}",
            null),
        // Newer first: the update at 105 arrives before the one at 101; 101 must not win.
        event(
            "05",
            "update",
            105,
            1,
            "{\"$oid\": \"" + OID_A + "\"}",
            "{\"_id\": {\"$oid\": \""
                + OID_A
                + "\"}, \"status\": \"shipped\","
                + " \"total\": {\"$numberDecimal\": \"12.00\"}}",
            "{\"updatedFields\": {\"status\": \"shipped\"}, \"removedFields\": []}"),
        event(
            "03",
            "update",
            101,
            1,
            "{\"$oid\": \"" + OID_A + "\"}",
            "{\"_id\": {\"$oid\": \""
                + OID_A
                + "\"}, \"status\": \"paid\","
                + " \"total\": {\"$numberDecimal\": \"10.50\"}}",
            "{\"updatedFields\": {\"status\": \"paid\"}, \"removedFields\": []}"),
        event(
            "04",
            "replace",
            102,
            1,
            "\"sku-2\"",
            "{\"_id\": \"sku-2\", \"kind\": \"replaced\"}",
            null),
        event(
            "06",
            "insert",
            103,
            1,
            "{\"$numberLong\": \"3\"}",
            "{\"_id\": {\"$numberLong\": \"3\"}, \"status\": \"gone soon\"}",
            null),
        event("07", "delete", 104, 1, "{\"$numberLong\": \"3\"}", null, null),
        // One transaction: two events with one cluster time; the resume token orders them.
        event("08a", "insert", 106, 1, "\"tx\"", "{\"_id\": \"tx\", \"status\": \"first\"}", null),
        event(
            "08b",
            "update",
            106,
            1,
            "\"tx\"",
            "{\"_id\": \"tx\", \"status\": \"second\"}",
            "{\"updatedFields\": {\"status\": \"second\"}}"),
        // Garbage and what cannot be applied.
        "{bad json",
        event("09", "update", 107, 1, "\"sku-2\"", null, "{\"updatedFields\": {\"a\": 1}}"),
        event(
            "10",
            "insert",
            108,
            1,
            "\"bad-total\"",
            "{\"_id\": \"bad-total\", \"total\": \"lots\"}",
            null),
        event("11", "drop", 109, 1, null, null, null));

    CdcJob.run(spark, config, options, quietly());
    Map<String, Row> documents = documents(spark, config, database);
    assertFinalDocuments(documents);

    // The insert of A sent again (a connector restart replays): nothing changes.
    send(topic, insertA);
    CdcJob.run(spark, config, options, quietly());
    assertFinalDocuments(documents(spark, config, database));

    Map<String, Long> reasons =
        spark
            .read()
            .format("delta")
            .load(LakeTable.RAW_CDC_QUARANTINE.location(config.storage()))
            .filter(col("source").equalTo("cdc"))
            .groupBy("reason")
            .count()
            .collectAsList()
            .stream()
            .collect(Collectors.toMap(row -> row.getString(0), row -> row.getLong(1)));
    assertThat(reasons)
        .containsEntry("malformed_json", 1L)
        .containsEntry("no_full_document", 1L)
        .containsEntry("incompatible_type", 1L);
    Dataset<Row> raw =
        spark.read().format("delta").load(LakeTable.RAW_MONGO_CHANGES.location(config.storage()));
    assertThat(raw.count()).as("every readable event once, the replay included").isEqualTo(12);
  }

  /**
   * The connector keys records by resume token, so one document's changes spread over a topic's
   * partitions; within a partition they are in cluster-time order, across partitions not. Each run
   * reads the partitions unevenly (some hold changes far older than what another already gave), in
   * micro-batches of three records.
   */
  @Test
  void changesSpreadOverFourPartitionsGiveTheNewestStateOfEachDocument() throws Exception {
    String database = "mongoparts" + UUID.randomUUID().toString().replace("-", "").substring(0, 8);
    String collection = database + ".orders";
    LakeConfig config =
        LakeConfigLoader.load(
            System.getenv(),
            SharedStack.ownLake(
                database,
                "lake.cdc.mongo.promoted-fields.\"" + collection + "\".status",
                "STRING"));
    SparkSession spark = TestSpark.session();
    String topic = config.topics().cdcMongoPrefix() + collection;
    createTopic(topic, 4);
    CdcJob.Options options =
        new CdcJob.Options(
            CdcJob.Sources.MONGO,
            CdcJob.Mode.AVAILABLE_NOW,
            Duration.ofSeconds(1),
            3,
            database,
            Duration.ofSeconds(2));
    List<Change> sent = new ArrayList<>();

    // Partition 0 runs ahead to 100 while the others give only their first changes. y is deleted
    // (15, partition 0) before its insert (14, partition 2) is read.
    sent.addAll(
        send(
            topic,
            0,
            Change.upsert("insert", 10, "a", "a1"),
            Change.delete(15, "y"),
            Change.upsert("update", 30, "b", "b2"),
            Change.delete(90, "x"),
            Change.upsert("update", 95, "b", "b3"),
            Change.upsert("update", 100, "c", "c3")));
    sent.addAll(
        send(
            topic,
            1,
            Change.upsert("insert", 11, "b", "b1"),
            Change.upsert("update", 20, "a", "a2")));
    sent.addAll(send(topic, 2, Change.upsert("insert", 12, "c", "c1")));
    sent.addAll(send(topic, 3, Change.upsert("insert", 13, "x", "x1")));
    CdcJob.run(spark, config, options, quietly());
    assertThat(statuses(spark, config, database)).isEqualTo(newestStates(sent));

    // The slow partitions catch up with changes older than 100: they must be applied (d, a3),
    // but none older than a delete of its document (x at 40 and 60, y at 14) revives it.
    sent.addAll(
        send(
            topic,
            1,
            Change.upsert("update", 50, "c", "c2"),
            Change.upsert("update", 60, "x", "x3")));
    sent.addAll(
        send(
            topic,
            2,
            Change.upsert("insert", 14, "y", "y1"),
            Change.upsert("update", 40, "x", "x2"),
            Change.upsert("insert", 80, "d", "d1")));
    sent.addAll(send(topic, 3, Change.upsert("update", 70, "a", "a3")));
    CdcJob.run(spark, config, options, quietly());
    assertThat(statuses(spark, config, database))
        .isEqualTo(newestStates(sent))
        .containsEntry("\"a\"", "a3")
        .containsEntry("\"d\"", "d1")
        .doesNotContainKeys("\"x\"", "\"y\"");

    // Every partition moves past the deletes: x comes back by a newer insert, c goes; then the
    // deletes are no longer kept (nothing older can arrive from any partition).
    sent.addAll(send(topic, 0, Change.upsert("update", 125, "a", "a4")));
    sent.addAll(send(topic, 1, Change.upsert("update", 130, "b", "b4")));
    sent.addAll(send(topic, 2, Change.delete(110, "c")));
    sent.addAll(
        send(
            topic,
            3,
            Change.upsert("update", 105, "d", "d2"),
            Change.upsert("insert", 120, "x", "x4")));
    CdcJob.run(spark, config, options, quietly());
    Map<String, String> expected = newestStates(sent);
    assertThat(expected)
        .containsOnly(
            Map.entry("\"a\"", "a4"),
            Map.entry("\"b\"", "b4"),
            Map.entry("\"d\"", "d2"),
            Map.entry("\"x\"", "x4"));
    assertThat(statuses(spark, config, database)).isEqualTo(expected);
    Dataset<Row> raw =
        spark.read().format("delta").load(LakeTable.RAW_MONGO_CHANGES.location(config.storage()));
    assertThat(raw.select("resume_token").as(Encoders.STRING()).collectAsList())
        .as("every change once")
        .containsExactlyInAnyOrderElementsOf(sent.stream().map(Change::resumeToken).toList());
    assertThat(positions(spark, config))
        .containsOnly(
            Map.entry(topic + "/0", 125L),
            Map.entry(topic + "/1", 130L),
            Map.entry(topic + "/2", 110L),
            Map.entry(topic + "/3", 120L));
    assertThat(
            spark
                .read()
                .format("delta")
                .load(LakeTable.STATE_MONGO_TOMBSTONES.location(config.storage()))
                .count())
        .as("deletes every partition has passed")
        .isZero();

    // A connector restart replays old changes of c, deleted and forgotten since: nothing changes.
    List<Change> replayed = new ArrayList<>();
    replayed.addAll(send(topic, 1, Change.upsert("update", 50, "c", "c2")));
    replayed.addAll(send(topic, 2, Change.upsert("insert", 12, "c", "c1")));
    CdcJob.run(spark, config, options, quietly());
    assertThat(statuses(spark, config, database)).isEqualTo(expected);
    assertThat(positions(spark, config)).containsEntry(topic + "/1", 130L);
    assertThat(
            spark
                .read()
                .format("delta")
                .load(LakeTable.RAW_MONGO_CHANGES.location(config.storage()))
                .count())
        .as("the replay as received")
        .isEqualTo(sent.size() + replayed.size());
  }

  /** One change of a document {@code "<id>"} whose promoted status is the given one. */
  private record Change(String operationType, long seconds, String id, Optional<String> status) {
    static Change upsert(String operationType, long seconds, String id, String status) {
      return new Change(operationType, seconds, id, Optional.of(status));
    }

    static Change delete(long seconds, String id) {
      return new Change("delete", seconds, id, Optional.empty());
    }

    String token() {
      return id + seconds;
    }

    String resumeToken() {
      return "8265" + String.format("%06d", seconds) + token();
    }

    /** The record key as the connector writes it by default: the resume token. */
    String key() {
      return "{\"_id\": {\"_data\": \"" + resumeToken() + "\"}}";
    }

    String json() {
      return event(
          token(),
          operationType,
          seconds,
          1,
          "\"" + id + "\"",
          status.map(s -> "{\"_id\": \"" + id + "\", \"status\": \"" + s + "\"}").orElse(null),
          null);
    }
  }

  /** Per document, the status of its newest change, absent when that change deleted it. */
  private static Map<String, String> newestStates(List<Change> changes) {
    Map<String, String> states = new HashMap<>();
    changes.stream()
        .collect(
            Collectors.groupingBy(
                Change::id, Collectors.maxBy(Comparator.comparingLong(Change::seconds))))
        .values()
        .forEach(
            newest ->
                newest
                    .flatMap(Change::status)
                    .ifPresent(status -> states.put("\"" + newest.get().id() + "\"", status)));
    return states;
  }

  private static Map<String, String> statuses(
      SparkSession spark, LakeConfig config, String database) {
    Map<String, String> statuses = new HashMap<>();
    documents(spark, config, database)
        .forEach((id, row) -> statuses.put(id, row.<String>getAs("status")));
    return statuses;
  }

  /** The applied cluster time (seconds) per {@code <topic>/<partition>}. */
  private static Map<String, Long> positions(SparkSession spark, LakeConfig config) {
    return spark
        .read()
        .format("delta")
        .load(LakeTable.STATE_MONGO_POSITIONS.location(config.storage()))
        .select(
            concat_ws("/", col("source_topic"), col("source_partition")),
            col("cluster_time_seconds"))
        .collectAsList()
        .stream()
        .collect(Collectors.toMap(row -> row.getString(0), row -> row.getLong(1)));
  }

  private static void createTopic(String topic, int partitions) throws Exception {
    try (Admin admin =
        Admin.create(KafkaClientProperties.admin(SharedStack.config().kafka(), "mongo-it"))) {
      admin
          .createTopics(List.of(new NewTopic(topic, partitions, (short) 1)))
          .all()
          .get(30, TimeUnit.SECONDS);
    }
  }

  private static List<Change> send(String topic, int partition, Change... changes) {
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(
            KafkaClientProperties.producer(SharedStack.config().kafka(), "mongo-it"))) {
      for (Change change : changes) {
        producer.send(
            new ProducerRecord<>(
                topic, partition, change.key().getBytes(UTF_8), change.json().getBytes(UTF_8)));
      }
      producer.flush();
    }
    return List.of(changes);
  }

  private static void assertFinalDocuments(Map<String, Row> documents) {
    assertThat(documents.keySet())
        .containsExactlyInAnyOrder("{\"$oid\": \"" + OID_A + "\"}", "\"sku-2\"", "\"tx\"");
    Row a = documents.get("{\"$oid\": \"" + OID_A + "\"}");
    assertThat(a.<String>getAs("status")).isEqualTo("shipped");
    assertThat(a.<BigDecimal>getAs("total")).isEqualByComparingTo("12.00");
    assertThat(
            BsonDocument.parse(a.getAs("document"))
                .getDecimal128("total")
                .getValue()
                .bigDecimalValue())
        .isEqualByComparingTo("12.00");
    Row b = documents.get("\"sku-2\"");
    assertThat(BsonDocument.parse(b.getAs("document")).getString("kind").getValue())
        .isEqualTo("replaced");
    assertThat(b.<String>getAs("status")).isNull();
    assertThat(documents.get("\"tx\"").<String>getAs("status")).isEqualTo("second");
  }

  private static Map<String, Row> documents(
      SparkSession spark, LakeConfig config, String database) {
    Map<String, Row> documents = new HashMap<>();
    for (Row row :
        spark
            .read()
            .format("delta")
            .load(config.storage().tableLocation("mirror", database + "__orders"))
            .collectAsList()) {
      documents.put(row.getAs("_id"), row);
    }
    return documents;
  }

  /** One change event as the connector writes it (canonical Extended JSON, resume token as _id). */
  private static String event(
      String token,
      String operationType,
      long seconds,
      int increment,
      String id,
      String fullDocument,
      String updateDescription) {
    StringBuilder json = new StringBuilder();
    json.append("{\"_id\": {\"_data\": \"8265")
        .append(String.format("%06d", seconds))
        .append(token)
        .append("\"}, \"operationType\": \"")
        .append(operationType)
        .append("\"")
        .append(", \"clusterTime\": {\"$timestamp\": {\"t\": ")
        .append(seconds)
        .append(", \"i\": ")
        .append(increment)
        .append("}}")
        .append(", \"wallTime\": {\"$date\": {\"$numberLong\": \"")
        .append(seconds * 1000)
        .append("\"}}");
    if (id != null) {
      json.append(", \"documentKey\": {\"_id\": ").append(id).append("}");
    }
    if (fullDocument != null) {
      json.append(", \"fullDocument\": ").append(fullDocument);
    }
    if (updateDescription != null) {
      json.append(", \"updateDescription\": ").append(updateDescription);
    }
    return json.append("}").toString();
  }

  private static void send(String topic, String... events) {
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(
            KafkaClientProperties.producer(SharedStack.config().kafka(), "mongo-it"))) {
      for (String value : events) {
        producer.send(new ProducerRecord<>(topic, value.getBytes(UTF_8)));
      }
      producer.flush();
    }
  }

  private static PrintStream quietly() {
    return new PrintStream(new ByteArrayOutputStream(), true, UTF_8);
  }
}
