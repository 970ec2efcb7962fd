package io.lambdalake.ingestion.cdc.internal;

import static java.util.Objects.requireNonNull;
import static org.apache.spark.sql.functions.call_function;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.regexp_extract;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import io.lambdalake.common.cdc.ChangeEnvelope.SourceName;
import io.lambdalake.common.cdc.SourcePosition.BinlogPosition;
import io.lambdalake.spark.cdc.ChangeEffects;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * What one micro-batch of parsed Maxwell changes holds, from one Spark job over it: how many
 * records, how many could not be read, and per source table its changes, the newest one's position
 * and every column name its after images carry. The per-table work that follows needs no further
 * pass over the batch to find new tables, added columns or tables with nothing newer to apply.
 *
 * @param records every record of the batch
 * @param unreadable records that could not be read as changes (they go to the quarantine)
 * @param logged records the raw change log keeps (those that name their source table)
 * @param renames the DDL relay's table-rename records
 */
public record BatchSurvey(
    long records, long unreadable, long logged, long renames, List<TableSurvey> tables) {
  public BatchSurvey {
    requireNonNegative(records, "records");
    requireNonNegative(unreadable, "unreadable");
    requireNonNegative(logged, "logged");
    requireNonNegative(renames, "renames");
    tables = List.copyOf(tables);
  }

  /**
   * One source table's part of the batch.
   *
   * @param changes row changes (inserts, updates, deletes, bootstrap rows)
   * @param newest the newest change's position
   * @param columns the column names of the after images, as the source spells them
   * @param basenames the binlog basenames of the changes' positions ({@code mariadb-bin})
   * @param serverIds the server_id of the servers the changes come from
   * @param tableChanges truncates and drops of the whole table (among the changes)
   */
  public record TableSurvey(
      SourceName table,
      long changes,
      Optional<BinlogPosition> newest,
      Set<String> columns,
      Set<String> basenames,
      Set<Long> serverIds,
      long tableChanges) {
    public TableSurvey {
      requireNonNull(table, "table is null");
      requireNonNegative(changes, "changes");
      requireNonNegative(tableChanges, "tableChanges");
      requireNonNull(newest, "newest is null");
      columns = Set.copyOf(columns);
      basenames = Set.copyOf(basenames);
      serverIds = Set.copyOf(serverIds);
    }

    /**
     * Whether any change is newer than the threshold (everything is, without one). A truncate or
     * drop always counts: it may arrive after newer row changes (the DDL relay and Maxwell are two
     * producers), and applying it again changes nothing.
     */
    public boolean hasChangesAfter(Optional<BinlogPosition> threshold) {
      if (tableChanges > 0) {
        return true;
      }
      if (newest.isEmpty()) {
        return false;
      }
      return threshold.isEmpty() || newest.get().compareTo(threshold.get()) > 0;
    }
  }

  /** Runs the survey: one aggregation over the (cached) batch. */
  public static BatchSurvey of(Dataset<Row> parsed) {
    Column isChange = col("reason").isNull().and(col("op").isNotNull());
    List<Row> groups =
        parsed
            .groupBy(col("source_database"), col("source_table"))
            .agg(
                count(lit(1)).as("records"),
                sum(when(col("reason").isNotNull(), 1).otherwise(0)).as("unreadable"),
                sum(when(isChange, 1).otherwise(0)).as("changes"),
                call_function(
                        "max",
                        when(
                            isChange,
                            ChangeEffects.binlogOrder(
                                col("binlog_file"), col("binlog_position"), col("order_xoffset"))))
                    .as("newest"),
                call_function(
                        "array_distinct",
                        call_function(
                            "flatten",
                            call_function("collect_set", when(isChange, col("after_columns")))))
                    .as("columns"),
                call_function(
                        "collect_set",
                        when(isChange, regexp_extract(col("binlog_file"), "^(.*)\\.[0-9]+$", 1)))
                    .as("basenames"),
                call_function("collect_set", when(isChange, col("server_id"))).as("server_ids"),
                sum(when(isChange.and(col("op").isin("t", "x")), 1).otherwise(0))
                    .as("table_changes"),
                sum(when(col("reason").isNull().and(col("type").equalTo("table-rename")), 1)
                        .otherwise(0))
                    .as("renames"))
            .collectAsList();
    long records = 0;
    long unreadable = 0;
    long logged = 0;
    long renames = 0;
    List<TableSurvey> tables = new ArrayList<>();
    for (Row group : groups) {
      long groupRecords = group.getLong(2);
      records += groupRecords;
      unreadable += group.getLong(3);
      if (!group.isNullAt(0)) {
        logged += groupRecords;
      }
      renames += group.getLong(10);
      if (group.isNullAt(0) || group.isNullAt(1)) {
        continue;
      }
      long changes = group.getLong(4);
      if (changes == 0) {
        continue;
      }
      Row newest = group.getStruct(5);
      Set<String> columns = new TreeSet<>();
      if (!group.isNullAt(6)) {
        columns.addAll(group.getList(6));
      }
      tables.add(
          new TableSurvey(
              new SourceName(group.getString(0), group.getString(1)),
              changes,
              newest == null
                  ? Optional.empty()
                  : Optional.of(
                      new BinlogPosition(
                          newest.getAs("f"), newest.<Long>getAs("p"), newest.<Long>getAs("x"))),
              columns,
              new TreeSet<>(group.<String>getList(7)),
              new TreeSet<>(group.<Long>getList(8)),
              group.getLong(9)));
    }
    return new BatchSurvey(records, unreadable, logged, renames, tables);
  }

  private static void requireNonNegative(long value, String name) {
    if (value < 0) {
      throw new IllegalArgumentException(name + " is negative: " + value);
    }
  }
}
