package io.lambdalake.chaos;

import static io.lambdalake.chaos.KillMaxwellCdc.compare;
import static io.lambdalake.chaos.KillMaxwellCdc.connect;
import static io.lambdalake.chaos.KillMaxwellCdc.execute;
import static io.lambdalake.chaos.KillMaxwellCdc.workload;
import static org.awaitility.Awaitility.await;

import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.ingestion.cdc.CdcJob;
import io.lambdalake.spark.DeltaTables;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.spark.sql.Row;

/**
 * TRUNCATE and DROP on MariaDB tables while changes are written and {@code lake cdc} runs (the
 * stack's DDL relay publishes them beside Maxwell). A database of the run's own with two tables:
 * {@code items} takes random inserts, upserts and deletes before, during and after a {@code
 * TRUNCATE TABLE}; {@code gone} is written, then dropped mid-load. The job runs on until the items
 * mirror equals the source and the gone mirror is retired, or 10 minutes pass. Counted: the items
 * mirror against the source as in kill-cdc-maxwell (a row the truncate removed but the mirror kept
 * is diverged); the gone mirror must keep exactly the rows the table had when it was dropped
 * (missing: lost, different or extra: diverged) and be marked {@code lake.source.dropped-at} (one
 * diverged when not). RENAME (with the gh-ost cut-over) and column changes: {@link
 * DdlRenameUnderLoad}.
 */
final class DdlUnderLoad implements Scenario {
  static final String DROPPED_AT = "lake.source.dropped-at";

  private final int changes;

  DdlUnderLoad(int changes) {
    this.changes = changes;
  }

  @Override
  public String name() {
    return "ddl-under-load";
  }

  @Override
  public Tally run(ChaosRun run) throws Exception {
    String database = "chaos_ddl" + UUID.randomUUID().toString().replace("-", "").substring(0, 8);
    String items = run.config().storage().tableLocation("mirror", database + "__items");
    String gone = run.config().storage().tableLocation("mirror", database + "__gone");
    Random random = new Random(5);
    try (Connection source = connect(run.config().mariaDb())) {
      execute(
          source,
          "CREATE DATABASE " + database,
          "CREATE TABLE "
              + database
              + ".items (id INT PRIMARY KEY, qty INT NOT NULL, note VARCHAR(40))",
          "CREATE TABLE "
              + database
              + ".gone (id INT PRIMARY KEY, qty INT NOT NULL, note VARCHAR(40))");
      workload(source, database, random, changes);
      for (int i = 1; i <= Math.max(2, changes / 4); i++) {
        execute(
            source,
            "INSERT INTO " + database + ".gone VALUES (" + i + ", " + i + ", 'g" + i + "')");
      }
      Process cdc =
          run.start(
              CdcJob.class,
              "cdc",
              "--sources=maxwell",
              "--databases=" + database,
              "--trigger=1s",
              "--max-records-per-batch=" + Math.max(1, changes / 5),
              "--progress=2s");
      AtomicReference<Tally> last = new AtomicReference<>();
      try {
        await()
            .atMost(Duration.ofMinutes(20))
            .pollInterval(Duration.ofMillis(500))
            .until(() -> !cdc.isAlive() || run.rows(items) > 0);
        run.requireAlive(cdc, "The CDC job", "cdc");
        workload(source, database, random, changes);
        execute(source, "TRUNCATE TABLE " + database + ".items");
        workload(source, database, random, changes);
        execute(source, "UPDATE " + database + ".gone SET qty = qty + 1000 WHERE id % 2 = 0");
        Map<Integer, String> goneAtDrop = rows(source, database + ".gone");
        execute(source, "DROP TABLE " + database + ".gone");
        workload(source, database, random, changes / 2);
        run.requireAlive(cdc, "The CDC job", "cdc");
        try {
          await()
              .atMost(Duration.ofMinutes(10))
              .pollInterval(Duration.ofSeconds(5))
              .until(
                  () -> {
                    run.requireAlive(cdc, "The CDC job", "cdc");
                    last.set(
                        compare(run, source, database, items).plus(retired(run, gone, goneAtDrop)));
                    return last.get().clean();
                  });
        } catch (org.awaitility.core.ConditionTimeoutException e) {
          System.err.printf("chaos: %s: the mirrors did not agree within 10 minutes%n", name());
        }
      } finally {
        ChaosRun.killHard(cdc);
        execute(source, "DROP DATABASE IF EXISTS " + database);
      }
      if (last.get() == null) {
        throw new LakeException(
            ErrorCode.INTERNAL_ERROR, "No comparison ran in scenario run " + run.name());
      }
      return last.get();
    }
  }

  /**
   * The dropped table's mirror: the rows the table had at the drop, kept, and the mark. A row
   * missing is lost, a different or extra one diverged, and a mirror not marked dropped one more.
   */
  private static Tally retired(ChaosRun run, String mirror, Map<Integer, String> atDrop) {
    Map<Integer, String> mirrored = new HashMap<>();
    long duplicated = 0;
    if (run.rows(mirror) > 0) {
      for (Row row :
          run.spark()
              .read()
              .format("delta")
              .load(mirror)
              .select("id", "qty", "note")
              .collectAsList()) {
        if (mirrored.put(row.getInt(0), row.getInt(1) + "|" + row.getString(2)) != null) {
          duplicated++;
        }
      }
    }
    long lost = atDrop.keySet().stream().filter(id -> !mirrored.containsKey(id)).count();
    long diverged =
        mirrored.entrySet().stream()
            .filter(row -> !row.getValue().equals(atDrop.get(row.getKey())))
            .count();
    if (!droppedAt(run, mirror)) {
      diverged++;
    }
    return new Tally(lost, duplicated, diverged);
  }

  private static boolean droppedAt(ChaosRun run, String mirror) {
    if (!DeltaTables.exists(run.spark(), mirror)) {
      return false;
    }
    return run.spark().sql("SHOW TBLPROPERTIES delta.`" + mirror + "`").collectAsList().stream()
        .anyMatch(row -> row.getString(0).equals(DROPPED_AT));
  }

  private static Map<Integer, String> rows(Connection source, String table) throws SQLException {
    Map<Integer, String> rows = new HashMap<>();
    try (Statement statement = source.createStatement();
        ResultSet result = statement.executeQuery("SELECT id, qty, note FROM " + table)) {
      while (result.next()) {
        rows.put(result.getInt(1), result.getInt(2) + "|" + result.getString(3));
      }
    }
    return rows;
  }
}
