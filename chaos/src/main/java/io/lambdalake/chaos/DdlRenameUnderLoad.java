package io.lambdalake.chaos;

import static io.lambdalake.chaos.KillMaxwellCdc.connect;
import static io.lambdalake.chaos.KillMaxwellCdc.execute;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.get_json_object;
import static org.apache.spark.sql.functions.lit;
import static org.awaitility.Awaitility.await;

import io.lambdalake.common.config.MariaDbConfig;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.common.table.LakeTable;
import io.lambdalake.ingestion.cdc.CdcJob;
import io.lambdalake.ingestion.cdc.MaxwellIngestion;
import io.lambdalake.ingestion.landing.internal.KafkaEnds;
import io.lambdalake.ingestion.landing.internal.LandedBatch;
import io.lambdalake.spark.DeltaTables;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Pattern;
import org.apache.kafka.common.TopicPartition;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.awaitility.core.ConditionTimeoutException;

/**
 * 10. RENAME (a plain one and the gh-ost / pt-online-schema-change cut-over) and column changes on
 * MariaDB tables while a writer thread changes them the whole time and {@code lake cdc --sources
 * maxwell} runs (the stack's DDL relay publishes the DDL beside Maxwell). A database of the run's
 * own with three tables of {@code (id, qty, note)} under random inserts, upserts and deletes:
 * {@code notes} is renamed ({@code ALTER TABLE notes RENAME TO memos}); {@code items} gets a column
 * ({@code ADD COLUMN tag}) and a wider type ({@code MODIFY qty BIGINT}, then values above 2^31);
 * {@code stock} goes through the cut-over done by hand as the tools do it ({@code CREATE TABLE
 * _stock_new LIKE stock}, a column added to it, triggers repeating every write, a copy in chunks
 * with {@code INSERT IGNORE ... SELECT} while the writes go on, the atomic {@code RENAME TABLE
 * stock TO _stock_old, _stock_new TO stock}, writes after it). The writer never pauses for the DDL:
 * the race between Maxwell and the relay around each rename is measured, not avoided.
 *
 * <p>The job runs until the mirrors agree and it has landed everything Kafka holds, or 10 minutes
 * pass. Counted: each surviving table ({@code items}, {@code memos}, {@code stock}, {@code
 * _stock_old}) row by row against its mirror over the source's columns (missing: lost; a key twice:
 * duplicated; different or extra: diverged); each name renamed away ({@code notes}, {@code
 * _stock_new}) must have a retired mirror with {@code lake.source.renamed-to} naming the new name
 * (one diverged if not); and every row change of the run's database in {@code raw.cdc_quarantine}
 * (e.g. {@code source_table_renamed}: the documented race) whose row the mirror it belongs to lacks
 * (an insert or update whose values are not there, a delete whose row still is) is lost, unless the
 * row-by-row count already counted that key, or a later change of the key (in raw.mysql_changes,
 * under any name of its table) superseded it: the CDC job applies quarantined changes a rename read
 * later makes applicable, and a superseded one is rightly not in the mirror.
 */
final class DdlRenameUnderLoad implements Scenario {
  static final String RENAMED_TO = "lake.source.renamed-to";
  private static final String SOURCE_TABLE_RENAMED = "source_table_renamed";
  private static final Duration AGREE = Duration.ofMinutes(10);
  private static final Duration STEP = Duration.ofMinutes(5);

  /** The source's tables at the end. */
  private static final List<String> SURVIVING = List.of("items", "memos", "stock", "_stock_old");

  /**
   * Each name renamed away, to the name its rows went to. A row change quarantined as written under
   * a name before its rename belongs to the new name's table ({@code stock}'s before the cut-over
   * to {@code _stock_old}).
   */
  private static final Map<String, String> RENAMED =
      Map.of("notes", "memos", "_stock_new", "stock", "stock", "_stock_old");

