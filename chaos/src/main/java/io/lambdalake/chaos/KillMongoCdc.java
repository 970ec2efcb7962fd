package io.lambdalake.chaos;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.get_json_object;
import static org.awaitility.Awaitility.await;

import io.lambdalake.common.kafka.KafkaClientProperties;
import io.lambdalake.common.table.LakeTable;
import io.lambdalake.ingestion.cdc.CdcJob;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;

/**
 * kill -9 of the CDC job's MongoDB stream mid-batch. The stack has no MongoDB server, so the
 * scenario is the connector: it produces change events in the MongoDB Kafka source connector's
 * format (as {@code MongoCdcIT} does) to a topic of its own with three partitions, keyed by resume
 * token as the connector keys them, so one document's changes spread over the partitions. Inserts,
 * updates and deletes of known documents, in cluster-time order; {@code lake cdc --sources mongo}
 * in small micro-batches killed once the mirror has rows while more changes arrive, more while it
 * is down, then the restart. Counted: every change once in raw.mongo_changes (missing: lost, twice:
 * duplicated), every document's last state in its mirror (missing: lost, a key twice: duplicated, a
 * different state or a deleted document present: diverged).
 */
final class KillMongoCdc implements Scenario {
  private static final int PARTITIONS = 3;

  private final int changes;

  KillMongoCdc(int changes) {
    this.changes = changes;
  }

  @Override
  public String name() {
    return "kill-cdc-mongo";
  }

  @Override
  public Tally run(ChaosRun run) throws Exception {
    String database = "chaosmongo" + UUID.randomUUID().toString().replace("-", "").substring(0, 8);
    String topic = run.config().topics().cdcMongoPrefix() + database + ".items";
    String mirror = run.config().storage().tableLocation("mirror", database + "__items");
    createTopic(run, topic);
    Connector connector = new Connector(run, topic, changes);
    connector.produce(changes);
    Process cdc =
        run.start(
            CdcJob.class,
            "cdc",
            "--sources=mongo",
            "--databases=" + database,
            "--trigger=1s",
            "--max-records-per-batch=" + Math.max(1, changes / 10),
            "--progress=2s");
    try {
      await()
          .atMost(Duration.ofMinutes(20))
          .pollInterval(Duration.ofMillis(500))
          .until(() -> !cdc.isAlive() || run.rows(mirror) > 0);
      run.requireAlive(cdc, "The CDC job", "cdc");
      connector.produce(changes);
    } finally {
      ChaosRun.killHard(cdc);
    }
    long mirroredAtKill = run.rows(mirror);
    connector.produce(changes / 2);
    run.runToEnd(
        CdcJob.class, "restart", "--sources=mongo", "--databases=" + database, "--available-now");
    System.err.printf(
        "chaos: %s killed with %d documents mirrored, %d changes sent%n",
        name(), mirroredAtKill, connector.sent.size());
    return connector.checkRaw().plus(connector.checkMirror(mirror));
  }

  private static void createTopic(ChaosRun run, String topic) throws Exception {
    try (Admin admin =
        Admin.create(KafkaClientProperties.admin(run.config().kafka(), "lake-chaos"))) {
      admin
          .createTopics(List.of(new NewTopic(topic, PARTITIONS, (short) 1)))
          .all()
          .get(30, TimeUnit.SECONDS);
    }
  }

  /**
   * Stands in for the MongoDB source connector: random changes of documents {@code d0..dK} with
   * growing cluster times, each counted once Kafka acknowledged it, and each document's state after
   * its last change (absent after a delete).
   */
  private static final class Connector {
    private final ChaosRun run;
    private final String topic;
    private final int documents;
    private final Random random = new Random(24);
    private final long firstSecond = Instant.now().getEpochSecond() - 86_400;
    private final List<String> sent = new ArrayList<>();
    private final Map<String, String> states = new HashMap<>();

    Connector(ChaosRun run, String topic, int changes) {
      this.run = run;
      this.topic = topic;
      this.documents = Math.max(4, changes / 4);
    }

