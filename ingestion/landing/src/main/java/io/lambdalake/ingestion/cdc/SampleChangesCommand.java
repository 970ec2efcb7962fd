package io.lambdalake.ingestion.cdc;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.common.kafka.KafkaClientProperties;
import io.lambdalake.common.launch.Endpoint;
import io.lambdalake.common.launch.Job;
import io.lambdalake.common.launch.JobContext;
import io.lambdalake.common.launch.Server;
import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code lake cdc sample-changes}: a few inserts, updates (one of a key) and a delete on a sample
 * table in the source database, then waits until Maxwell put the last of them on Kafka. For the
 * quickstart and for trying {@code lake cdc} by hand.
 */
@Command(
    name = "sample-changes",
    mixinStandardHelpOptions = true,
    description =
        "Change some rows of <database>.customers in the source database (created if missing) and"
            + " wait until Maxwell delivered the changes to Kafka.")
final class SampleChangesCommand implements Job {
  @Spec CommandSpec spec;

  @Option(
      names = "--database",
      defaultValue = "demo_shop",
      description = "Source database to change (default: ${DEFAULT-VALUE}).")
  String database;

  @Option(
      names = "--timeout",
      defaultValue = "60",
      description = "Seconds to wait for Maxwell (default: ${DEFAULT-VALUE}).")
  int timeoutSeconds;

  @Override
  public void validate(LakeConfig config) {
    if (!database.matches("[A-Za-z0-9_]+")) {
      throw new LakeException(
          ErrorCode.INVALID_ARGUMENT, "--database must be letters, digits and _, not " + database);
    }
  }

  @Override
  public List<Endpoint> servers(LakeConfig config) {
    return Server.endpoints(config, Server.MARIADB, Server.KAFKA);
  }

  @Override
  public void run(JobContext context) {
    LakeConfig config = context.config();
    PrintWriter out = spec.commandLine().getOut();
    String token = UUID.randomUUID().toString();
    String table = database + ".customers";
    try (Connection connection =
            DriverManager.getConnection(
                config.mariaDb().jdbcUrl(""),
                config.mariaDb().user(),
                config.mariaDb().password());
        Statement statement = connection.createStatement()) {
      statement.execute("CREATE DATABASE IF NOT EXISTS " + database);
      statement.execute(
          "CREATE TABLE IF NOT EXISTS "
              + table
              + " (id INT PRIMARY KEY, name VARCHAR(60) NOT NULL,"
              + " balance DECIMAL(10,2), signed_up DATETIME(6), note VARCHAR(80))");
      int base = nextId(statement, table);
      statement.execute(
          "INSERT INTO "
              + table
              + " (id, name, balance, signed_up) VALUES"
              + " ("
              + base
              + ", 'Ada', 10.50, NOW(6)), ("
              + (base + 1)
              + ", 'Grace', 20.25, NOW(6)),"
              + " ("
              + (base + 2)
              + ", 'Edsger', NULL, NOW(6)), ("
              + (base + 3)
              + ", 'Barbara 🚀', 3.00, NOW(6))");
      statement.execute("UPDATE " + table + " SET balance = balance + 1 WHERE id = " + base);
      statement.execute(
          "UPDATE " + table + " SET id = " + (base + 100) + " WHERE id = " + (base + 1));
      statement.execute("DELETE FROM " + table + " WHERE id = " + (base + 2));
      statement.execute("UPDATE " + table + " SET note = '" + token + "' WHERE id = " + (base + 3));
      out.printf(
          "changed %s: 4 inserts, 2 updates (one of the key), 1 delete, then a marker%n", table);
    } catch (SQLException e) {
      throw new LakeException(
          ErrorCode.SERVER_NOT_AVAILABLE, "Cannot change " + table + ": " + e.getMessage(), e);
    }
    awaitMaxwell(config, config.topics().maxwellTopic(database, "customers"), token);
    out.printf(
        "Maxwell delivered the changes to %s%n",
        config.topics().maxwellTopic(database, "customers"));
    out.flush();
  }

  private static int nextId(Statement statement, String table) throws SQLException {
    try (var result = statement.executeQuery("SELECT COALESCE(MAX(id), 0) + 1 FROM " + table)) {
      result.next();
      return result.getInt(1);
    }
  }

  private void awaitMaxwell(LakeConfig config, String topic, String token) {
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(
            KafkaClientProperties.consumer(
                config.kafka(), "lake-cdc-sample", "lake-cdc-sample-" + token))) {
      consumer.subscribe(List.of(topic));
      long deadline = System.nanoTime() + Duration.ofSeconds(timeoutSeconds).toNanos();
      while (System.nanoTime() < deadline) {
        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(500))) {
          if (new String(record.value(), UTF_8).contains(token)) {
            return;
          }
        }
      }
    }
    throw new LakeException(
        ErrorCode.SERVER_NOT_AVAILABLE,
        "Maxwell did not deliver the changes to "
            + topic
            + " within "
            + timeoutSeconds
            + " s: is it running (scripts/stack status)?");
  }
}