  /** The names whose mirrors a rename retired. */
  private static final List<String> RETIRED = List.of("notes", "_stock_new");

  private final int changes;

  DdlRenameUnderLoad(int changes) {
    this.changes = changes;
  }

  @Override
  public String name() {
    return "ddl-rename-under-load";
  }

  @Override
  public Tally run(ChaosRun run) throws Exception {
    String database = "chaos_ren" + UUID.randomUUID().toString().replace("-", "").substring(0, 8);
    int keys = Math.max(10, changes);
    int step = Math.max(5, changes / 2);
    try (Connection source = connect(run.config().mariaDb())) {
      execute(source, "CREATE DATABASE " + database);
      for (String table : List.of("items", "notes", "stock")) {
        execute(
            source,
            "CREATE TABLE "
                + database
                + "."
                + table
                + " (id INT PRIMARY KEY, qty INT NOT NULL, note VARCHAR(40))");
        for (int id = 1; id <= keys / 2; id++) {
          execute(
              source,
              "INSERT INTO "
                  + database
                  + "."
                  + table
                  + " VALUES ("
                  + id
                  + ", "
                  + id
                  + ", '"
                  + table.charAt(0)
                  + id
                  + "')");
        }
      }
      Process cdc =
          run.start(
              CdcJob.class,
              "cdc",
              "--sources=maxwell",
              "--databases=" + database,
              "--trigger=1s",
              "--max-records-per-batch=" + Math.max(1, changes * 2),
              "--progress=2s");
      AtomicReference<Counts> last = new AtomicReference<>();
      SourceWriter writer = new SourceWriter(run.config().mariaDb(), database, keys);
      Thread writing = new Thread(writer, "chaos-ddl-rename-writer");
      List<String> overlaps = new ArrayList<>();
      try {
        String items = mirrorLocation(run, database, "items");
        await()
            .atMost(Duration.ofMinutes(20))
            .pollInterval(Duration.ofMillis(500))
            .until(() -> !cdc.isAlive() || run.rows(items) > 0);
        run.requireAlive(cdc, "The CDC job", "cdc");
        writing.start();
        writer.awaitMore(step);
        ddl(source, writer, overlaps, "ALTER TABLE %1$s.notes RENAME TO %1$s.memos", database);
        writer.renamed("notes", "memos");
        writer.awaitMore(step);
        ddl(
            source,
            writer,
            overlaps,
            "ALTER TABLE %s.items ADD COLUMN tag VARCHAR(10) NOT NULL DEFAULT 't'",
            database);
        writer.awaitMore(step);
        ddl(source, writer, overlaps, "ALTER TABLE %s.items MODIFY qty BIGINT NOT NULL", database);
        writer.widened();
        writer.awaitMore(step);
        cutOver(source, writer, overlaps, database, keys, step);
        writer.awaitMore(changes);
        writer.stop();
        writing.join(Duration.ofMinutes(2).toMillis());
        writer.requireNoFailure(run);
        run.requireAlive(cdc, "The CDC job", "cdc");
        System.err.printf(
            "chaos: %s: %d source writes (%d refused: a name gone, a deadlock); writes during each"
                + " DDL statement: %s%n",
            name(), writer.writes(), writer.refused(), String.join(", ", overlaps));
        try {
          await()
              .atMost(AGREE)
              .pollInterval(Duration.ofSeconds(5))
              .until(
                  () -> {
                    run.requireAlive(cdc, "The CDC job", "cdc");
                    last.set(count(run, source, database));
                    return last.get().agree() && landedEverything(run, database);
                  });
        } catch (ConditionTimeoutException e) {
          System.err.printf("chaos: %s: the mirrors did not agree within 10 minutes%n", name());
        }
      } finally {
        writer.stop();
        ChaosRun.killHard(cdc);
        writing.join(Duration.ofMinutes(2).toMillis());
        writer.close();
        execute(source, "DROP DATABASE IF EXISTS " + database);
      }
      if (last.get() == null) {
        throw new LakeException(
            ErrorCode.INTERNAL_ERROR, "No comparison ran in scenario run " + run.name());
      }
      last.get().report(name());
      return last.get().tally();
    }
  }

