package io.lambdalake.stack;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.kafka.KafkaClientProperties;
import io.lambdalake.stack.testing.SharedStack;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A change in MariaDB reaches Kafka as Maxwell's JSON, in binlog order, with its position. */
class MaxwellToKafkaIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static LakeConfig config;

  @BeforeAll
  static void start() {
    config = SharedStack.config();
  }

  @Test
  void insertUpdateAndDeleteArriveInOrderWithTheirData() throws Exception {
    String database = "maxwell_it_" + UUID.randomUUID().toString().substring(0, 8);
    String topic = config.topics().maxwellTopic(database, "customers");
    execute(
        "CREATE DATABASE " + database,
        "CREATE TABLE "
            + database
            + ".customers (id INT PRIMARY KEY, email VARCHAR(100) NOT NULL,"
            + " balance DECIMAL(10,2), note VARCHAR(50))",
        "INSERT INTO "
            + database
            + ".customers VALUES (1, 'alice@example.com', 10.50, 'añadido 🚀')",
        "UPDATE " + database + ".customers SET balance = 20.25, note = NULL WHERE id = 1",
        "DELETE FROM " + database + ".customers WHERE id = 1");

    List<JsonNode> changes = consume(topic, 3);

    assertThat(changes)
        .extracting(change -> change.get("type").asText())
        .containsExactly("insert", "update", "delete");
    JsonNode insert = changes.get(0);
    assertThat(insert.get("database").asText()).isEqualTo(database);
    assertThat(insert.get("table").asText()).isEqualTo("customers");
    assertThat(insert.get("data").get("email").asText()).isEqualTo("alice@example.com");
    assertThat(insert.get("data").get("balance").decimalValue()).isEqualByComparingTo("10.50");
    assertThat(insert.get("data").get("note").asText()).isEqualTo("añadido 🚀");
    assertThat(insert.get("position").asText()).matches("mariadb-bin\\.\\d+:\\d+");
    JsonNode update = changes.get(1);
    assertThat(update.get("data").get("balance").decimalValue()).isEqualByComparingTo("20.25");
    assertThat(update.get("data").get("note").isNull()).isTrue();
    assertThat(update.get("old").get("balance").decimalValue()).isEqualByComparingTo("10.50");
    assertThat(changes.get(2).get("data").get("id").asInt()).isEqualTo(1);
    assertThat(positionOf(changes.get(0))).isLessThan(positionOf(changes.get(1)));
    assertThat(positionOf(changes.get(1))).isLessThan(positionOf(changes.get(2)));
  }

  private static long positionOf(JsonNode change) {
    String[] fileAndOffset = change.get("position").asText().split(":");
    long file = Long.parseLong(fileAndOffset[0].substring(fileAndOffset[0].lastIndexOf('.') + 1));
    return file * 10_000_000_000L + Long.parseLong(fileAndOffset[1]);
  }

  private static List<JsonNode> consume(String topic, int expected) throws Exception {
    List<JsonNode> changes = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(
            KafkaClientProperties.consumer(
                config.kafka(), "maxwell-it", "maxwell-it-" + UUID.randomUUID()))) {
      consumer.subscribe(List.of(topic));
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (changes.size() < expected && System.nanoTime() < deadline) {
        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(500))) {
          changes.add(JSON.readTree(new String(record.value(), UTF_8)));
        }
      }
    }
    assertThat(changes).as("changes on " + topic).hasSize(expected);
    return changes;
  }

  private static void execute(String... statements) throws SQLException {
    try (Connection connection =
            DriverManager.getConnection(
                config.mariaDb().jdbcUrl(""),
                config.mariaDb().user(),
                config.mariaDb().password());
        Statement statement = connection.createStatement()) {
      for (String sql : statements) {
        statement.execute(sql);
      }
    }
  }
}
