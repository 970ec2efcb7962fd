package io.lambdalake.ingestion.collector.internal;

import static java.util.Objects.requireNonNull;

/**
 * A Kafka record the collector sends: an accepted event to its routed topic, keyed by client ID so
 * that one client's events stay in order, or a rejected input to the quarantine topic.
 */
public record OutgoingRecord(Kind kind, String topic, byte[] key, byte[] value) {
  public OutgoingRecord {
    requireNonNull(kind, "kind is null");
    requireNonNull(topic, "topic is null");
    requireNonNull(key, "key is null");
    requireNonNull(value, "value is null");
  }

  public enum Kind {
    /** An accepted event: the request's answer waits for its acknowledgement. */
    EVENT,
    /** A rejected input, kept with its reason. */
    QUARANTINE
  }
}