  /**
   * The online schema change of {@code stock} as pt-online-schema-change does it: the shadow table
   * with the new schema, triggers repeating every write, the copy in chunks (the writer goes on
   * between them), the atomic swap, the triggers dropped.
   */
  private static void cutOver(
      Connection source,
      SourceWriter writer,
      List<String> overlaps,
      String database,
      int keys,
      int step)
      throws SQLException {
    ddl(source, writer, overlaps, "CREATE TABLE %1$s._stock_new LIKE %1$s.stock", database);
    ddl(
        source,
        writer,
        overlaps,
        "ALTER TABLE %s._stock_new ADD COLUMN memo VARCHAR(20) NOT NULL DEFAULT 'm'",
        database);
    ddl(
        source,
        writer,
        overlaps,
        "CREATE TRIGGER %1$s.stock_ins AFTER INSERT ON %1$s.stock FOR EACH ROW"
            + " REPLACE INTO %1$s._stock_new (id, qty, note) VALUES (NEW.id, NEW.qty, NEW.note)",
        database);
    ddl(
        source,
        writer,
        overlaps,
        "CREATE TRIGGER %1$s.stock_upd AFTER UPDATE ON %1$s.stock FOR EACH ROW"
            + " REPLACE INTO %1$s._stock_new (id, qty, note) VALUES (NEW.id, NEW.qty, NEW.note)",
        database);
    ddl(
        source,
        writer,
        overlaps,
        "CREATE TRIGGER %1$s.stock_del AFTER DELETE ON %1$s.stock FOR EACH ROW"
            + " DELETE IGNORE FROM %1$s._stock_new WHERE id = OLD.id",
        database);
    int chunk = Math.max(1, keys / 4);
    for (int from = 1; from <= keys; from += chunk) {
      copyChunk(source, database, from, from + chunk - 1);
      writer.awaitMore(Math.max(1, step / 4));
    }
    writer.awaitMore(step);
    ddl(
        source,
        writer,
        overlaps,
        "RENAME TABLE %1$s.stock TO %1$s._stock_old, %1$s._stock_new TO %1$s.stock",
        database);
    writer.awaitMore(step);
    for (String trigger : List.of("stock_ins", "stock_upd", "stock_del")) {
      execute(source, "DROP TRIGGER " + database + "." + trigger);
    }
  }

  /**
   * One chunk of the tool's row copy. Like pt-online-schema-change, it tries again when InnoDB
   * chose it as a deadlock's victim against the writer's trigger (nothing of it was committed).
   */
  private static void copyChunk(Connection source, String database, int from, int to)
      throws SQLException {
    String copy =
        String.format(
            "INSERT LOW_PRIORITY IGNORE INTO %1$s._stock_new (id, qty, note)"
                + " SELECT id, qty, note FROM %1$s.stock WHERE id BETWEEN %2$d AND %3$d"
                + " LOCK IN SHARE MODE",
            database, from, to);
    for (int attempt = 1; ; attempt++) {
      try {
        execute(source, copy);
        return;
      } catch (SQLException e) {
        if (!SourceWriter.RETRYABLE.contains(e.getErrorCode()) || attempt == 10) {
          throw e;
        }
      }
    }
  }

  /** Runs a DDL statement and notes how many writes the writer made while it ran. */
  private static void ddl(
      Connection source,
      SourceWriter writer,
      List<String> overlaps,
      String statement,
      String database)
      throws SQLException {
    String sql = String.format(statement, database);
    long before = writer.writes();
    execute(source, sql);
    overlaps.add(
        sql.replace(database + ".", "").replaceAll(" (FOR EACH ROW|ADD COLUMN|MODIFY).*", " $1")
            + ": "
            + (writer.writes() - before));
  }

