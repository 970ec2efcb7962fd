package io.lambdalake.ingestion.cdc.internal;

import static org.apache.spark.sql.functions.col;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/** Records that could not be read as changes, as raw.cdc_quarantine rows with their own reason. */
public final class QuarantineRows {
  private QuarantineRows() {}

  public static Dataset<Row> of(Dataset<Row> unreadable) {
    return Quarantine.rows(
        unreadable, col("reason"), org.apache.spark.sql.functions.lit(null), col("message"));
  }
}
