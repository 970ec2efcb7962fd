package io.lambdalake.chaos;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lambdalake.common.kafka.KafkaClientProperties;
import io.lambdalake.common.table.LakeTable;
import io.lambdalake.consumers.SampleMirrors;
import io.lambdalake.consumers.sample.SampleDatabase;
import io.lambdalake.consumers.spam.SpamJob;
import io.lambdalake.ingestion.cdc.CdcJob;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;

/**
 * kill -9 of {@code lake spam} mid-batch. A sample database of the run's own (40 ordinary profiles,
 * a day of activity) followed by {@code lake cdc} in its own JVM; the spam job started, then waves
 * of scripted spammers, each a new account sending 35 interests in one transaction, so each must be
 * flagged {@code too_many_interests} and {@code new_account_burst}. The job is killed as soon as
 * the flags table holds the second wave's flags (between its MERGE and the Kafka publication, or
 * just after it); a third wave arrives while it is down; then the restart. Counted from the flags
 * topic (read committed) against the input: an expected (profile, rule) missing is lost, one beyond
 * once duplicated, a flag of an ordinary profile or a flags-table row not on the topic (or the
 * reverse) diverged.
 */
final class KillSpam implements Scenario {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int ORDINARY_PROFILES = 40;
  private static final List<String> RULES = List.of("too_many_interests", "new_account_burst");

  private final int spammersPerWave;

  KillSpam(int spammersPerWave) {
    this.spammersPerWave = spammersPerWave;
  }

  @Override
  public String name() {
    return "kill-spam";
  }

  @Override
  public Tally run(ChaosRun chaos) throws Exception {
    String database = "chaosspam" + UUID.randomUUID().toString().replace("-", "").substring(0, 8);
    ChaosRun run =
        chaos.with(
            Map.of(
                "lake.consumers.sample-database",
                database,
                "lake.consumers.spam.topic",
                chaos.name() + ".spam-flags"));
    SampleDatabase sample = new SampleDatabase(run.config().mariaDb(), database);
    sample.create(false);
    sample.generate(
        new SampleDatabase.Options(ORDINARY_PROFILES, 1, 7, Instant.now()),
        new PrintStream(new ByteArrayOutputStream(), true, UTF_8));
    SampleMirrors mirrors = SampleMirrors.of(run.config());
    String flagsTable = LakeTable.CONSUMERS_SPAM_FLAGS.location(run.config().storage());
    List<Long> spammers = new ArrayList<>();
    Process cdc =
        run.start(
            CdcJob.class,
            "cdc",
            "--sources=maxwell",
            "--databases=" + database,
            "--trigger=1s",
            "--progress=5s");
    List<Process> spam = new ArrayList<>();
    try {
      await()
          .atMost(Duration.ofMinutes(20))
          .pollInterval(Duration.ofSeconds(1))
          .until(
              () ->
                  !cdc.isAlive()
                      || List.of("profiles", "interests", "messages", "reports").stream()
                          .allMatch(table -> run.rows(mirrors.location(table)) > 0));
      run.requireAlive(cdc, "The CDC job", "cdc");
      spam.add(run.start(SpamJob.class, "spam", "--trigger=1s", "--progress=2s"));
      Process first = spam.get(0);
      await()
          .atMost(Duration.ofMinutes(15))
          .pollInterval(Duration.ofSeconds(1))
          .until(
              () ->
                  !first.isAlive() || Files.readString(run.log("spam")).contains("spam: started"));
      run.requireAlive(first, "The spam job", "spam");
      wave(sample, database, spammers);
      long firstWave = RULES.size() * (long) spammers.size();
      await()
          .atMost(Duration.ofMinutes(8))
          .pollInterval(Duration.ofMillis(500))
          .until(() -> !first.isAlive() || run.rows(flagsTable) >= firstWave);
      run.requireAlive(first, "The spam job", "spam");
      wave(sample, database, spammers);
      await()
          .atMost(Duration.ofMinutes(8))
          .pollInterval(Duration.ofMillis(100))
          .until(() -> !first.isAlive() || run.rows(flagsTable) > firstWave);
      run.requireAlive(first, "The spam job", "spam");
      ChaosRun.killHard(first);
      wave(sample, database, spammers);
      spam.add(run.start(SpamJob.class, "restart", "--trigger=1s", "--progress=2s"));
      Set<String> expected = new HashSet<>();
      spammers.forEach(id -> RULES.forEach(rule -> expected.add(id + "/" + rule)));
      List<JsonNode> flags = new ArrayList<>();
      try (KafkaConsumer<byte[], byte[]> consumer =
          new KafkaConsumer<>(
              KafkaClientProperties.consumer(
                  run.config().kafka(), "lake-chaos", "lake-chaos-" + UUID.randomUUID()))) {
        Process restart = spam.get(1);
        try {
          await()
              .atMost(Duration.ofMinutes(8))
              .pollInterval(Duration.ofSeconds(1))
              .until(
                  () -> {
                    run.requireAlive(restart, "The restarted spam job", "restart");
                    flags.addAll(readAll(consumer, run));
                    return keys(flags).containsAll(expected);
                  });
        } catch (org.awaitility.core.ConditionTimeoutException e) {
          System.err.printf("chaos: %s: not every expected flag within 8 minutes%n", chaos.name());
        }
        ChaosRun.killHard(restart);
        flags.addAll(readAll(consumer, run));
      }
      return count(run, flags, expected, flagsTable, spammers);
    } finally {
      for (Process job : spam) {
        ChaosRun.killHard(job);
      }
      ChaosRun.killHard(cdc);
      try (Connection source = sample.connect(database);
          Statement statement = source.createStatement()) {
        statement.execute("DROP DATABASE " + database);
      }
    }
  }