  /**
   * Whether the job has landed every record Kafka holds for the run's database: the quarantine,
   * which every batch commits to last but for the positions, recorded offsets at Kafka's ends.
   */
  private static boolean landedEverything(ChaosRun run, String database) {
    Map<TopicPartition, Long> ends =
        KafkaEnds.of(
            run.config().kafka(),
            MaxwellIngestion.topicPattern(run.config(), Pattern.quote(database)));
    Map<TopicPartition, Long> recorded =
        LandedBatch.recorded(
            run.spark().sparkContext().hadoopConfiguration(),
            LakeTable.RAW_CDC_QUARANTINE.location(run.config().storage()),
            MaxwellIngestion.QUERY_NAME,
            ends.keySet());
    return ends.entrySet().stream()
        .allMatch(end -> recorded.getOrDefault(end.getKey(), 0L) >= end.getValue());
  }

  /** The surviving tables row by row, the retired mirrors, and the quarantined row changes. */
  private static Counts count(ChaosRun run, Connection source, String database)
      throws SQLException {
    long lost = 0;
    long duplicated = 0;
    long diverged = 0;
    Map<String, Map<Integer, Map<String, String>>> mirrors = new HashMap<>();
    Set<String> counted = new HashSet<>();
    for (String table : SURVIVING) {
      Map<Integer, Map<String, String>> expected = sourceRows(source, database + "." + table);
      List<String> columns =
          expected.values().stream()
              .findFirst()
              .map(row -> List.copyOf(row.keySet()))
              .orElse(List.of("id", "qty", "note"));
      Map<Integer, Map<String, String>> mirrored = new HashMap<>();
      String location = mirrorLocation(run, database, table);
      if (run.rows(location) > 0) {
        for (Row row : mirrorRows(run, location, columns)) {
          Map<String, String> values = new LinkedHashMap<>();
          for (int i = 0; i < columns.size(); i++) {
            values.put(columns.get(i), row.getString(i));
          }
          if (mirrored.put(Integer.parseInt(values.get("id")), values) != null) {
            duplicated++;
          }
        }
      }
      mirrors.put(table, mirrored);
      for (Map.Entry<Integer, Map<String, String>> row : expected.entrySet()) {
        Map<String, String> value = mirrored.get(row.getKey());
        if (value == null) {
          lost++;
          counted.add(table + "/" + row.getKey());
        } else if (!value.equals(row.getValue())) {
          diverged++;
          counted.add(table + "/" + row.getKey());
        }
      }
      for (Integer id : mirrored.keySet()) {
        if (!expected.containsKey(id)) {
          diverged++;
          counted.add(table + "/" + id);
        }
      }
    }
    List<String> unretired = new ArrayList<>();
    for (String table : RETIRED) {
      String expectedName = database + "." + RENAMED.get(table);
      if (!renamedTo(run, mirrorLocation(run, database, table)).equals(Optional.of(expectedName))) {
        diverged++;
        unretired.add(table);
      }
    }
    Quarantined quarantined = quarantined(run, database, mirrors, counted);
    return new Counts(new Tally(lost, duplicated, diverged), unretired, quarantined);
  }

  /** The source table's rows by id, each column's value as text ("null" for NULL). */
  private static Map<Integer, Map<String, String>> sourceRows(Connection source, String table)
      throws SQLException {
    Map<Integer, Map<String, String>> rows = new HashMap<>();
    try (Statement statement = source.createStatement();
        ResultSet result = statement.executeQuery("SELECT * FROM " + table)) {
      ResultSetMetaData metadata = result.getMetaData();
      while (result.next()) {
        Map<String, String> values = new LinkedHashMap<>();
        for (int i = 1; i <= metadata.getColumnCount(); i++) {
          values.put(metadata.getColumnName(i), String.valueOf(result.getString(i)));
        }
        rows.put(result.getInt("id"), values);
      }
    }
    return rows;
  }

