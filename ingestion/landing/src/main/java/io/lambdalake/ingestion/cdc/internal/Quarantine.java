package io.lambdalake.ingestion.cdc.internal;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.current_timestamp;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.to_date;

import io.lambdalake.spark.cdc.ParsedChanges;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * Changes that cannot be applied, as rows of raw.cdc_quarantine (the columns QuarantinedInput has).
 */
final class Quarantine {
  static final String SOURCE = "cdc";

  private Quarantine() {}

  /** Rows of {@link ParsedChanges#SCHEMA} (plus anything) with their reason, field and message. */
  static Dataset<Row> rows(Dataset<Row> changes, Column reason, Column field, Column message) {
    return changes.select(
        lit(SOURCE).as("source"),
        reason.cast("string").as("reason"),
        field.cast("string").as("field"),
        message.cast("string").as("message"),
        col("received_at"),
        lit("kafka").as("endpoint"),
        lit(null).cast("string").as("tracking_id"),
        col("payload"),
        col("payload_encoding"),
        col("payload_size"),
        lit(false).as("payload_truncated"),
        col("source_topic"),
        col("source_partition"),
        col("source_offset"),
        current_timestamp().as("quarantined_at"),
        to_date(current_timestamp()).as("quarantine_date"));
  }
}