  private static Tally count(
      ChaosRun run,
      List<JsonNode> flags,
      Set<String> expected,
      String flagsTable,
      List<Long> spammers) {
    List<String> keys = flags.stream().map(KillSpam::key).toList();
    long lost = expected.stream().filter(key -> !keys.contains(key)).count();
    long duplicated = keys.size() - new HashSet<>(keys).size();
    Set<Long> flagged = new HashSet<>();
    flags.forEach(flag -> flagged.add(flag.path("profile_id").asLong()));
    long diverged = flagged.stream().filter(id -> !spammers.contains(id)).count();
    Set<String> onTopic = new HashSet<>();
    flags.forEach(flag -> onTopic.add(flag.path("flag_id").asText()));
    Set<String> recorded = new HashSet<>();
    run.spark().read().format("delta").load(flagsTable).select("flag_id").collectAsList().stream()
        .forEach(row -> recorded.add(row.getString(0)));
    diverged += recorded.stream().filter(id -> !onTopic.contains(id)).count();
    diverged += onTopic.stream().filter(id -> !recorded.contains(id)).count();
    System.err.printf(
        "chaos: kill-spam: %d spammers, %d flags on the topic, %d in the flags table%n",
        spammers.size(), flags.size(), recorded.size());
    return new Tally(lost, duplicated, diverged);
  }

  /** A wave of new accounts, each sending 35 interests at once in one transaction. */
  private void wave(SampleDatabase sample, String database, List<Long> spammers) throws Exception {
    try (Connection source = sample.connect(database);
        PreparedStatement interest =
            source.prepareStatement(
                "INSERT INTO interests (sender_id, receiver_id, status, created_at)"
                    + " VALUES (?, ?, 'sent', UTC_TIMESTAMP(3))")) {
      for (int s = 0; s < spammersPerWave; s++) {
        long id = 100_001 + spammers.size();
        source.setAutoCommit(false);
        try (Statement statement = source.createStatement()) {
          statement.execute(
              "INSERT INTO profiles VALUES ("
                  + id
                  + ", 'Bulk S.', 'male', '1995-01-01', 'Pune', 'Hindu', 'Maratha', 'bachelor', 3,"
                  + " 'female', 20, 40, NULL, NULL, NULL, 'active', UTC_TIMESTAMP(3),"
                  + " UTC_TIMESTAMP(3))");
        }
        for (int i = 0; i < 35; i++) {
          interest.setLong(1, id);
          interest.setLong(2, 1 + i % ORDINARY_PROFILES);
          interest.executeUpdate();
        }
        source.commit();
        spammers.add(id);
      }
    }
  }

  private static Set<String> keys(List<JsonNode> flags) {
    Set<String> keys = new HashSet<>();
    flags.forEach(flag -> keys.add(key(flag)));
    return keys;
  }

  private static String key(JsonNode flag) {
    return flag.path("profile_id").asLong() + "/" + flag.path("rule").asText();
  }

  /** What the topic holds for read-committed readers since the last call: up to its end. */
  private static List<JsonNode> readAll(KafkaConsumer<byte[], byte[]> consumer, ChaosRun run)
      throws Exception {
    String topic = run.config().consumers().spam().topic();
    if (consumer.assignment().isEmpty()) {
      List<PartitionInfo> infos = consumer.partitionsFor(topic, Duration.ofSeconds(10));
      if (infos == null || infos.isEmpty()) {
        return List.of();
      }
      List<TopicPartition> partitions =
          infos.stream().map(info -> new TopicPartition(topic, info.partition())).toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
    }
    var ends = consumer.endOffsets(consumer.assignment(), Duration.ofSeconds(10));
    List<JsonNode> flags = new ArrayList<>();
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (ends.entrySet().stream()
            .anyMatch(end -> consumer.position(end.getKey()) < end.getValue())
        && System.nanoTime() < deadline) {
      for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(200))) {
        flags.add(JSON.readTree(new String(record.value(), UTF_8)));
      }
    }
    return flags;
  }
}