  /** The mirror's rows over the source's columns as text; a column it lacks reads as such. */
  private static List<Row> mirrorRows(ChaosRun run, String location, List<String> columns) {
    Dataset<Row> mirror = run.spark().read().format("delta").load(location);
    Set<String> present = Set.of(mirror.columns());
    Column[] selected =
        columns.stream()
            .map(
                column ->
                    present.contains(column)
                        ? coalesce(col(column).cast("string"), lit("null")).as(column)
                        : lit("<no column>").as(column))
            .toArray(Column[]::new);
    return mirror.select(selected).collectAsList();
  }

  /** The mirror's {@code lake.source.renamed-to}, if it exists and has one. */
  private static Optional<String> renamedTo(ChaosRun run, String location) {
    if (!DeltaTables.exists(run.spark(), location)) {
      return Optional.empty();
    }
    return run.spark().sql("SHOW TBLPROPERTIES delta.`" + location + "`").collectAsList().stream()
        .filter(row -> row.getString(0).equals(RENAMED_TO))
        .map(row -> row.getString(1))
        .findFirst();
  }

  private record Quarantined(Map<String, Long> reasons, long lost, Set<String> lacking) {}

  /**
   * The row changes of the run's database in raw.cdc_quarantine, by reason, and how many of them
   * the mirror they belong to lacks (an insert's or update's row not there with its values, a
   * delete's row still there), leaving out keys the row-by-row count counted already.
   */
  private static Quarantined quarantined(
      ChaosRun run,
      String database,
      Map<String, Map<Integer, Map<String, String>>> mirrors,
      Set<String> counted) {
    String location = LakeTable.RAW_CDC_QUARANTINE.location(run.config().storage());
    Map<String, Long> reasons = new TreeMap<>();
    if (!DeltaTables.exists(run.spark(), location)) {
      return new Quarantined(reasons, 0, Set.of());
    }
    List<Row> rows =
        run.spark()
            .read()
            .format("delta")
            .load(location)
            .filter(get_json_object(col("payload"), "$.database").equalTo(database))
            .select(
                col("reason"),
                get_json_object(col("payload"), "$.table"),
                get_json_object(col("payload"), "$.type"),
                get_json_object(col("payload"), "$.data.id"),
                get_json_object(col("payload"), "$.data.qty"),
                get_json_object(col("payload"), "$.data.note"),
                get_json_object(col("payload"), "$.position"),
                get_json_object(col("payload"), "$.xoffset"))
            .collectAsList();
    Map<String, ChangePosition> newest = newestChanges(run, database);
    long lost = 0;
    Set<String> lacking = new HashSet<>();
    for (Row row : rows) {
      String reason = row.getString(0);
      String table = row.getString(1);
      String type = row.getString(2);
      reasons.merge(reason + " (" + table + " " + type + ")", 1L, Long::sum);
      if (row.isNullAt(3) || !List.of("insert", "update", "delete").contains(type)) {
        continue;
      }
      // A name renamed away had all its changes before its rename; the old stock only those
      // quarantined as written before the cut-over.
      String belongsTo =
          RETIRED.contains(table) || reason.equals(SOURCE_TABLE_RENAMED)
              ? RENAMED.getOrDefault(table, table)
              : table;
      int id = Integer.parseInt(row.getString(3));
      // A later change of the key (under any name its table had) decides the row: the mirror
      // holding that one, not this one, is right, and the row-by-row count checks it.
      ChangePosition position = ChangePosition.of(row.getString(6), row.getString(7));
      ChangePosition last = newest.get(family(table) + "/" + id);
      if (last != null && position.compareTo(last) < 0) {
        continue;
      }
      Map<String, String> mirrored =
          mirrors.getOrDefault(belongsTo, Map.of()).getOrDefault(id, Map.of());
      boolean same =
          String.valueOf(row.getString(4)).equals(mirrored.get("qty"))
              && String.valueOf(row.getString(5)).equals(mirrored.get("note"));
      boolean missing = type.equals("delete") ? same : !same;
      if (missing && !counted.contains(belongsTo + "/" + id)) {
        lost++;
        lacking.add(belongsTo + "/" + id + " (" + type + " of " + table + ")");
      }
    }
    return new Quarantined(reasons, lost, new TreeSet<>(lacking));
  }

