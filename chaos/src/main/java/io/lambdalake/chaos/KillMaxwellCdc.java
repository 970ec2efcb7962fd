package io.lambdalake.chaos;

import static org.awaitility.Awaitility.await;

import io.lambdalake.common.config.MariaDbConfig;
import io.lambdalake.ingestion.cdc.CdcJob;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import org.apache.spark.sql.Row;

/**
 * 3. kill -9 of the CDC job (MariaDB, Maxwell) mid-stream: committed inserts, updates and deletes
 * in a database of the run's own, the job killed once the mirror has its first rows while the
 * workload goes on, more changes while it is down, then the restart until Maxwell has delivered
 * everything. Every committed source row equal in the mirror: missing rows are lost, a key twice is
 * duplicated, a differing or deleted-but-present row diverged.
 */
public final class KillMaxwellCdc implements Scenario {
  private static final Duration CATCH_UP = Duration.ofMinutes(10);

  private final int changes;

  KillMaxwellCdc(int changes) {
    this.changes = changes;
  }

  @Override
  public String name() {
    return "kill-cdc-maxwell";
  }

  @Override
  public Tally run(ChaosRun run) throws Exception {
    String database = "chaos_" + UUID.randomUUID().toString().replace("-", "").substring(0, 8);
    String mirror = run.config().storage().tableLocation("mirror", database + "__items");
    Random random = new Random(3);
    try (Connection source = connect(run.config().mariaDb())) {
      execute(
          source,
          "CREATE DATABASE " + database,
          "CREATE TABLE "
              + database
              + ".items (id INT PRIMARY KEY, qty INT NOT NULL, note VARCHAR(40))");
      workload(source, database, random, changes);
      Process cdc =
          run.start(
              CdcJob.class,
              "cdc",
              "--sources=maxwell",
              "--databases=" + database,
              "--trigger=1s",
              "--max-records-per-batch=" + Math.max(1, changes / 10),
              "--progress=2s");
      try {
        await()
            .atMost(Duration.ofMinutes(10))
            .pollInterval(Duration.ofMillis(500))
            .until(() -> !cdc.isAlive() || run.rows(mirror) > 0);
        run.requireAlive(cdc, "The CDC job", "cdc");
        workload(source, database, random, changes);
      } finally {
        ChaosRun.killHard(cdc);
      }
      workload(source, database, random, changes / 2);
      // Maxwell delivers with a lag: the restart runs over what Kafka holds until the mirror
      // agrees, or the catch-up time is over and what differs is counted.
      Instant deadline = Instant.now().plus(CATCH_UP);
      Tally tally;
      int restarts = 0;
      do {
        run.runToEnd(
            CdcJob.class,
            "restart-" + ++restarts,
            "--sources=maxwell",
            "--databases=" + database,
            "--available-now");
        tally = compare(run, source, database, mirror);
      } while (!tally.clean() && Instant.now().isBefore(deadline));
      execute(source, "DROP DATABASE " + database);
      return tally;
    }
  }

  /** Random inserts, updates and deletes over 1..changes*2 keys, each its own transaction. */
  public static void workload(Connection source, String database, Random random, int count)
      throws SQLException {
    try (Statement statement = source.createStatement()) {
      for (int i = 0; i < count; i++) {
        int id = 1 + random.nextInt(Math.max(2, count * 2));
        int qty = random.nextInt(1000);
        switch (random.nextInt(10)) {
          case 0, 1 -> statement.execute("DELETE FROM " + database + ".items WHERE id = " + id);
          default ->
              statement.execute(
                  "INSERT INTO "
                      + database
                      + ".items VALUES ("
                      + id
                      + ", "
                      + qty
                      + ", 'n"
                      + i
                      + "') ON DUPLICATE KEY UPDATE qty = VALUES(qty), note = VALUES(note)");
        }
      }
    }
  }

  public static Tally compare(ChaosRun run, Connection source, String database, String mirror)
      throws SQLException {
    Map<Integer, String> expected = new HashMap<>();
    try (Statement statement = source.createStatement();
        ResultSet rows =
            statement.executeQuery("SELECT id, qty, note FROM " + database + ".items")) {
      while (rows.next()) {
        expected.put(rows.getInt(1), rows.getInt(2) + "|" + rows.getString(3));
      }
    }
    Map<Integer, String> mirrored = new HashMap<>();
    long duplicated = 0;
    long diverged = 0;
    if (run.rows(mirror) > 0) {
      for (Row row :
          run.spark()
              .read()
              .format("delta")
              .load(mirror)
              .select("id", "qty", "note")
              .collectAsList()) {
        String previous = mirrored.put(row.getInt(0), row.getInt(1) + "|" + row.getString(2));
        if (previous != null) {
          duplicated++;
        }
      }
    }
    long lost = 0;
    for (Map.Entry<Integer, String> row : expected.entrySet()) {
      String value = mirrored.get(row.getKey());
      if (value == null) {
        lost++;
      } else if (!value.equals(row.getValue())) {
        diverged++;
      }
    }
    for (Integer id : mirrored.keySet()) {
      if (!expected.containsKey(id)) {
        diverged++;
      }
    }
    return new Tally(lost, duplicated, diverged);
  }

  public static Connection connect(MariaDbConfig mariaDb) throws SQLException {
    Connection connection =
        DriverManager.getConnection(mariaDb.jdbcUrl(""), mariaDb.user(), mariaDb.password());
    try (Statement statement = connection.createStatement()) {
      statement.execute("SET time_zone = '+00:00'");
    }
    return connection;
  }

  public static void execute(Connection connection, String... statements) throws SQLException {
    try (Statement statement = connection.createStatement()) {
      for (String sql : statements) {
        statement.execute(sql);
      }
    }
  }
}
