package io.lambdalake.common.event;

import static java.util.Objects.requireNonNull;

/**
 * The fields of a quarantine record on the wire (the JSON in {@code events.quarantine}) and as
 * columns of {@code raw.quarantine}. Wire names are stable.
 */
public enum QuarantineField {
  SOURCE("source"),
  REASON("reason"),
  FIELD("field"),
  MESSAGE("message"),
  RECEIVED_AT("received_at"),
  ENDPOINT("endpoint"),
  INDEX("index"),
  TRACKING_ID("tracking_id"),
  CLIENT_IP("client_ip"),
  USER_AGENT("user_agent"),
  PAYLOAD("payload"),
  PAYLOAD_ENCODING("payload_encoding"),
  PAYLOAD_SIZE("payload_size"),
  PAYLOAD_TRUNCATED("payload_truncated");

  private final String wireName;

  QuarantineField(String wireName) {
    this.wireName = requireNonNull(wireName, "wireName is null");
  }

  public String wireName() {
    return wireName;
  }
}