  /**
   * The newest row change of each key in raw.mysql_changes, by the table the key's rows live in now
   * ({@link #family}): {@code <family>/<id>}.
   */
  private static Map<String, ChangePosition> newestChanges(ChaosRun run, String database) {
    Map<String, ChangePosition> newest = new HashMap<>();
    String log = LakeTable.RAW_MYSQL_CHANGES.location(run.config().storage());
    if (!DeltaTables.exists(run.spark(), log)) {
      return newest;
    }
    for (Row row :
        run.spark()
            .read()
            .format("delta")
            .load(log)
            .filter(
                col("source_database")
                    .equalTo(database)
                    .and(col("type").isin("insert", "update", "delete")))
            .select(
                col("source_table"),
                get_json_object(col("data"), "$.id"),
                col("binlog_file"),
                col("binlog_position"),
                col("xoffset"))
            .collectAsList()) {
      if (row.isNullAt(1) || row.isNullAt(2)) {
        continue;
      }
      ChangePosition position =
          new ChangePosition(
              sequence(row.getString(2)), row.getLong(3), row.isNullAt(4) ? 0 : row.getLong(4));
      newest.merge(
          family(row.getString(0)) + "/" + row.getString(1),
          position,
          (one, other) -> one.compareTo(other) >= 0 ? one : other);
    }
    return newest;
  }

  /** The surviving table whose keys a name's rows share: a rename or the cut-over's copy. */
  private static String family(String table) {
    return switch (table) {
      case "notes", "memos" -> "memos";
      case "stock", "_stock_new", "_stock_old" -> "stock";
      default -> table;
    };
  }

  private static long sequence(String binlogFile) {
    return Long.parseLong(binlogFile.substring(binlogFile.lastIndexOf('.') + 1));
  }

  /** A row change's place in the binlog: file number, offset, place in its transaction. */
  private record ChangePosition(long file, long offset, long xoffset)
      implements Comparable<ChangePosition> {
    static ChangePosition of(String position, String xoffset) {
      int colon = position.lastIndexOf(':');
      return new ChangePosition(
          sequence(position.substring(0, colon)),
          Long.parseLong(position.substring(colon + 1)),
          xoffset == null ? 0 : Long.parseLong(xoffset));
    }

    @Override
    public int compareTo(ChangePosition other) {
      int byFile = Long.compare(file, other.file);
      if (byFile != 0) {
        return byFile;
      }
      int byOffset = Long.compare(offset, other.offset);
      return byOffset != 0 ? byOffset : Long.compare(xoffset, other.xoffset);
    }
  }

  private static String mirrorLocation(ChaosRun run, String database, String table) {
    return run.config().storage().tableLocation("mirror", database + "__" + table);
  }

  /** One count: the mirrors against the source, and the quarantined changes the mirrors lack. */
  private record Counts(Tally mirrors, List<String> unretired, Quarantined quarantined) {
    boolean agree() {
      return mirrors.clean();
    }

    Tally tally() {
      return mirrors.plus(new Tally(quarantined.lost(), 0, 0));
    }

    void report(String scenario) {
      System.err.printf(
          "chaos: %s: mirrors %s; not retired: %s; quarantined: %s, %d of them lost%s%n",
          scenario,
          mirrors.toLine(),
          unretired.isEmpty() ? "none" : unretired,
          quarantined.reasons().isEmpty() ? "none" : quarantined.reasons(),
          quarantined.lost(),
          quarantined.lacking().isEmpty()
              ? ""
              : " (mirror/key: " + String.join(", ", quarantined.lacking()) + ")");
    }
  }

