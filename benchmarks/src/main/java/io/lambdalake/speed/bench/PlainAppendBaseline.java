package io.lambdalake.speed.bench;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.from_json;
import static org.apache.spark.sql.functions.to_date;
import static org.apache.spark.sql.functions.to_timestamp;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.config.LakeConfigLoader;
import io.lambdalake.common.kafka.KafkaClientProperties;
import io.lambdalake.ingestion.landing.EventLanding;
import io.lambdalake.spark.LakeSpark;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;

/**
 * The speed benchmark's baseline: what a data engineer would write by hand, a plain Spark batch
 * that reads the same topics, parses the JSON and appends it to a Delta table partitioned by date:
 * no validation, quarantine, deduplication, enrichment, exactly-once bookkeeping or views. Prints
 * {@code baseline_rows=N baseline_seconds=S}.
 */
public final class PlainAppendBaseline {
  private PlainAppendBaseline() {}

  public static void main(String[] arguments) {
    LakeConfig config = LakeConfigLoader.load();
    String target = config.storage().tableLocation("bench", "plain_append");
    SparkSession spark = LakeSpark.session(config, "lambda-lake-bench-baseline");
    long started = System.nanoTime();
    Dataset<Row> parsed =
        spark
            .read()
            .format("kafka")
            .options(KafkaClientProperties.sparkOptions(config.kafka()))
            .option("subscribePattern", EventLanding.topicPattern(config.topics()))
            .option("startingOffsets", "earliest")
            .load()
            .select(
                from_json(col("value").cast("string"), EventLanding.wireEventSchema()).as("event"))
            .select("event.*")
            .withColumn("event_time", to_timestamp(col("event_time")))
            .withColumn("event_date", to_date(col("event_time")));
    parsed.write().format("delta").mode(SaveMode.Overwrite).partitionBy("event_date").save(target);
    double seconds = (System.nanoTime() - started) / 1e9;
    long rows = spark.read().format("delta").load(target).count();
    System.out.printf("baseline_rows=%d baseline_seconds=%.2f%n", rows, seconds);
    spark.stop();
  }
}
