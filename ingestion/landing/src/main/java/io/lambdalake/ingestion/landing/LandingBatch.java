package io.lambdalake.ingestion.landing;

import static java.util.Objects.requireNonNull;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.not;

import io.lambdalake.ingestion.landing.internal.LandedBatch;
import io.lambdalake.spark.TableUpkeep;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;

/**
 * One micro-batch of a landing stream, as its writer sees it: the idempotence key of every Delta
 * write it makes, the Kafka offsets it lands (recorded in each commit), and the append that skips
 * what a table already holds.
 */
public final class LandingBatch {
  /** Kafka lineage columns every append-only landing table has. */
  public static final String SOURCE_TOPIC = "source_topic";

  public static final String SOURCE_PARTITION = "source_partition";
  public static final String SOURCE_OFFSET = "source_offset";

  private final LandedBatch landed;
  private final Map<String, Map<TopicPartition, Long>> held;
  private final TableUpkeep upkeep;

  LandingBatch(
      LandedBatch landed, Map<String, Map<TopicPartition, Long>> held, TableUpkeep upkeep) {
    this.landed = requireNonNull(landed, "landed is null");
    this.held = Map.copyOf(held);
    this.upkeep = requireNonNull(upkeep, "upkeep is null");
  }

  /**
   * The Delta application id of every write of this stream's query: the stream's name and the
   * query's persistent id, so that a new checkpoint (batch ids from 0 again) gets a new key.
   */
  public String applicationId() {
    return landed.applicationId();
  }

  /** The Delta transaction version of this batch's writes: its batch id. */
  public long version() {
    return landed.batchId();
  }

  /** What this batch lands, as JSON: the userMetadata of each commit it makes. */
  public String userMetadata() {
    return landed.toJson();
  }

  /** The writer's table upkeep; appends note their tables themselves. */
  public TableUpkeep upkeep() {
    return upkeep;
  }

  /**
   * Appends the rows to the Delta table at the location, idempotently (keyed by {@link
   * #applicationId()} and {@link #version()}), recording this batch's offsets; rows the table
   * already holds (below the offsets its newest commit of this stream recorded when the stream
   * started) are left out. Commits even when nothing is left, so that every table records every
   * batch. Returns the rows it appends (those the table did not hold), lazily.
   */
  public Dataset<Row> append(Dataset<Row> rows, String location) {
    Dataset<Row> appended = rows.filter(notHeld(location));
    appended
        .write()
        .format("delta")
        .mode(SaveMode.Append)
        .option("txnAppId", applicationId())
        .option("txnVersion", version())
        .option("userMetadata", userMetadata())
        .save(location);
    upkeep.wrote(location);
    return appended;
  }

  /**
   * Whether a Delta application id is one of a stream's (any query of it, {@link
   * #applicationId()}).
   */
  public static boolean isApplicationIdOf(String stream, String applicationId) {
    return LandedBatch.isApplicationIdOf(stream, applicationId);
  }

  private Column notHeld(String location) {
    Map<TopicPartition, Long> offsets = held.getOrDefault(location, Map.of());
    Column keep = lit(true);
    for (Map.Entry<TopicPartition, Long> partition : offsets.entrySet()) {
      Column heldRecord =
          col(SOURCE_TOPIC)
              .equalTo(partition.getKey().topic())
              .and(col(SOURCE_PARTITION).equalTo(partition.getKey().partition()))
              .and(col(SOURCE_OFFSET).lt(partition.getValue()));
      keep = keep.and(not(coalesce(heldRecord, lit(false))));
    }
    return keep;
  }
}
