package io.lambdalake.batch;

import io.delta.tables.DeltaTable;
import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.table.LakeTable;
import io.lambdalake.spark.DeltaTables;
import java.sql.Date;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.LocalDate;
import java.util.Collection;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;

/**
 * {@code batch.computed_days}: per day of the batch views, the {@code raw.events} version it was
 * last computed from. Recorded after the days are published, so a run killed in between leaves them
 * dirty (recomputed again), never clean and stale.
 */
final class ComputedDays {
  private ComputedDays() {}

  /** Records the days in one commit; a day keeps the newer of its recorded and the new version. */
  static void record(
      SparkSession spark,
      LakeConfig config,
      Collection<LocalDate> days,
      long rawEventsVersion,
      String runId,
      String logicVersion,
      Instant now) {
    if (days.isEmpty()) {
      return;
    }
    String location = DeltaTables.ensure(spark, config, LakeTable.BATCH_COMPUTED_DAYS);
    Dataset<Row> computed =
        spark.createDataFrame(
            days.stream()
                .map(
                    day ->
                        RowFactory.create(
                            Date.valueOf(day),
                            rawEventsVersion,
                            runId,
                            logicVersion,
                            Timestamp.from(now)))
                .toList(),
            StructType.fromDDL(LakeTable.BATCH_COMPUTED_DAYS.columns()));
    DeltaTable.forPath(spark, location)
        .as("recorded")
        .merge(computed.as("computed"), "recorded.event_date = computed.event_date")
        .whenMatched("computed.raw_events_version >= recorded.raw_events_version")
        .updateAll()
        .whenNotMatched()
        .insertAll()
        .execute();
  }
}
