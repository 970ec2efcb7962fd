package io.lambdalake.ingestion.collector.internal;

import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;

/** Where the collector's records go: Kafka in production, a fake in unit tests. */
public interface EventSink {
  /**
   * Sends the records without blocking the caller, then calls {@code done} exactly once, on some
   * other thread, when every record was acknowledged or failed.
   */
  void publish(List<OutgoingRecord> records, Consumer<Delivery> done);

  /** Bytes of the producer buffer in use, and its size; zero for sinks without one. */
  default long bufferBytesInUse() {
    return 0;
  }

  default long bufferBytesTotal() {
    return 0;
  }

  /** Waits for records in flight up to the timeout, then releases everything. */
  void close(Duration timeout);
}
