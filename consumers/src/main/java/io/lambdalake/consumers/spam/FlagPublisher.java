package io.lambdalake.consumers.spam;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.delta.tables.DeltaTable;
import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.common.kafka.KafkaClientProperties;
import io.lambdalake.common.table.LakeTable;
import io.lambdalake.spark.DeltaTables;
import java.io.IOException;
import java.io.PrintStream;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.jdk.javaapi.CollectionConverters;

/**
 * Publishes spam flags to Kafka exactly once in effect.
 *
 * <p>A flag is first recorded in consumers.spam_flags; every flag there that
 * state.spam_publications does not list is pending. Pending flags are sent in one Kafka transaction
 * under a fixed transactional ID, and listed in state.spam_publications after the commit. A crash
 * leaves one of three states, each recovered before anything else is sent:
 *
 * <ul>
 *   <li>the transaction was open: starting the producer again aborts it (fencing), readers in
 *       read_committed mode never saw it, and the flags are sent again;
 *   <li>the transaction committed but was not listed: the flags are found on the topic after the
 *       last listed offsets and listed without sending them again;
 *   <li>both done: nothing is pending.
 * </ul>
 *
 * One writer per topic: only this job writes the flags topic.
 */
public final class FlagPublisher implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(FlagPublisher.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * Where a test makes the job halt like kill -9 in the middle of publishing: {@code after-send}
   * (the transaction open) or {@code after-commit} (committed, not yet listed). Never set it in
   * production.
   */
  public static final String FAILPOINT_PROPERTY = "lake.spam.failpoint";

  public static final int FAILPOINT_EXIT_CODE = 86;

  private static final StructType PUBLICATION_SCHEMA =
      StructType.fromDDL(LakeTable.STATE_SPAM_PUBLICATIONS.columns());

  private final SparkSession spark;
  private final LakeConfig config;
  private final String topic;
  private final PrintStream progress;
  private final KafkaProducer<byte[], byte[]> producer;
  private final Optional<String> failpoint;

  /** A flag on its way to the topic. */
  private record Flag(String flagId, long profileId, String json, Timestamp offendingChangeAt) {}

  public FlagPublisher(SparkSession spark, LakeConfig config, PrintStream progress) {
    this.spark = requireNonNull(spark, "spark is null");
    this.config = requireNonNull(config, "config is null");
    this.progress = requireNonNull(progress, "progress is null");
    this.topic = config.consumers().spam().topic();
    this.failpoint = Optional.ofNullable(System.getProperty(FAILPOINT_PROPERTY));
    ensureTopic();
    Properties properties = KafkaClientProperties.producer(config.kafka(), "lambda-lake-spam");
    // Fixed per topic: a restarted job fences its killed predecessor and aborts its open
    // transaction.
    properties.put("transactional.id", "lambda-lake-spam:" + topic);
    properties.put("transaction.timeout.ms", "60000");
    this.producer = new KafkaProducer<>(properties);
    try {
      producer.initTransactions();
    } catch (KafkaException e) {
      producer.close(Duration.ZERO);
      throw new LakeException(
          ErrorCode.SERVER_NOT_AVAILABLE,
          "Kafka at "
              + config.kafka().bootstrapServers()
              + " refused the spam flag producer's transactions: "
              + e.getMessage(),
          e);
    }
  }

  /** Sends every pending flag (see the class comment); returns how many were sent now. */
  public int publishPending() {
    List<Flag> pending = pending();
    if (pending.isEmpty()) {
      return 0;
    }
    Map<String, Flag> byId = new HashMap<>();
    pending.forEach(flag -> byId.put(flag.flagId(), flag));
    List<Row> listed = new ArrayList<>();
    for (ConsumerRecord<byte[], byte[]> found : committedAfterListed(byId.keySet())) {
      String flagId = new String(found.headers().lastHeader("flag_id").value(), UTF_8);
      Flag flag = byId.remove(flagId);
      if (flag != null) {
        listed.add(publication(flag, found.partition(), found.offset(), found.timestamp()));
        progress.printf(
            "spam: flag %s of profile %d was on %s already (committed before a restart)%n",
            flagId, flag.profileId(), topic);
      }
    }
    List<Flag> toSend = new ArrayList<>(byId.values());
    toSend.sort(Comparator.comparing(Flag::offendingChangeAt).thenComparing(Flag::flagId));
    if (!toSend.isEmpty()) {
      listed.addAll(send(toSend));
    }
    record(listed);
    progress.flush();
    return toSend.size();
  }

  private List<Row> send(List<Flag> flags) {
    List<Future<RecordMetadata>> sent = new ArrayList<>();
    try {
      producer.beginTransaction();
      for (Flag flag : flags) {
        ProducerRecord<byte[], byte[]> record =
            new ProducerRecord<>(
                topic,
                Long.toString(flag.profileId()).getBytes(UTF_8),
                flag.json().getBytes(UTF_8));
        record.headers().add("flag_id", flag.flagId().getBytes(UTF_8));
        sent.add(producer.send(record));
      }
      producer.flush();
      haltAt("after-send");
      producer.commitTransaction();
    } catch (KafkaException e) {
      abortQuietly();
      throw new LakeException(
          ErrorCode.SERVER_NOT_AVAILABLE,
          "Publishing " + flags.size() + " spam flags to " + topic + " failed: " + e.getMessage(),
          e);
    }
    long committedAt = System.currentTimeMillis();
    haltAt("after-commit");
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < flags.size(); i++) {
      Flag flag = flags.get(i);
      RecordMetadata metadata = get(sent.get(i));
      Row row = publication(flag, metadata.partition(), metadata.offset(), committedAt);
      rows.add(row);
      progress.printf(
          "spam: flagged profile %d (%s) -> %s-%d@%d, %d ms after the offending change in the"
              + " source%n",
          flag.profileId(),
          ruleOf(flag),
          topic,
          metadata.partition(),
          metadata.offset(),
          row.getLong(5));
    }
    return rows;
  }

  private static String ruleOf(Flag flag) {
    try {
      return JSON.readTree(flag.json()).path("rule").asText();
    } catch (IOException e) {
      return "?";
    }
  }

  private Row publication(Flag flag, int partition, long offset, long publishedAtMillis) {
    return RowFactory.create(
        flag.flagId(),
        topic,
        partition,
        offset,
        new Timestamp(publishedAtMillis),
        Math.max(0, publishedAtMillis - flag.offendingChangeAt().getTime()));
  }

  /** Lists published flags; a MERGE on flag_id, so listing one twice changes nothing. */
  private void record(List<Row> rows) {
    if (rows.isEmpty()) {
      return;
    }
    String location = DeltaTables.ensure(spark, config, LakeTable.STATE_SPAM_PUBLICATIONS);
    Dataset<Row> source = spark.createDataFrame(rows, PUBLICATION_SCHEMA);
    DeltaTable.forPath(spark, location)
        .as("t")
        .merge(source.as("s"), "t.flag_id = s.flag_id")
        .whenNotMatched()
        .insertAll()
        .execute();
  }

  private List<Flag> pending() {
    String flags = LakeTable.CONSUMERS_SPAM_FLAGS.location(config.storage());
    if (!DeltaTables.exists(spark, flags)) {
      return List.of();
    }
    String published = DeltaTables.ensure(spark, config, LakeTable.STATE_SPAM_PUBLICATIONS);
    Dataset<Row> pending =
        spark
            .read()
            .format("delta")
            .load(flags)
            .join(
                spark.read().format("delta").load(published).select("flag_id"),
                CollectionConverters.asScala(List.of("flag_id")).toSeq(),
                "left_anti");
    List<Flag> result = new ArrayList<>();
    for (Row row : pending.collectAsList()) {
      result.add(
          new Flag(
              row.getAs("flag_id"),
              row.<Long>getAs("profile_id"),
              message(row),
              row.getAs("offending_change_at")));
    }
    return result;
  }

  /** The Kafka message of a flag: what the live application needs to block at once. */
  private static String message(Row row) {
    ObjectNode node = JSON.createObjectNode();
    node.put("flag_id", row.<String>getAs("flag_id"));
    node.put("profile_id", row.<Long>getAs("profile_id"));
    node.put("rule", row.<String>getAs("rule"));
    try {
      node.set("evidence", JSON.readTree(row.<String>getAs("evidence")));
    } catch (IOException e) {
      node.put("evidence", row.<String>getAs("evidence"));
    }
    node.put("event_count", row.<Long>getAs("event_count"));
    node.put("window_start", row.<Timestamp>getAs("window_start").toInstant().toString());
    node.put(
        "offending_change_at", row.<Timestamp>getAs("offending_change_at").toInstant().toString());
    node.put("detected_at", row.<Timestamp>getAs("detected_at").toInstant().toString());
    return node.toString();
  }

  /**
   * The committed records after the last listed offset of each partition (all of a partition
   * nothing was listed from), read up to the end: where a committed but unlisted batch would be.
   */
  private List<ConsumerRecord<byte[], byte[]>> committedAfterListed(Set<String> wanted) {
    Map<Integer, Long> listedUntil = new HashMap<>();
    String published = LakeTable.STATE_SPAM_PUBLICATIONS.location(config.storage());
    for (Row row :
        spark
            .read()
            .format("delta")
            .load(published)
            .filter(org.apache.spark.sql.functions.col("topic").equalTo(topic))
            .groupBy("kafka_partition")
            .agg(org.apache.spark.sql.functions.max("kafka_offset"))
            .collectAsList()) {
      listedUntil.put(row.getInt(0), row.getLong(1) + 1);
    }
    List<ConsumerRecord<byte[], byte[]>> found = new ArrayList<>();
    Properties properties =
        KafkaClientProperties.consumer(
            config.kafka(), "lambda-lake-spam-recovery", "lambda-lake-spam-recovery");
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(properties)) {
      List<TopicPartition> partitions = new ArrayList<>();
      for (PartitionInfo info : consumer.partitionsFor(topic, Duration.ofSeconds(30))) {
        partitions.add(new TopicPartition(topic, info.partition()));
      }
      consumer.assign(partitions);
      // In read_committed mode the end offsets are the last stable offsets.
      Map<TopicPartition, Long> ends = consumer.endOffsets(partitions, Duration.ofSeconds(30));
      Set<TopicPartition> open = new HashSet<>();
      for (TopicPartition partition : partitions) {
        long from = listedUntil.getOrDefault(partition.partition(), 0L);
        consumer.seek(partition, from);
        if (from < ends.get(partition)) {
          open.add(partition);
        }
      }
      long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
      while (!open.isEmpty()) {
        if (System.nanoTime() > deadline) {
          throw new LakeException(
              ErrorCode.SERVER_NOT_AVAILABLE,
              "Reading " + topic + " back to recover pending spam flags took over 2 minutes");
        }
        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(500))) {
          var header = record.headers().lastHeader("flag_id");
          if (header != null && wanted.contains(new String(header.value(), UTF_8))) {
            found.add(record);
          }
        }
        open.removeIf(partition -> consumer.position(partition) >= ends.get(partition));
      }
    }
    LOG.info("Recovery read {} pending flags back from {}", found.size(), topic);
    return found;
  }

  private void ensureTopic() {
    try (Admin admin =
        Admin.create(KafkaClientProperties.admin(config.kafka(), "lambda-lake-spam-admin"))) {
      if (admin.listTopics().names().get().contains(topic)) {
        return;
      }
      admin
          .createTopics(
              List.of(
                  new NewTopic(
                      topic,
                      config.topics().partitions(),
                      (short) config.topics().replicationFactor())))
          .all()
          .get();
      LOG.info("Created the spam flags topic {}", topic);
    } catch (ExecutionException e) {
      if (!(e.getCause() instanceof TopicExistsException)) {
        throw new LakeException(
            ErrorCode.SERVER_NOT_AVAILABLE,
            "Cannot create the spam flags topic " + topic + ": " + e.getCause().getMessage(),
            e);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new LakeException(ErrorCode.INTERNAL_ERROR, "Interrupted creating " + topic, e);
    }
  }

  private void haltAt(String point) {
    if (failpoint.filter(point::equals).isPresent()) {
      progress.printf("spam: failpoint %s reached, halting%n", point);
      progress.flush();
      Runtime.getRuntime().halt(FAILPOINT_EXIT_CODE);
    }
  }

  private static RecordMetadata get(Future<RecordMetadata> future) {
    try {
      return future.get();
    } catch (ExecutionException e) {
      throw new LakeException(
          ErrorCode.SERVER_NOT_AVAILABLE, "A committed flag has no metadata: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new LakeException(ErrorCode.INTERNAL_ERROR, "Interrupted", e);
    }
  }

  private void abortQuietly() {
    try {
      producer.abortTransaction();
    } catch (KafkaException e) {
      LOG.warn("Aborting the spam flag transaction failed: {}", e.getMessage());
    }
  }

  @Override
  public void close() {
    producer.close(Duration.ofSeconds(10));
  }
}
