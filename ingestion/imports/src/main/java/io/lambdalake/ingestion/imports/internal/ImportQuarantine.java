package io.lambdalake.ingestion.imports.internal;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.current_timestamp;
import static org.apache.spark.sql.functions.length;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.octet_length;
import static org.apache.spark.sql.functions.substring;
import static org.apache.spark.sql.functions.to_date;

import io.lambdalake.common.event.QuarantineField;
import io.lambdalake.common.event.QuarantinedInput.PayloadEncoding;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;

/**
 * Rejected records of a file import as {@code raw.import_quarantine} rows: the quarantine's own
 * columns, with the file in {@code endpoint} (where the input arrived) and the line number in
 * {@code source_offset} (its position in that source), and the line itself as the payload.
 */
public final class ImportQuarantine {
  /** The longest payload kept; longer lines are cut and flagged as truncated. */
  static final int MAX_PAYLOAD_CHARACTERS = 65_536;

  private ImportQuarantine() {}

  /**
   * Quarantine rows from rejected records with columns file, line, text, reason, field, message.
   */
  public static Dataset<Row> rows(Dataset<Row> rejected, String source) {
    Column now = current_timestamp();
    return rejected.select(
        lit(source).as(QuarantineField.SOURCE.wireName()),
        col("reason").as(QuarantineField.REASON.wireName()),
        col("field").as(QuarantineField.FIELD.wireName()),
        col("message").as(QuarantineField.MESSAGE.wireName()),
        lit(null).cast(DataTypes.TimestampType).as(QuarantineField.RECEIVED_AT.wireName()),
        col("file").as(QuarantineField.ENDPOINT.wireName()),
        lit(null).cast(DataTypes.StringType).as(QuarantineField.TRACKING_ID.wireName()),
        substring(col("text"), 1, MAX_PAYLOAD_CHARACTERS).as(QuarantineField.PAYLOAD.wireName()),
        lit(PayloadEncoding.UTF_8.wireName()).as(QuarantineField.PAYLOAD_ENCODING.wireName()),
        octet_length(col("text"))
            .cast(DataTypes.LongType)
            .as(QuarantineField.PAYLOAD_SIZE.wireName()),
        length(col("text"))
            .gt(MAX_PAYLOAD_CHARACTERS)
            .as(QuarantineField.PAYLOAD_TRUNCATED.wireName()),
        lit(null).cast(DataTypes.StringType).as("source_topic"),
        lit(null).cast(DataTypes.IntegerType).as("source_partition"),
        col("line").as("source_offset"),
        now.as("quarantined_at"),
        to_date(now).as("quarantine_date"));
  }
}