    void produce(int count) throws Exception {
      var properties = KafkaClientProperties.producer(run.config().kafka(), "lake-chaos");
      try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(properties)) {
        List<Future<RecordMetadata>> acknowledgements = new ArrayList<>(count);
        List<String> tokens = new ArrayList<>(count);
        Map<String, String> after = new HashMap<>(states);
        for (int i = 0; i < count; i++) {
          long seconds = firstSecond + sent.size() + i;
          String id = "d" + random.nextInt(documents);
          String token = String.format("8265%010d%s", seconds, id);
          String operation;
          String status = null;
          if (!after.containsKey(id)) {
            operation = "insert";
          } else {
            operation = random.nextInt(5) == 0 ? "delete" : "update";
          }
          if (operation.equals("delete")) {
            after.remove(id);
          } else {
            status = "s" + seconds;
            after.put(id, status);
          }
          tokens.add(token);
          acknowledgements.add(
              producer.send(
                  new ProducerRecord<>(
                      topic,
                      random.nextInt(PARTITIONS),
                      ("{\"_id\": {\"_data\": \"" + token + "\"}}").getBytes(UTF_8),
                      event(token, operation, seconds, id, status).getBytes(UTF_8))));
        }
        producer.flush();
        for (Future<RecordMetadata> acknowledgement : acknowledgements) {
          acknowledgement.get();
        }
        sent.addAll(tokens);
        states.clear();
        states.putAll(after);
      }
    }

    /** Changes missing from raw.mongo_changes, and rows beyond one per resume token. */
    Tally checkRaw() {
      Dataset<Row> raw =
          run.spark()
              .read()
              .format("delta")
              .load(LakeTable.RAW_MONGO_CHANGES.location(run.config().storage()))
              .select("resume_token");
      Dataset<Row> tokens =
          run.spark().createDataset(sent, Encoders.STRING()).toDF("resume_token").distinct();
      long lost = tokens.join(raw.distinct(), "resume_token", "left_anti").count();
      long duplicated = raw.count() - raw.distinct().count();
      return new Tally(lost, duplicated, 0);
    }

    /** Every document's last state in the mirror, none twice, deleted ones gone. */
    Tally checkMirror(String mirror) {
      Map<String, String> mirrored = new HashMap<>();
      long duplicated = 0;
      long diverged = 0;
      if (run.rows(mirror) > 0) {
        for (Row row :
            run.spark()
                .read()
                .format("delta")
                .load(mirror)
                .select(col("_id"), get_json_object(col("document"), "$.status"))
                .collectAsList()) {
          if (mirrored.put(row.getString(0), row.getString(1)) != null) {
            duplicated++;
          }
        }
      }
      long lost = 0;
      Set<String> expectedKeys = new HashSet<>();
      for (Map.Entry<String, String> state : states.entrySet()) {
        String key = "\"" + state.getKey() + "\"";
        expectedKeys.add(key);
        String status = mirrored.get(key);
        if (status == null) {
          lost++;
        } else if (!status.equals(state.getValue())) {
          diverged++;
        }
      }
      diverged += mirrored.keySet().stream().filter(key -> !expectedKeys.contains(key)).count();
      return new Tally(lost, duplicated, diverged);
    }

    /** One change event as the connector writes it (canonical Extended JSON). */
    private static String event(
        String token, String operation, long seconds, String id, String status) {
      StringBuilder json = new StringBuilder();
      json.append("{\"_id\": {\"_data\": \"")
          .append(token)
          .append("\"}, \"operationType\": \"")
          .append(operation)
          .append("\", \"clusterTime\": {\"$timestamp\": {\"t\": ")
          .append(seconds)
          .append(", \"i\": 1}}, \"wallTime\": {\"$date\": {\"$numberLong\": \"")
          .append(seconds * 1000)
          .append("\"}}")
          .append(", \"documentKey\": {\"_id\": \"")
          .append(id)
          .append("\"}");
      if (status != null) {
        json.append(", \"fullDocument\": {\"_id\": \"")
            .append(id)
            .append("\", \"status\": \"")
            .append(status)
            .append("\"}");
      }
      if (operation.equals("update")) {
        json.append(", \"updateDescription\": {\"updatedFields\": {\"status\": \"")
            .append(status)
            .append("\"}, \"removedFields\": []}");
      }
      return json.append("}").toString();
    }
  }
}