  /**
   * The writer: random inserts, upserts and deletes over {@code items}, {@code notes} (later {@code
   * memos}) and {@code stock}, each its own transaction, on a connection of its own, until stopped.
   * A statement against a name a rename just took away fails (MariaDB 1146) and is counted as
   * refused; the next one goes to the table's new name once the scenario names it.
   */
  private static final class SourceWriter implements Runnable, AutoCloseable {
    /**
     * What a statement may meet beside DDL and the tool's copy, nothing of it committed: no such
     * table (1146, a name a rename took away), deadlock (1213), lock wait timeout (1205), table
     * definition changed (1412).
     */
    static final Set<Integer> RETRYABLE = Set.of(1146, 1213, 1205, 1412);

    private final Connection connection;
    private final String database;
    private final int keys;
    private final Random random = new Random(11);
    private final Map<String, String> names = new ConcurrentHashMap<>();
    private final AtomicLong writes = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();
    private final AtomicReference<SQLException> failure = new AtomicReference<>();
    private volatile boolean stopped;
    private volatile boolean wide;

    SourceWriter(MariaDbConfig mariaDb, String database, int keys) throws SQLException {
      this.connection = connect(mariaDb);
      this.database = database;
      this.keys = keys;
      for (String table : List.of("items", "notes", "stock")) {
        names.put(table, table);
      }
    }

    @Override
    public void run() {
      List<String> tables = List.of("items", "notes", "stock");
      try (Statement statement = connection.createStatement()) {
        for (long i = 0; !stopped; i++) {
          String table = tables.get(random.nextInt(tables.size()));
          try {
            statement.execute(change(table, i));
            writes.incrementAndGet();
          } catch (SQLException e) {
            if (!RETRYABLE.contains(e.getErrorCode())) {
              throw e;
            }
            refused.incrementAndGet();
          }
        }
      } catch (SQLException e) {
        failure.set(e);
      }
    }

    private String change(String table, long i) {
      int id = 1 + random.nextInt(keys);
      long qty = random.nextInt(1000) + (wide && table.equals("items") ? 3_000_000_000L : 0);
      String name = database + "." + names.get(table);
      if (random.nextInt(10) < 2) {
        return "DELETE FROM " + name + " WHERE id = " + id;
      }
      return "INSERT INTO "
          + name
          + " (id, qty, note) VALUES ("
          + id
          + ", "
          + qty
          + ", 'w"
          + i
          + "') ON DUPLICATE KEY UPDATE qty = VALUES(qty), note = VALUES(note)";
    }

    /** Waits until the writer made {@code count} more writes (it fails the scenario if it died). */
    void awaitMore(long count) {
      long target = writes.get() + count;
      await()
          .atMost(STEP)
          .pollInterval(Duration.ofMillis(10))
          .until(() -> writes.get() >= target || failure.get() != null || stopped);
      if (failure.get() != null) {
        throw new LakeException(
            ErrorCode.INTERNAL_ERROR,
            "The source writer failed: " + failure.get().getMessage(),
            failure.get());
      }
    }

    void renamed(String from, String to) {
      names.put(from, to);
    }

    void widened() {
      wide = true;
    }

    void stop() {
      stopped = true;
    }

    long writes() {
      return writes.get();
    }

    long refused() {
      return refused.get();
    }

    void requireNoFailure(ChaosRun run) {
      if (failure.get() != null) {
        throw new LakeException(
            ErrorCode.INTERNAL_ERROR,
            "The source writer failed in scenario run "
                + run.name()
                + ": "
                + failure.get().getMessage(),
            failure.get());
      }
    }

    @Override
    public void close() throws SQLException {
      connection.close();
    }
  }
}
